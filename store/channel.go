package store

// Channel is who moved the money of a journal record or a transaction:
// the campus account, or a third-party payment channel. It is stored as
// its text, the word field 44 carries to the terminal; "" is a record
// that moved no money through a channel (a sign-in, an inquiry).
type Channel string

// Payment channels.
const (
	ChannelCampus   Channel = "CAMPUS"   // the campus account (card, campus code, service API)
	ChannelAlipay   Channel = "ALIPAY"   // Alipay payment code
	ChannelWeChat   Channel = "WECHAT"   // WeChat Pay payment code
	ChannelUnionPay Channel = "UNIONPAY" // UnionPay QR payment code
)

// ThirdParty reports whether c is a third-party payment channel (the
// money is with the channel, not on the campus account).
func (c Channel) ThirdParty() bool {
	switch c {
	case ChannelAlipay, ChannelWeChat, ChannelUnionPay:
		return true
	}
	return false
}

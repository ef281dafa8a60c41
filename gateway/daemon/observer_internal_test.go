package daemon

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/txn"
	"ecardgw/metrics"
	"ecardgw/store"
)

// Every response code with a label of its own is reached from the engine's
// code of the same text; a code the centre invents is "other".
func TestResponseCodeLabels(t *testing.T) {
	for c := range metrics.RCOther {
		require.Equal(t, c, respCode(txn.RC(c.String())), c.String())
	}
	require.Equal(t, metrics.RCOther, respCode("05"))
	require.Equal(t, metrics.RCOther, respCode(""))
}

func TestChannelLabels(t *testing.T) {
	for ch, want := range map[store.Channel]metrics.Channel{
		store.ChannelCampus: metrics.ChannelCampus, store.ChannelAlipay: metrics.ChannelAlipay,
		store.ChannelWeChat: metrics.ChannelWeChat, store.ChannelUnionPay: metrics.ChannelUnionPay,
		"": metrics.ChannelOther, "PAYPAL": metrics.ChannelOther,
	} {
		require.Equal(t, want, channel(ch), string(ch))
		if want != metrics.ChannelOther {
			require.Equal(t, want, metrics.ClassifyChannel([]byte(ch)), "the label of field 44's text")
		}
	}
}

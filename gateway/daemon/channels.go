package daemon

import (
	"log/slog"

	"ecardgw/gateway/config"
	"ecardgw/gateway/paychan"
	"ecardgw/gateway/service"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// channelPayments puts the direct channel adapters (payments.wechat,
// payments.alipay) in front of the centre / payments.url: the engine then
// pays WeChat and Alipay codes directly and checks the payer's binding.
// Without a direct channel it returns fallback unchanged.
func channelPayments(cfg *config.Config, keys *config.Keys, db *store.DB, fallback txn.Payments, log *slog.Logger) (txn.Payments, error) {
	direct, err := paychan.Adapters(cfg, keys)
	if err != nil || len(direct) == 0 {
		return fallback, err
	}
	for ch := range direct {
		log.Info("payment channel direct", "channel", ch)
	}
	return paychan.New(db, direct, fallback, log), nil
}

// channelNotify serves the channels' top-up notifications on the service
// listener (standalone mode): WeChat's when payments.wechat has its app_id
// and mch_id and the key file its API key, Alipay's when payments.alipay
// has its app_id and the key file the Alipay public key.
func (d *Daemon) channelNotify(o *service.Options) error {
	if d.cfg.Mode == config.ModeConnected {
		return nil
	}
	ck := d.keys.Channels
	if w := d.cfg.Payments.WeChat; w.AppID != "" && w.MchID != "" && len(ck.WeChatAPIKey) > 0 {
		o.WeChatNotify = &service.WeChatNotify{AppID: w.AppID, MchID: w.MchID, APIKey: ck.WeChatAPIKey}
	}
	if a := d.cfg.Payments.Alipay; a.AppID != "" && len(ck.AlipayPublicKey) > 0 {
		_, pub, err := paychan.AlipayKeys(d.keys)
		if err != nil {
			return err
		}
		o.AlipayNotify = &service.AlipayNotify{AppID: a.AppID, Key: pub}
	}
	return nil
}

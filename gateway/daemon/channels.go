package daemon

import (
	"log/slog"

	"ecardgw/gateway/config"
	"ecardgw/gateway/paychan"
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

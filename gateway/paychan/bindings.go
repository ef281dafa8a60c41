// Package paychan puts the direct channel adapters (wechatpay, alipay)
// behind the engine's txn.Payments: Channels routes each trade to its
// channel's adapter (or to the centre / payments.url for channels without
// one, UnionPay QR always), and checks that the payer of a paid purchase
// is bound to a campus account, reversing the payment at the channel and
// answering PayNotBound (P1) when not. The binding registry is here too.
package paychan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"ecardgw/store"
)

// The registry lives in the store's service bucket (store.Tx.ServiceResult):
//
//	paybind  CHANNEL ":" payer    -> account (decimal), or "-" once unbound
//	payacct  account ":" CHANNEL  -> payer NUL bound-at (RFC 3339), or "-"
//
// One payer per channel per account, one account per payer.
const (
	kindBind  = "paybind"
	kindAcct  = "payacct"
	kindTrade = store.KindPayTrade // pruned with the request (store.Tx.PruneIdem)
	unbound   = "-"
)

// Errors of the registry.
var (
	// ErrBoundElsewhere: the payer is bound to another campus account.
	ErrBoundElsewhere = errors.New("paychan: payer is bound to another account")
	// ErrBadPayer: not a channel's payer id.
	ErrBadPayer = errors.New("paychan: bad payer id")
)

// Binding is one campus account's identity at one channel.
type Binding struct {
	Channel store.Channel
	Payer   string
	Account uint64
	Since   time.Time
}

// MaxPayer bounds a payer id (an openid is 28 characters, an Alipay user
// id 16, the newer open id up to 64).
const MaxPayer = 64

func checkPayer(ch store.Channel, payer string) error {
	if ch != store.ChannelWeChat && ch != store.ChannelAlipay {
		return fmt.Errorf("%w: channel %q has no bindings", ErrBadPayer, ch)
	}
	if payer == "" || len(payer) > MaxPayer {
		return fmt.Errorf("%w: 1 to %d characters", ErrBadPayer, MaxPayer)
	}
	for i := 0; i < len(payer); i++ {
		c := payer[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("%w: letters, digits, - and _ only", ErrBadPayer)
		}
	}
	return nil
}

// Bind binds payer at ch to account, replacing the account's earlier
// binding at ch. Binding the same pair again is a no-op.
func Bind(tx *store.Tx, ch store.Channel, payer string, account uint64, now time.Time) error {
	if err := checkPayer(ch, payer); err != nil {
		return err
	}
	cur, ok, err := Lookup(tx, ch, payer)
	if err != nil {
		return err
	}
	if ok && cur != account {
		return fmt.Errorf("%w (%d)", ErrBoundElsewhere, cur)
	}
	if ok {
		return nil
	}
	if _, err := Unbind(tx, ch, account); err != nil {
		return err
	}
	acct := strconv.FormatUint(account, 10)
	if err := tx.PutServiceResult(kindBind, string(ch)+":"+payer, []byte(acct)); err != nil {
		return err
	}
	return tx.PutServiceResult(kindAcct, acct+":"+string(ch), []byte(payer+"\x00"+now.UTC().Format(time.RFC3339)))
}

// Unbind removes account's binding at ch; it reports whether there was one.
func Unbind(tx *store.Tx, ch store.Channel, account uint64) (bool, error) {
	b, ok, err := BindingOf(tx, ch, account)
	if err != nil || !ok {
		return false, err
	}
	if err := tx.PutServiceResult(kindBind, string(ch)+":"+b.Payer, []byte(unbound)); err != nil {
		return false, err
	}
	return true, tx.PutServiceResult(kindAcct, strconv.FormatUint(account, 10)+":"+string(ch), []byte(unbound))
}

// Lookup returns the account payer at ch is bound to.
func Lookup(tx *store.Tx, ch store.Channel, payer string) (uint64, bool, error) {
	if checkPayer(ch, payer) != nil {
		return 0, false, nil
	}
	v, ok, err := tx.ServiceResult(kindBind, string(ch)+":"+payer)
	if err != nil || !ok || string(v) == unbound {
		return 0, false, err
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("paychan: binding of %s: %w", ch, store.ErrBadValue)
	}
	return n, true, nil
}

// BindingOf returns account's binding at ch.
func BindingOf(tx *store.Tx, ch store.Channel, account uint64) (Binding, bool, error) {
	v, ok, err := tx.ServiceResult(kindAcct, strconv.FormatUint(account, 10)+":"+string(ch))
	if err != nil || !ok || string(v) == unbound {
		return Binding{}, false, err
	}
	payer, since, _ := strings.Cut(string(v), "\x00")
	t, _ := time.Parse(time.RFC3339, since)
	return Binding{Channel: ch, Payer: payer, Account: account, Since: t}, true, nil
}

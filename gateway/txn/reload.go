package txn

import (
	"context"
	"errors"

	"ecardgw/gateway/campuscode"
)

// live is what a reload (SIGHUP) may change while requests run. The engine
// holds it behind an atomic pointer: a request reads one consistent set,
// and a setter replaces the whole set (copy on write).
type live struct {
	limits         Limits
	standIn        StandInLimits
	campus         *campuscode.Verifier
	lossBlocksCode bool
	wallet         WalletKeys
}

// WalletKeys are the small wallet's master load keys. A card reports in
// DF08 which version its load key was derived from; ByVersion holds the
// master key of each version, Default (when 16 bytes) that of every
// version not listed. Rotating the load key: add the new version,
// re-personalise the cards, then remove the old version.
type WalletKeys struct {
	Default   []byte
	ByVersion map[byte][]byte
}

func (w WalletKeys) key(version byte, reported bool) ([]byte, bool) {
	if reported {
		if k, ok := w.ByVersion[version]; ok && len(k) == 16 {
			return k, true
		}
	}
	if len(w.Default) == 16 {
		return w.Default, true
	}
	return nil, false
}

// update applies fn to a copy of the live settings and publishes it.
func (e *Engine) update(fn func(*live)) {
	e.liveSettingsMu.Lock()
	defer e.liveSettingsMu.Unlock()
	l := *e.live.Load()
	fn(&l)
	e.live.Store(&l)
}

// SetLimits replaces the amount limits (SIGHUP reload); the next request
// is checked against them. Zero TopUpMaxFen, WalletLimit and AdviceMaxFen
// take their defaults (99900, 1000 and 20000 fen).
func (e *Engine) SetLimits(l Limits) {
	if l.TopUpMaxFen <= 0 {
		l.TopUpMaxFen = 99900
	}
	if l.WalletLimit <= 0 {
		l.WalletLimit = 1000
	}
	if l.AdviceMaxFen <= 0 {
		l.AdviceMaxFen = 20000
	}
	e.update(func(s *live) { s.limits = l })
}

// Limits returns the amount limits in force.
func (e *Engine) Limits() Limits { return e.live.Load().limits }

func (e *Engine) limits() *Limits { return &e.live.Load().limits }

// SetStandIn replaces the stand-in limits (SIGHUP reload); zero values take
// their defaults (5000 and 20000 fen).
func (e *Engine) SetStandIn(l StandInLimits) {
	if l.PerTxnFen <= 0 {
		l.PerTxnFen = 5000
	}
	if l.PerAccountFen <= 0 {
		l.PerAccountFen = 20000
	}
	e.update(func(s *live) { s.standIn = l })
}

// StandIn returns the stand-in limits in force.
func (e *Engine) StandIn() StandInLimits { return e.live.Load().standIn }

func (e *Engine) standInLimits() *StandInLimits { return &e.live.Load().standIn }

// SetCampus replaces the campus-code verifier (issuer keys, validity,
// skew, algorithms; nil refuses campus codes) and whether a reported loss
// blocks campus codes (SIGHUP reload). Replay records are in the store and
// survive the change.
func (e *Engine) SetCampus(v *campuscode.Verifier, lossBlocksCode bool) {
	e.update(func(s *live) { s.campus, s.lossBlocksCode = v, lossBlocksCode })
}

// SetWalletKeys replaces the small wallet's master load keys (SIGHUP
// reload).
func (e *Engine) SetWalletKeys(w WalletKeys) {
	byVersion := make(map[byte][]byte, len(w.ByVersion))
	for v, k := range w.ByVersion {
		byVersion[v] = append([]byte(nil), k...)
	}
	w = WalletKeys{Default: append([]byte(nil), w.Default...), ByVersion: byVersion}
	e.update(func(s *live) { s.wallet = w })
}

// walletKey returns the master load key for the key version in a load's
// field 55 (DF08).
func (e *Engine) walletKey(f55 []byte) ([16]byte, bool) {
	var master [16]byte
	ver, reported := tlvValue(f55, tagKeyVersion, 1)
	var v byte
	if reported {
		v = ver[0]
	}
	k, ok := e.live.Load().wallet.key(v, reported)
	if !ok {
		return master, false
	}
	copy(master[:], k)
	return master, true
}

// EndSessions signs the terminals out, in the store and in memory (SIGHUP
// reload: their TMK changed, and the working keys their sign-in sent under
// the old TMK must not be used any more). Their next request is answered
// 77; they sign in under the new TMK. A terminal without a session is
// skipped.
func (e *Engine) EndSessions(ctx context.Context, ids []string) error {
	var errs []error
	for _, id := range ids {
		en, st, err := e.session(id)
		if err == nil && st != nil {
			err = e.endSession(ctx, en, id, st)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

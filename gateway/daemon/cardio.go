package daemon

import (
	"fmt"

	"ecardgw/cardio/reader"
	"ecardgw/gateway/localterm"
	"ecardgw/metrics"
)

// startCardIO runs the box's own PC/SC readers (cardio.enabled) as local
// terminals until Stop: a card on a desk reader is synced, a card on a
// settlement reader has its small wallet loaded, each through the engine.
func (d *Daemon) startCardIO() error {
	cc := d.cfg.CardIO
	if !cc.Enabled {
		return nil
	}
	var terms []localterm.Terminal
	var binds []reader.Binding
	for _, r := range cc.Readers {
		t, ok := d.cfg.Terminal(r.Terminal)
		if !ok {
			return fmt.Errorf("cardio.readers: terminal %s is not configured", r.Terminal)
		}
		tmk, ok := d.keys.TMK(r.Terminal)
		if !ok {
			return fmt.Errorf("keys: terminals.%s: no master key", r.Terminal)
		}
		terms = append(terms, localterm.Terminal{ID: t.ID, Merchant: t.Merchant, TMK: []byte(tmk)})
		binds = append(binds, reader.Binding{Pattern: r.Match, Terminal: r.Terminal, Role: reader.Role(r.Role)})
	}
	st, err := localterm.New(localterm.Options{Handle: d.Engine.Handle, Terminals: terms,
		WalletLimit: d.cfg.Limits.WalletLimitFen, Logger: d.log})
	if err != nil {
		return err
	}
	var mgr *reader.Manager
	mgr, err = reader.New(reader.Config{
		Bindings: binds,
		OnCard:   st.OnCard,
		OnState:  func(reader.ReaderInfo, reader.ReaderState) { d.readerGauges(mgr) },
		Logger:   d.log,
	})
	if err != nil {
		return err
	}
	d.runBG("card readers", mgr.Run)
	d.log.Info("card readers watched", "bindings", len(binds))
	return nil
}

// readerGauges sets ecardgw_cardio_readers{state} from the manager.
func (d *Daemon) readerGauges(mgr *reader.Manager) {
	if mgr == nil {
		return
	}
	var n [6]int
	for _, s := range mgr.States() {
		switch s {
		case reader.StateEmpty:
			n[metrics.ReaderEmpty]++
		case reader.StatePresent:
			n[metrics.ReaderPresent]++
		case reader.StateError:
			n[metrics.ReaderMute]++
		default:
			n[metrics.ReaderUnavailable]++
		}
	}
	for s := metrics.ReaderEmpty; s < metrics.ReaderOther; s++ {
		d.Metrics.SetReaders(s, n[s])
	}
}

package reader

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebfe/scard"
)

// pnpReader is pcsc-lite's pseudo-reader whose state changes when a
// reader is plugged in or out.
const pnpReader = `\\?PnP?\Notification`

// stateUnseen marks a reader listed but not yet observed, so its first
// observed state is always reported.
const stateUnseen ReaderState = -1

// Manager follows readers and cards. Create it with New and call Run.
type Manager struct {
	cfg     Config
	running atomic.Bool
	wg      sync.WaitGroup // card goroutines

	mu     sync.Mutex
	states map[string]ReaderState // snapshot for States

	// Owned by the Run goroutine only.
	readers map[string]*watched
}

type watched struct {
	info   ReaderInfo
	state  ReaderState
	flags  scard.StateFlag
	cancel context.CancelFunc // the card goroutine, while a card is in
}

// New validates cfg and returns a manager.
func New(cfg Config) (*Manager, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg, states: map[string]ReaderState{}, readers: map[string]*watched{}}, nil
}

// States returns the last reported state of every watched reader.
func (m *Manager) States() map[string]ReaderState {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]ReaderState, len(m.states))
	for k, v := range m.states {
		out[k] = v
	}
	return out
}

// Run follows readers until ctx ends, re-establishing the PC/SC context
// with backoff whenever pcscd goes away. It returns nil after ctx ends and
// every OnCard has returned.
func (m *Manager) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer m.running.Store(false)
	defer m.wg.Wait()

	backoff := m.cfg.MinBackoff
	for {
		established, err := m.session(ctx)
		m.dropAll(ctx.Err() == nil)
		if ctx.Err() != nil {
			return nil
		}
		if established {
			backoff = m.cfg.MinBackoff
		}
		if serviceLost(err) {
			m.cfg.Logger.Warn("pcscd unavailable, reconnecting", "err", err, "in", backoff)
		} else {
			m.cfg.Logger.Warn("pcsc error, reconnecting", "err", err, "in", backoff)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, m.cfg.MaxBackoff)
	}
}

// session runs one PC/SC context until it fails or ctx ends.
func (m *Manager) session(ctx context.Context) (established bool, err error) {
	sc, err := scard.EstablishContext()
	if err != nil {
		return false, err
	}
	defer sc.Release()
	// SCardCancel is the one call pcsc-lite allows from another thread.
	stop := context.AfterFunc(ctx, func() { _ = sc.Cancel() })
	defer stop()

	if err := m.refresh(sc); err != nil {
		return false, err
	}
	m.cfg.Logger.Info("pcsc context established", "readers", len(m.readers))

	usePnP := true
	pnp := scard.ReaderState{Reader: pnpReader}
	var rs []scard.ReaderState
	for ctx.Err() == nil {
		rs = rs[:0]
		if usePnP {
			rs = append(rs, pnp)
		}
		for name, w := range m.readers {
			rs = append(rs, scard.ReaderState{Reader: name, CurrentState: w.flags})
		}
		if len(rs) == 0 {
			// pcsc-lite without PnP support and no readers: nothing to
			// wait on but time.
			select {
			case <-ctx.Done():
			case <-time.After(m.cfg.Poll):
			}
			if err := m.refresh(sc); err != nil {
				return true, err
			}
			continue
		}
		err := sc.GetStatusChange(rs, m.cfg.Poll)
		switch {
		case ctx.Err() != nil:
			return true, ctx.Err()
		case errors.Is(err, scard.ErrTimeout):
			// Relisting on every quiet poll also covers pcsc-lite builds
			// without PnP notification.
			if err := m.refresh(sc); err != nil {
				return true, err
			}
			continue
		case errors.Is(err, scard.ErrUnknownReader):
			if err := m.refresh(sc); err != nil {
				return true, err
			}
			continue
		case err != nil:
			return true, err
		}
		relist := false
		for _, r := range rs {
			if r.Reader == pnpReader {
				if r.EventState&scard.StateUnknown != 0 {
					usePnP = false // not supported: fall back to polling
					continue
				}
				relist = r.EventState&scard.StateChanged != 0 && pnp.CurrentState != r.EventState&^scard.StateChanged
				pnp.CurrentState = r.EventState &^ scard.StateChanged
				continue
			}
			m.observe(ctx, r)
		}
		if relist {
			if err := m.refresh(sc); err != nil {
				return true, err
			}
		}
	}
	return true, ctx.Err()
}

// refresh lists readers: new matching readers are watched, vanished ones
// reported absent.
func (m *Manager) refresh(sc *scard.Context) error {
	names, err := sc.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) {
		names, err = nil, nil
	}
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		seen[n] = true
		if _, ok := m.readers[n]; ok {
			continue
		}
		if info, ok := m.cfg.match(n); ok {
			m.readers[n] = &watched{info: info, state: stateUnseen}
		}
	}
	for n, w := range m.readers {
		if !seen[n] {
			m.stopCard(w)
			if w.state != stateUnseen {
				m.report(w.info, StateAbsent)
			}
			delete(m.readers, n)
		}
	}
	return nil
}

// observe applies one reader's new event state.
func (m *Manager) observe(ctx context.Context, r scard.ReaderState) {
	w, ok := m.readers[r.Reader]
	if !ok {
		return
	}
	prev := w.flags
	w.flags = r.EventState &^ scard.StateChanged
	st := fromFlags(w.flags)
	if st == w.state {
		// pcsc-lite counts card insertions and removals in the high 16
		// bits: a card swapped between two waits is still "present" but
		// is another card.
		if st == StatePresent && prev>>16 != w.flags>>16 {
			m.stopCard(w)
			m.startCard(ctx, w)
		}
		return
	}
	w.state = st
	if st != StatePresent {
		m.stopCard(w)
	}
	m.report(w.info, st)
	if st == StatePresent {
		m.startCard(ctx, w)
	}
}

func (m *Manager) report(info ReaderInfo, st ReaderState) {
	m.mu.Lock()
	if st == StateAbsent {
		delete(m.states, info.Name)
	} else {
		m.states[info.Name] = st
	}
	m.mu.Unlock()
	if m.cfg.OnState != nil {
		m.cfg.OnState(info, st)
	}
}

// dropAll forgets every reader after the context was lost; with report,
// each is reported in error until the next context sees it again.
func (m *Manager) dropAll(report bool) {
	for n, w := range m.readers {
		m.stopCard(w)
		if report && w.state != stateUnseen {
			m.report(w.info, StateError)
		}
		delete(m.readers, n)
	}
}

func (m *Manager) stopCard(w *watched) {
	if w.cancel != nil {
		w.cancel()
		w.cancel = nil
	}
}

func (m *Manager) startCard(ctx context.Context, w *watched) {
	cctx, cancel := context.WithCancel(ctx)
	w.cancel = cancel
	info := w.info
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer cancel()
		m.handleCard(cctx, info)
	}()
}

// handleCard connects to the card with its own PC/SC context and runs
// OnCard. Exclusive mode keeps other PC/SC programs from interleaving
// commands with a load; it is held only while OnCard runs.
func (m *Manager) handleCard(ctx context.Context, info ReaderInfo) {
	sc, err := scard.EstablishContext()
	if err != nil {
		m.cfg.Logger.Warn("pcsc context for card", "reader", info.Name, "err", err)
		return
	}
	defer sc.Release()
	card, err := connect(ctx, sc, info.Name)
	if err != nil {
		m.cfg.Logger.Warn("connect to card", "reader", info.Name, "err", err)
		return
	}
	defer card.Disconnect(scard.LeaveCard)
	m.cfg.OnCard(ctx, info, NewTransmitter(card))
}

// connectTries bounds retrying a connect refused because the handler of
// the previous card (swapped out) still holds the reader exclusively.
const connectTries = 10

func connect(ctx context.Context, sc *scard.Context, name string) (*scard.Card, error) {
	for i := 1; ; i++ {
		card, err := sc.Connect(name, scard.ShareExclusive, scard.ProtocolAny)
		if !errors.Is(err, scard.ErrSharingViolation) || i == connectTries {
			return card, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Probe establishes and releases one PC/SC context: it fails with
// ErrNoPCSCD when pcscd does not answer (not installed, not running, or its
// socket elsewhere), so that a command can say so instead of waiting for
// a service that is not there. Run, in contrast, waits for pcscd to come
// back, as a daemon should.
func Probe() error {
	sc, err := scard.EstablishContext()
	if err != nil {
		if serviceLost(err) {
			return fmt.Errorf("%w (%v)", ErrNoPCSCD, err)
		}
		return fmt.Errorf("reader: PC/SC: %w", err)
	}
	return sc.Release()
}

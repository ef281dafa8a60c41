package reader

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"time"

	"ecardgw/cardio/apdu"
)

// Role says what a reader is for.
type Role string

const (
	// RoleDesk is a service desk: read the card, sync it.
	RoleDesk Role = "desk"
	// RoleSettlement is a settlement station: small-wallet loads.
	RoleSettlement Role = "settlement"
)

// Binding maps readers whose name matches Pattern (path.Match syntax, so
// "ACS ACR122U*" or an exact name) to a terminal id and a role. The first
// matching binding wins.
type Binding struct {
	Pattern  string
	Terminal string
	Role     Role
}

// ReaderInfo is a reader as the callbacks see it.
type ReaderInfo struct {
	Name     string
	Terminal string
	Role     Role
}

// Config configures a Manager.
type Config struct {
	// Bindings select the readers to watch; nil watches every reader as a
	// desk without a terminal id (for `ecardgw cards watch`).
	Bindings []Binding
	// OnState is told every reader state change. It runs on the monitor
	// goroutine: keep it short.
	OnState func(ReaderInfo, ReaderState)
	// OnCard runs in its own goroutine for every card that arrives. ctx
	// ends when the card leaves or the manager stops; the transmitter is
	// valid until OnCard returns.
	OnCard func(ctx context.Context, r ReaderInfo, card apdu.Transmitter)
	// Backoff bounds for re-establishing the PC/SC context after pcscd
	// went away; defaults 100 ms and 5 s.
	MinBackoff, MaxBackoff time.Duration
	// Poll bounds one SCardGetStatusChange wait, so a dead daemon that
	// never wakes the call is noticed; default 2 s.
	Poll time.Duration
	// Logger gets service losses and connect failures; nil discards.
	Logger *slog.Logger
}

func (c *Config) validate() error {
	if c.OnCard == nil {
		return fmt.Errorf("%w: OnCard is required", ErrConfig)
	}
	for i, b := range c.Bindings {
		if _, err := path.Match(b.Pattern, ""); err != nil || b.Pattern == "" {
			return fmt.Errorf("%w: binding %d: bad reader pattern", ErrConfig, i)
		}
		if b.Role != RoleDesk && b.Role != RoleSettlement {
			return fmt.Errorf("%w: binding %d: role must be %q or %q", ErrConfig, i, RoleDesk, RoleSettlement)
		}
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(5*time.Second, c.MinBackoff)
	}
	if c.Poll <= 0 {
		c.Poll = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// match returns the reader's info and whether the manager watches it.
func (c *Config) match(name string) (ReaderInfo, bool) {
	if c.Bindings == nil {
		return ReaderInfo{Name: name, Role: RoleDesk}, true
	}
	for _, b := range c.Bindings {
		if ok, _ := path.Match(b.Pattern, name); ok {
			return ReaderInfo{Name: name, Terminal: b.Terminal, Role: b.Role}, true
		}
	}
	return ReaderInfo{}, false
}

package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// closers is the daemon's one cleanup path. Each resource registers how
// to release it as soon as it is acquired (the store, the upstream
// connections, the engine, the listeners, the background tasks); run
// releases them in the reverse order. A failed New or Start runs it, so a
// partial start leaves nothing open, and so does Stop.
type closers struct {
	mu   sync.Mutex
	list []closer
}

type closer struct {
	what string // names the step in a returned error
	fn   func(context.Context) error
}

// add registers fn to release a resource just acquired.
func (c *closers) add(what string, fn func(context.Context) error) {
	c.mu.Lock()
	c.list = append(c.list, closer{what: what, fn: fn})
	c.mu.Unlock()
}

// run releases everything registered, the last first, and forgets it.
// Every closer runs, whatever the others return; ctx bounds those that
// wait for work in flight.
func (c *closers) run(ctx context.Context) error {
	c.mu.Lock()
	list := c.list
	c.list = nil
	c.mu.Unlock()
	var errs []error
	for i := len(list) - 1; i >= 0; i-- {
		if err := list[i].fn(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", list[i].what, err))
		}
	}
	return errors.Join(errs...)
}

// release runs the closers with the shutdown timeout.
func (d *Daemon) release() error {
	ctx, cancel := context.WithTimeout(context.Background(), d.opts.ShutdownTimeout)
	defer cancel()
	return d.cleanup.run(ctx)
}

// abandon releases what a failed New or Start acquired and returns err,
// joined with whatever the release itself failed at.
func (d *Daemon) abandon(err error) error {
	d.stopOnce.Do(func() { d.stopErr = d.release() })
	if d.stopErr != nil {
		return errors.Join(err, fmt.Errorf("releasing after the failure: %w", d.stopErr))
	}
	return err
}

// runBG runs fn until the daemon stops: its closer cancels fn's context
// and waits for fn to return.
func (d *Daemon) runBG(what string, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			d.log.Error(what+" stopped", "err", err)
		}
	}()
	d.cleanup.add(what, func(context.Context) error {
		cancel()
		<-done
		return nil
	})
}

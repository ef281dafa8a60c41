package posim

import (
	"fmt"
	"time"
)

// progress prints the live line once a second until the returned stop is
// called; it also closes the per-second windows of the timeline, so it
// runs with or without a writer.
func (r *runner) progress(t0 time.Time) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var answers, errors int64
		for {
			select {
			case <-quit:
				if r.opts.Progress != nil && r.opts.TTY {
					fmt.Fprintln(r.opts.Progress)
				}
				return
			case now := <-tick.C:
				s := r.col.tick(now)
				answers += s.Answers
				errors += s.Errors
				if r.opts.Progress != nil {
					r.printLine(s, answers, errors)
				}
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

func (r *runner) printLine(s Sample, answers, errors int64) {
	line := fmt.Sprintf("%5.0fs  %7.0f/s  answers %9d  errors %6d  p50 %7.2f ms  p99 %8.2f ms",
		s.At, s.Rate, answers, errors, s.P50, s.P99)
	if r.opts.TTY {
		fmt.Fprintf(r.opts.Progress, "\r%s\x1b[K", line)
		return
	}
	fmt.Fprintln(r.opts.Progress, line)
}

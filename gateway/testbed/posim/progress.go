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
	line := progressLine(s, answers, errors, r.opts.Duration, r.opts.Count)
	if r.opts.TTY {
		fmt.Fprintf(r.opts.Progress, "\r%s\x1b[K", line)
		return
	}
	fmt.Fprintln(r.opts.Progress, line)
}

// progressLine is the live line: elapsed of total time (and the share
// done, by time or by count, whichever is further), rate, answers (of the
// count, with --count), errors, p50 and p99 of the last second.
func progressLine(s Sample, answers, errors int64, total time.Duration, count int64) string {
	elapsed := time.Duration(s.At * float64(time.Second)).Round(time.Second)
	done := 0.0
	if total > 0 {
		done = min(1, float64(elapsed)/float64(total))
	}
	ans := fmt.Sprintf("answers %9d", answers)
	if count > 0 {
		ans = fmt.Sprintf("answers %9d/%d", answers, count)
		done = max(done, min(1, float64(answers)/float64(count)))
	}
	return fmt.Sprintf("%7s/%s %3.0f%%  %7.0f/s  %s  errors %6d  p50 %7.2f ms  p99 %8.2f ms",
		elapsed, total.Round(time.Second), 100*done, s.Rate, ans, errors, s.P50, s.P99)
}

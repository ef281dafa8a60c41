package posim

import (
	"math"
	"time"
)

// Pacing with a think time: terminal i of n sends its k-th request at
// start + Phase(i, n, think) + k·think. The phases spread the terminals
// evenly over one think interval, so the offered rate is n/think from the
// first second instead of n requests at once every think.
//
// Latency in paced mode is measured from the scheduled send time, not
// from when the request actually left: a terminal that is still waiting
// for a slow answer when its next request is due sends late, and that
// wait is part of what a person at the till experiences. Measuring from
// the actual send would hide a stall (coordinated omission).

// OfferedRate is the request rate n terminals offer with a think time.
func OfferedRate(terminals int, think time.Duration) float64 {
	if think <= 0 || terminals <= 0 {
		return 0
	}
	return float64(terminals) / think.Seconds()
}

// ThinkFor is the think time that makes n terminals offer rate req/s,
// rounded to the microsecond.
func ThinkFor(terminals int, rate float64) time.Duration {
	if rate <= 0 || terminals <= 0 {
		return 0
	}
	us := math.Round(float64(terminals) / rate * 1e6)
	return time.Duration(us) * time.Microsecond
}

// Phase is terminal i's offset into the first think interval.
func Phase(i, terminals int, think time.Duration) time.Duration {
	if terminals <= 0 {
		return 0
	}
	return time.Duration(int64(think) * int64(i%terminals) / int64(terminals))
}

// SendAt is when terminal i's k-th request is due.
func SendAt(start time.Time, i, terminals int, think time.Duration, k int64) time.Time {
	return start.Add(Phase(i, terminals, think) + time.Duration(k)*think)
}

// ScheduledIn is how many requests n terminals with think time are
// scheduled to send in the first d: what a paced run should reach.
func ScheduledIn(terminals int, think, d time.Duration) int64 {
	var total int64
	if think <= 0 {
		return 0
	}
	for i := range terminals {
		ph := Phase(i, terminals, think)
		if ph < d {
			total += int64((d-ph-1)/think) + 1
		}
	}
	return total
}

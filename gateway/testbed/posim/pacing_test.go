package posim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPacingMath(t *testing.T) {
	cases := []struct {
		terminals int
		think     time.Duration
		rate      float64
	}{
		{5000, time.Second, 5000},
		{10000, 2 * time.Second, 5000},
		{100, 250 * time.Millisecond, 400},
		{1, time.Minute, 1.0 / 60},
	}
	for _, c := range cases {
		require.InDelta(t, c.rate, OfferedRate(c.terminals, c.think), 1e-9, "%d/%v", c.terminals, c.think)
		require.Equal(t, c.think, ThinkFor(c.terminals, c.rate), "%d at %v/s", c.terminals, c.rate)
	}
	require.Zero(t, OfferedRate(10, 0))
	require.Zero(t, ThinkFor(10, 0))
}

func TestPhasesSpreadOneInterval(t *testing.T) {
	think := time.Second
	require.Zero(t, Phase(0, 4, think))
	require.Equal(t, 250*time.Millisecond, Phase(1, 4, think))
	require.Equal(t, 750*time.Millisecond, Phase(3, 4, think))
	start := time.Unix(1_800_000_000, 0)
	require.Equal(t, start.Add(2*time.Second+500*time.Millisecond), SendAt(start, 2, 4, think, 2))

	// Every window of one think time holds each terminal exactly once:
	// the offered rate is flat from the first second.
	require.Equal(t, int64(4), ScheduledIn(4, think, think))
	require.Equal(t, int64(40), ScheduledIn(4, think, 10*think))
	require.Equal(t, int64(2), ScheduledIn(4, think, 500*time.Millisecond))
	require.Equal(t, int64(3), ScheduledIn(4, think, 501*time.Millisecond))
	require.Zero(t, ScheduledIn(4, 0, think))
}

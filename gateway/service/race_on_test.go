//go:build race

package service

// latencyScale stretches the latency bounds of the tests under the race
// detector, which runs this code several times slower and unevenly: a
// bound there still catches a POS held for a whole import (seconds), not
// the detector's own pauses.
const latencyScale = 5

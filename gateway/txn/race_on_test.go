//go:build race

package txn_test

// raceEnabled: under the race detector sync.Pool drops a share of what is
// put back on purpose, so the engine's pooled work is allocated again at
// random and allocation counts are only roughly comparable.
const raceEnabled = true

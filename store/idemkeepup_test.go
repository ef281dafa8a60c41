package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// The logs keep their size under a load whose merges span many commits,
// the proportions of the benchmark's gateway (1,000 terminals, groups of
// 160, the default idemMergeAt): the fullest range, about a quarter of
// idemMergeAt, takes tens of commits to merge, and the keys its range is
// sent meanwhile come back in later rounds. TestIdemMergesKeepUpWithTheLoad's
// merges end within a commit or two. Merging the first round at a quarter
// more than each commit logs, the logs held ~50,000 keys after 240,000
// and grew on.
func TestIdemMergesKeepUpWhenAMergeSpansManyCommits(t *testing.T) {
	const at, perCommit, terminals, commits = 16384, 160, 1000, 1500
	db, _ := openTest(t, Options{mergeAt: at, mergeStep: 4})
	stan := make([]uint32, terminals)
	most, n := 0, 0
	for c := range commits {
		update(t, db, func(tx *Tx) error {
			for i := range perCommit {
				term := (c*perCommit + i) % terminals
				stan[term]++
				k := IdemKey{Terminal: fmt.Sprintf("T%07d", term+1), Batch: 1, STAN: stan[term], MTI: 200}
				if err := tx.PutIdem(k, []byte("answer")); err != nil {
					return err
				}
			}
			return nil
		})
		n = db.IdemLogged()
		most = max(most, n)
	}
	t.Logf("logs: at most %d keys, %d at the end", most, n)
	require.Less(t, most, 2*at+4*perCommit, "the logs grew with the load")
}

// IdemLogged counts what the logs hold: each new key once, a key logged
// again not twice, nothing after the logs are merged.
func TestIdemLoggedCountsTheLogs(t *testing.T) {
	db, _ := openTest(t, Options{})
	require.Zero(t, db.IdemLogged())
	update(t, db, func(tx *Tx) error {
		for s := uint32(1); s <= 5; s++ {
			if err := tx.PutIdem(IdemKey{Terminal: "T0000001", Batch: 1, STAN: s, MTI: 200}, []byte("answer")); err != nil {
				return err
			}
		}
		return nil
	})
	require.Equal(t, 5, db.IdemLogged())
	update(t, db, func(tx *Tx) error {
		return tx.PutIdem(IdemKey{Terminal: "T0000001", Batch: 1, STAN: 5, MTI: 200}, []byte("answer 2"))
	})
	require.Equal(t, 5, db.IdemLogged())
	require.NoError(t, db.MergeIdemLogs(t.Context()))
	require.Zero(t, db.IdemLogged())
}

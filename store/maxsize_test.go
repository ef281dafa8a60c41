package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// A full store (the cap reached) refuses writes that grow the file and
// accepts them again once the cap is raised, without reopening.
func TestSetMaxSizeFullThenRecovered(t *testing.T) {
	db, _ := openTest(t, Options{MaxSize: 1 << 20})
	big := make([]byte, 256<<10)
	var full error
	for i := range 8 {
		if full = db.Update(t.Context(), func(tx *Tx) error { return tx.PutMeta(fmt.Sprint("big", i), big) }); full != nil {
			break
		}
	}
	require.Error(t, full, "8 x 256 KiB cannot fit in 1 MiB")
	require.NoError(t, db.SetMaxSize(0))
	update(t, db, func(tx *Tx) error { return tx.PutMeta("after", big) })
	view(t, db, func(tx *Tx) error {
		v, err := tx.Meta("after")
		require.Len(t, v, len(big))
		return err
	})
	require.NoError(t, db.SetMaxSize(-1), "negative means no limit")
}

package cli

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

// seedMixed journals 30 records: record i is terminal T0000001 or
// T0000002 (odd, even), account 1..3 (i mod 3 + 1), and answered 00,
// except every fifth (51) and every seventh (77).
func seedMixed(t *testing.T, dbPath string) {
	t.Helper()
	db, err := store.Open(dbPath, store.Options{})
	require.NoError(t, err)
	require.NoError(t, db.Update(context.Background(), func(tx *store.Tx) error {
		for i := 1; i <= 30; i++ {
			r := opsRecord(i)
			if i%2 == 0 {
				r.Key.Terminal = "T0000002"
			}
			r.Account = uint64(i%3 + 1)
			switch {
			case i%7 == 0:
				r.Resp = "77"
			case i%5 == 0:
				r.Resp = "51"
			}
			if _, err := tx.AppendJournal(r); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, db.Close())
}

// TestJournalFilters: tail and export select by terminal, account and
// response code, the same from the store file and through the gateway.
func TestJournalFilters(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedMixed(t, db)
	cases := []struct {
		args []string
		tail []string // the last 3 that match
		all  []string // every match
	}{
		{[]string{"--terminal", "T0000002"}, []string{"26", "28", "30"},
			[]string{"2", "4", "6", "8", "10", "12", "14", "16", "18", "20", "22", "24", "26", "28", "30"}},
		{[]string{"--account", "1"}, []string{"24", "27", "30"}, []string{"3", "6", "9", "12", "15", "18", "21", "24", "27", "30"}},
		{[]string{"--resp", "77"}, []string{"14", "21", "28"}, []string{"7", "14", "21", "28"}},
		{[]string{"--resp", "51,77"}, []string{"25", "28", "30"}, []string{"5", "7", "10", "14", "15", "20", "21", "25", "28", "30"}},
		{[]string{"--resp", "declined", "--terminal", "T0000001"}, []string{"15", "21", "25"}, []string{"5", "7", "15", "21", "25"}},
		{[]string{"--terminal", "T0000001", "--account", "2", "--resp", "00"}, []string{"1", "13", "19"}, []string{"1", "13", "19"}},
	}
	check := func(admin string) {
		for _, c := range cases {
			base := []string{"--config", cfg}
			if admin != "" {
				base = append(base, "--admin", admin)
			}
			code, out, errOut := runCLI(t, append(append([]string{"journal", "tail", "-n", "3"}, base...), c.args...)...)
			require.Equal(t, 0, code, errOut)
			require.Equal(t, c.tail, seqsOf(out), "tail %v (%q)", c.args, admin)
			code, out, errOut = runCLI(t, append(append([]string{"journal", "export", "--since", "1", "--format", "json"}, base...), c.args...)...)
			require.Equal(t, 0, code, errOut)
			var seqs []string
			for _, line := range splitLines(out) {
				seqs = append(seqs, jsonSeq(t, line))
			}
			require.Equal(t, c.all, seqs, "export %v (%q)", c.args, admin)
		}
	}
	check("")
	_, addr := startOpsDaemon(t, cfg)
	check(addr)

	for _, bad := range [][]string{{"--terminal", "T1"}, {"--account", "x"}, {"--resp", "7"}} {
		code, _, errOut := runCLI(t, append([]string{"journal", "tail", "--config", cfg}, bad...)...)
		require.Equal(t, 2, code, "%v: %s", bad, errOut)
	}
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func jsonSeq(t *testing.T, line string) string {
	t.Helper()
	var rec struct {
		Seq uint64 `json:"seq"`
	}
	require.NoError(t, json.Unmarshal([]byte(line), &rec))
	return strconv.FormatUint(rec.Seq, 10)
}

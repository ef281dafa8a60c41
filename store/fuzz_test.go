package store

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fuzz targets decode arbitrary bytes (never a panic) and check that
// whatever decodes re-encodes to the same bytes: the encoding is
// canonical, so a stored value cannot mean two things.
//
// Seeds live in testdata/fuzz/<Target>/ (valid values of every kind);
// go test -run TestFuzzSeeds -update-seeds rewrites them after an encoding
// change.

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz seed files")

func seedValues(t testing.TB) map[string][][]byte {
	acct := sampleAccount(1001, "000000001234")
	empty := Account{No: 1}
	reversed := sampleAccount(1002, "000000001235")
	reversed.Wallet.LastLoad = IdemKey{Terminal: "S0000001", Batch: 2, STAN: 7, MTI: 200}
	reversed.Wallet.Reversed = &ReversedLoad{Key: reversed.Wallet.LastLoad, Counter: 4, Amount: 500}
	rec := sampleRecord(7, 3)
	rec.Seq = 9
	rec2 := rec
	rec2.Orig = &IdemKey{Terminal: "T0000001", Batch: 1, STAN: 2, MTI: 200}
	rec2.StandIn = true
	txn := TxnState{Account: 7, Amount: 100, Refunded: 50, Kind: "purchase", Channel: "CAMPUS", Time: t0, RRN: "000000000001"}
	sess := Session{PIK: []byte("0123456789abcdef"), MAK: []byte("fedcba9876543210"), Batch: 3, BatchOpen: true, SignedIn: t0, BlacklistVersion: 2}
	batch := BatchTotals{DebitFen: 1000, DebitCount: 3, CreditFen: 10, CreditCount: 1}
	must := func(b []byte, err error) []byte {
		require.NoError(t, err)
		return b
	}
	key := must(IdemKey{Terminal: "T0000001", Batch: 1, STAN: 2, MTI: 200}.appendKey(nil))
	return map[string][][]byte{
		"FuzzDecodeAccount":      {must(appendAccount(nil, &acct)), must(appendAccount(nil, &empty)), must(appendAccount(nil, &reversed)), accountV2Of(must(appendAccount(nil, &acct)))},
		"FuzzDecodeRecord":       {must(appendRecord(nil, &rec)), must(appendRecord(nil, &rec2))},
		"FuzzDecodeTxnState":     {must(appendTxnState(nil, &txn))},
		"FuzzDecodeSessionPlain": {must(appendSessionPlain(nil, &sess))},
		"FuzzDecodeBatchTotals":  {must(appendBatchTotals(nil, &batch))},
		"FuzzParseIdemKey":       {key},
		"FuzzDecodeSmall":        {{idemV2, 0, 2, 1, 2, 0}, {tombV1, 0, 0, 0, 0, 0, 0, 0, 1}, {replayV1, 0, 0, 0, 0, 0, 0, 0, 1}, append(append([]byte{idemV3}, make([]byte, 16)...), 0, 2, 1, 2, 0)},
	}
}

func seedPath(target string, i int) string {
	return filepath.Join("testdata", "fuzz", target, fmt.Sprintf("seed-%d", i))
}

// TestFuzzSeeds keeps the seed files equal to what the encoders write now.
func TestFuzzSeeds(t *testing.T) {
	for target, vals := range seedValues(t) {
		for i, v := range vals {
			want := "go test fuzz v1\n[]byte(" + strconv.Quote(string(v)) + ")\n"
			p := seedPath(target, i)
			if *updateSeeds {
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(t, os.WriteFile(p, []byte(want), 0o644))
				continue
			}
			got, err := os.ReadFile(p)
			require.NoError(t, err, "run: go test -run TestFuzzSeeds -update-seeds ./store/")
			require.Equal(t, want, string(got), p)
		}
	}
}

// accountV2Of turns the version 3 encoding of an account with no wallet
// load recorded into the version 2 encoding stores written before it.
func accountV2Of(v3 []byte) []byte {
	v2 := append([]byte{accountV2}, v3[1:len(v3)-3]...)
	return v2
}

func FuzzDecodeAccount(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Account
		if decodeAccount(b, &a) != nil {
			return
		}
		out, err := appendAccount(nil, &a)
		require.NoError(t, err)
		if b[0] == accountV2 {
			// Read as version 3 with no load recorded.
			b = append(append([]byte{accountV3}, b[1:]...), 0, 0, 0)
		}
		require.Equal(t, b, out)
	})
}

func FuzzDecodeRecord(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Record
		if decodeRecord(b, &r) != nil {
			return
		}
		out, err := appendRecord(nil, &r)
		require.NoError(t, err)
		require.Equal(t, b, out)
	})
}

func FuzzDecodeTxnState(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var s TxnState
		if decodeTxnState(b, &s) != nil {
			return
		}
		out, err := appendTxnState(nil, &s)
		require.NoError(t, err)
		require.Equal(t, b, out)
	})
}

func FuzzDecodeSessionPlain(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Session
		if decodeSessionPlain(b, &s) != nil {
			return
		}
		out, err := appendSessionPlain(nil, &s)
		require.NoError(t, err)
		require.Equal(t, b, out)
	})
}

func FuzzDecodeBatchTotals(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var s BatchTotals
		if decodeBatchTotals(b, &s) != nil {
			return
		}
		out, err := appendBatchTotals(nil, &s)
		require.NoError(t, err)
		require.Equal(t, b, out)
	})
}

func FuzzParseIdemKey(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := parseIdemKey(b)
		if err != nil {
			return
		}
		out, err := k.appendKey(nil)
		require.NoError(t, err)
		require.Equal(t, b, out)
	})
}

// FuzzDecodeSmall covers the one-field values: idempotency answers,
// tombstones, replay expiries.
func FuzzDecodeSmall(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, err := decodeIdemValue(b); err == nil {
			// A decoded value re-encodes to the same bytes.
			e := enc{}
			appendIdemValue(&e, &v)
			if b[0] == idemV2 {
				// Read as version 3 with a zero fingerprint.
				b = append(append([]byte{idemV3}, make([]byte, len(v.fp))...), b[1:]...)
			}
			require.Equal(t, b, e.b)
		}
		if _, err := decodeTombstone(b); err == nil {
			require.Len(t, b, 9)
		}
		if _, err := decodeReplay(b); err == nil {
			require.Len(t, b, 9)
		}
	})
}

// FuzzUnsealSession feeds arbitrary sealed values to Session: an error,
// never a panic, and never success (forging needs the key).
func FuzzUnsealSession(f *testing.F) {
	f.Add([]byte{sealedV1})
	f.Add(bytes.Repeat([]byte{sealedV1}, 1+nonceSize+16+8))
	path := filepath.Join(f.TempDir(), "fuzz.db")
	db, err := Open(path, Options{StorageKey: testKey, SkipCheck: true})
	require.NoError(f, err)
	f.Cleanup(func() { _ = db.Close() })
	f.Fuzz(func(t *testing.T, v []byte) {
		s := Session{Terminal: "T0000001"}
		err := db.unsealSession(v, &s)
		require.Error(t, err)
		require.False(t, strings.Contains(err.Error(), "0123456789abcdef"))
	})
}

// TestCorruptValueInFileIsError: a damaged value read through a Tx is an
// error naming no value, not a panic.
func TestCorruptValueInFileIsError(t *testing.T) {
	db, _ := openTest(t, Options{})
	a := sampleAccount(5, "000000000005")
	update(t, db, func(tx *Tx) error { return tx.PutAccount(&a) })
	update(t, db, func(tx *Tx) error {
		return tx.btx.Bucket(bktAccounts).Put(u64key(5), []byte{accountV2, 1, 2})
	})
	err := db.View(func(tx *Tx) error {
		_, _, err := tx.AccountByCard("000000000005")
		return err
	})
	require.ErrorIs(t, err, ErrCorruptValue)
	require.NotContains(t, err.Error(), "000000000005")
}

// FuzzBlacklistEntry stores arbitrary bytes as a blacklist entry (in a
// transaction that is rolled back, so no fsync per input) and reads it
// back: an error or the entry, never a panic; a valid entry reads back as
// written.
func FuzzBlacklistEntry(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1, '1', '2'})
	f.Add([]byte{2})
	db, err := Open(filepath.Join(f.TempDir(), "fuzz.db"), Options{SkipCheck: true})
	require.NoError(f, err)
	f.Cleanup(func() { _ = db.Close() })
	f.Fuzz(func(t *testing.T, v []byte) {
		btx, err := db.bolt.Begin(true)
		require.NoError(t, err)
		defer func() { _ = btx.Rollback() }()
		b, err := btx.CreateBucketIfNotExists(bktBlacklist)
		require.NoError(t, err)
		require.NoError(t, b.Put([]byte{0, 0, 0, 1}, v))
		tx := &Tx{btx: btx, db: db}
		var card string
		_, err = tx.BlacklistSince(0, 10, func(_ uint32, c string, _ bool) error {
			card = c
			return nil
		})
		if err != nil {
			require.ErrorIs(t, err, ErrCorruptValue)
			return
		}
		require.Equal(t, string(v[9:]), card)
	})
}

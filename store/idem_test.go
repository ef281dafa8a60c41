package store

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIdem(t *testing.T) {
	db, _ := openTest(t, Options{})
	k := IdemKey{Terminal: "T0000001", Batch: 2, STAN: 17, MTI: 200}
	answer := []byte{0x00, 0x30, 0x60, 0x01, 0x02}
	update(t, db, func(tx *Tx) error { return tx.PutIdem(k, answer) })
	view(t, db, func(tx *Tx) error {
		got, ok, err := tx.Idem(k)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, answer, got)
		for _, other := range []IdemKey{
			{Terminal: "T0000002", Batch: 2, STAN: 17, MTI: 200},
			{Terminal: "T0000001", Batch: 3, STAN: 17, MTI: 200},
			{Terminal: "T0000001", Batch: 2, STAN: 18, MTI: 200},
			{Terminal: "T0000001", Batch: 2, STAN: 17, MTI: 400},
		} {
			_, ok, err := tx.Idem(other)
			require.NoError(t, err)
			require.False(t, ok, "%+v", other)
		}
		return nil
	})
}

func TestIdemKeyEncoding(t *testing.T) {
	k := IdemKey{Terminal: "T1", Batch: 0x01020304, STAN: 999999, MTI: 220}
	b, err := k.appendKey(nil)
	require.NoError(t, err)
	require.Len(t, b, IdemKeySize)
	got, err := parseIdemKey(b)
	require.NoError(t, err)
	require.Equal(t, k, got)
	for _, bad := range []string{"", strings.Repeat("x", TerminalMax+1), "T\x001"} {
		_, err := IdemKey{Terminal: bad}.appendKey(nil)
		require.ErrorIs(t, err, ErrBadKey)
	}
	_, err = parseIdemKey(b[:10])
	require.ErrorIs(t, err, ErrCorruptValue)
	b[5] = 'x' // garbage after the NUL padding started
	_, err = parseIdemKey(b)
	require.ErrorIs(t, err, ErrCorruptValue)
}

func TestTxnState(t *testing.T) {
	db, _ := openTest(t, Options{})
	s := TxnState{
		Key:     IdemKey{Terminal: "T0000001", Batch: 1, STAN: 5, MTI: 200},
		Account: 1001, Amount: 900, Refunded: 300, Reversed: true,
		Kind: "purchase", ProcCode: 0, Channel: "CAMPUS", Time: t0, RRN: "000000000005",
	}
	update(t, db, func(tx *Tx) error { return tx.PutTxn(&s) })
	view(t, db, func(tx *Tx) error {
		got, ok, err := tx.Txn(s.Key)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, s, got)
		_, ok, err = tx.Txn(IdemKey{Terminal: "T0000001", Batch: 1, STAN: 6, MTI: 200})
		require.NoError(t, err)
		require.False(t, ok)
		return nil
	})
}

func TestTombstone(t *testing.T) {
	db, _ := openTest(t, Options{})
	k := IdemKey{Terminal: "T0000001", Batch: 1, STAN: 5, MTI: 200}
	view(t, db, func(tx *Tx) error {
		ok, err := tx.Tombstone(k)
		require.NoError(t, err)
		require.False(t, ok)
		return nil
	})
	update(t, db, func(tx *Tx) error { return tx.PutTombstone(k, t0) })
	view(t, db, func(tx *Tx) error {
		ok, err := tx.Tombstone(k)
		require.NoError(t, err)
		require.True(t, ok)
		return nil
	})
}

func TestBadTerminalRefused(t *testing.T) {
	db, _ := openTest(t, Options{})
	err := db.Update(t.Context(), func(tx *Tx) error {
		return tx.PutIdem(IdemKey{Terminal: ""}, []byte{1})
	})
	require.ErrorIs(t, err, ErrBadKey)
}

func TestPutIdemTxnOneWrite(t *testing.T) {
	db, _ := openTest(t, Options{})
	k := IdemKey{Terminal: "T0000001", Batch: 3, STAN: 9, MTI: 200}
	update(t, db, func(tx *Tx) error {
		return tx.PutIdemTxn(k, Fingerprint{}, []byte("answer"), &TxnState{Key: k, Account: 7, Amount: 120, Kind: "purchase"})
	})
	view(t, db, func(tx *Tx) error {
		ans, ok, err := tx.Idem(k)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "answer", string(ans))
		s, ok, err := tx.Txn(k)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, int64(120), s.Amount)
		var n int
		require.NoError(t, tx.TxnsOfBatch("T0000001", 3, func(*TxnState) error { n++; return nil }))
		require.Equal(t, 1, n)
		require.NoError(t, tx.TxnsOfBatch("T0000001", 4, func(*TxnState) error { n++; return nil }))
		require.Equal(t, 1, n, "another batch is another prefix")
		return nil
	})
	update(t, db, func(tx *Tx) error {
		require.ErrorIs(onCommitter{t}, tx.PutIdemTxn(k, Fingerprint{}, nil, nil), ErrBadValue)
		return nil
	})
}

// The fingerprint of the answered request is kept with the answer, and a
// later PutIdem (answer only) or PutTxn (state only) keeps it.
func TestIdemFingerprintKept(t *testing.T) {
	db, _ := openTest(t, Options{})
	k := IdemKey{Terminal: "T0000001", Batch: 3, STAN: 9, MTI: 200}
	fp := Fingerprint{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	update(t, db, func(tx *Tx) error {
		return tx.PutIdemTxn(k, fp, []byte("answer"), &TxnState{Key: k, Account: 7, Amount: 120, Kind: "purchase"})
	})
	check := func(want string) {
		view(t, db, func(tx *Tx) error {
			ans, got, ok, err := tx.IdemAnswer(k)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, want, string(ans))
			require.Equal(t, fp, got)
			return nil
		})
	}
	check("answer")
	update(t, db, func(tx *Tx) error {
		s, _, err := tx.Txn(k)
		if err != nil {
			return err
		}
		s.Refunded = 20
		return tx.PutTxn(&s)
	})
	check("answer")
	update(t, db, func(tx *Tx) error { return tx.PutIdem(k, []byte("again")) })
	check("again")
	view(t, db, func(tx *Tx) error {
		s, ok, err := tx.Txn(k)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, int64(20), s.Refunded)
		return nil
	})
}

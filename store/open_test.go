package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func TestNewerSchemaRefused(t *testing.T) {
	db, path := openTest(t, Options{})
	require.NoError(t, db.Close())
	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, b.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bktMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, SchemaVersion+1))
	}))
	require.NoError(t, b.Close())
	_, err = Open(path, Options{})
	require.ErrorIs(t, err, ErrNewerSchema)
	require.Contains(t, err.Error(), fmt.Sprintf("schema %d", SchemaVersion+1))
	_, err = Open(path, Options{ReadOnly: true})
	require.ErrorIs(t, err, ErrNewerSchema)
}

func TestOlderSchemaRefused(t *testing.T) {
	db, path := openTest(t, Options{})
	require.NoError(t, db.Close())
	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, b.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bktMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, schemaUpgradable-1))
	}))
	require.NoError(t, b.Close())
	_, err = Open(path, Options{})
	require.ErrorIs(t, err, ErrOlderSchema)
}

// A schema 2 file (no idempotency logs, every value in the idem bucket) is
// read as it is, read-only too, and upgraded by a writable open.
func TestSchema2Upgraded(t *testing.T) {
	db, path := openTest(t, Options{})
	require.NoError(t, db.Close())
	k := IdemKey{Terminal: "T0000001", Batch: 1, STAN: 7, MTI: 200}
	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, b.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bktIdemLog); err != nil {
			return err
		}
		key, _ := k.key()
		if err := tx.Bucket(bktIdem).Put(key, []byte{idemV2, 0, 3, 'o', 'l', 'd', 0}); err != nil {
			return err
		}
		return tx.Bucket(bktMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, 2))
	}))
	require.NoError(t, b.Close())

	ro, err := Open(path, Options{ReadOnly: true})
	require.NoError(t, err)
	require.NoError(t, ro.View(func(tx *Tx) error {
		ans, ok, err := tx.Idem(k)
		require.True(t, ok)
		require.Equal(t, "old", string(ans))
		return err
	}))
	require.NoError(t, ro.Close())

	db, err = Open(path, Options{})
	require.NoError(t, err)
	update(t, db, func(tx *Tx) error {
		ct := onCommitter{t} // the checks run on the committer goroutine
		ans, ok, err := tx.Idem(k)
		require.True(ct, ok)
		require.Equal(ct, "old", string(ans))
		return err
	})
	require.NoError(t, db.Close())
	b, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	require.NoError(t, b.View(func(tx *bolt.Tx) error {
		require.Equal(t, SchemaVersion, binary.BigEndian.Uint32(tx.Bucket(bktMeta).Get(keySchema)))
		require.NotNil(t, tx.Bucket(bktIdemLog))
		return nil
	}))
	require.NoError(t, b.Close())
}

func writeAt(t *testing.T, path string, off int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(data, off)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func populated(t *testing.T) string {
	t.Helper()
	db, path := openTest(t, Options{})
	update(t, db, func(tx *Tx) error {
		for i := range 200 {
			a := sampleAccount(uint64(i+1), "")
			if err := tx.PutAccount(&a); err != nil {
				return err
			}
			r := sampleRecord(uint64(i+1), uint32(i))
			if _, err := tx.AppendJournal(&r); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, db.Close())
	return path
}

func garbage(n int) []byte {
	g := bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef, 0x13, 0x37, 0x42}, n/7+1)
	return g[:n]
}

func TestCorruptFileRefused(t *testing.T) {
	ps := os.Getpagesize()
	cases := map[string]func(t *testing.T, path string){
		"both meta pages": func(t *testing.T, path string) {
			writeAt(t, path, 0, garbage(2*ps))
		},
		"data pages": func(t *testing.T, path string) {
			fi, err := os.Stat(path)
			require.NoError(t, err)
			writeAt(t, path, int64(2*ps), garbage(int(fi.Size())-2*ps))
		},
		"journal root page": func(t *testing.T, path string) {
			b, err := bolt.Open(path, 0o600, nil)
			require.NoError(t, err)
			var root uint64
			require.NoError(t, b.View(func(tx *bolt.Tx) error {
				root = uint64(tx.Bucket(bktJournal).Root())
				return nil
			}))
			require.NoError(t, b.Close())
			require.NotZero(t, root)
			writeAt(t, path, int64(root)*int64(ps)+16, garbage(ps-16))
		},
		"not a bbolt file": func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte("account,name\n1,x\n"), 0o600))
		},
	}
	for name, corrupt := range cases {
		// Either check: bbolt's before Open returns, or the snapshot
		// check Open waits for (checkbehind.go).
		for _, wait := range []time.Duration{0, time.Minute} {
			t.Run(fmt.Sprintf("%s/wait %v", name, wait), func(t *testing.T) {
				path := populated(t)
				corrupt(t, path)
				_, err := Open(path, Options{StorageKey: testKey, CheckWait: wait})
				require.ErrorIs(t, err, ErrCorrupt)
				require.Contains(t, err.Error(), filepath.Base(path))
				t.Log(err)
			})
		}
	}
}

// bbolt keeps two meta pages: one torn meta page is survivable.
func TestOneMetaPageDamagedStillOpens(t *testing.T) {
	path := populated(t)
	writeAt(t, path, 0, garbage(os.Getpagesize()))
	db, err := Open(path, Options{StorageKey: testKey})
	require.NoError(t, err)
	defer db.Close()
	view(t, db, func(tx *Tx) error {
		_, ok, err := tx.Account(1)
		require.NoError(t, err)
		require.True(t, ok)
		return nil
	})
}

func TestForeignBoltFileReadOnlyRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, b.Close())
	_, err = Open(path, Options{ReadOnly: true})
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestReadOnly(t *testing.T) {
	path := populated(t)
	db, err := Open(path, Options{ReadOnly: true, StorageKey: testKey})
	require.NoError(t, err)
	defer db.Close()
	require.ErrorIs(t, db.Update(t.Context(), func(*Tx) error { return nil }), ErrReadOnly)
	view(t, db, func(tx *Tx) error {
		require.False(t, tx.Writable())
		require.Equal(t, uint64(200), tx.JournalLen())
		return nil
	})
}

func TestLockedRefused(t *testing.T) {
	db, path := openTest(t, Options{})
	_ = db
	_, err := Open(path, Options{LockTimeout: 50e6})
	require.ErrorIs(t, err, ErrLocked)
}

func TestBackupOnline(t *testing.T) {
	path := populated(t)
	db, err := Open(path, Options{StorageKey: testKey})
	require.NoError(t, err)
	defer db.Close()
	var buf bytes.Buffer
	n, err := db.Backup(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	copyPath := filepath.Join(t.TempDir(), "backup.db")
	require.NoError(t, os.WriteFile(copyPath, buf.Bytes(), 0o600))
	cp, err := Open(copyPath, Options{StorageKey: testKey, ReadOnly: true})
	require.NoError(t, err)
	defer cp.Close()
	view(t, cp, func(tx *Tx) error {
		require.Equal(t, uint64(200), tx.JournalLen())
		a, ok, err := tx.Account(200)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, uint64(200), a.No)
		return nil
	})
	require.Equal(t, path, db.Path())
}

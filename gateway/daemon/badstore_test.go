package daemon_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/store"
)

// spoil damages a gateway's store file in one of the ways a disk, an
// operator or a downgrade can.
var spoilers = []struct {
	name    string
	want    error
	message string
	// untouched: refused before the store's opening commit, so the file
	// is left byte for byte. A writable open commits once before its
	// consistency check (that is what repairs one torn meta page), so a
	// damaged data page is refused after that commit.
	untouched bool
	spoil     func(t *testing.T, path string)
}{
	{"meta pages overwritten", store.ErrCorrupt, "corrupt", true, func(t *testing.T, path string) {
		overwrite(t, path, 0, bytes.Repeat([]byte{0xA5}, 2*4096))
	}},
	{"data page overwritten", store.ErrCorrupt, "corrupt", false, func(t *testing.T, path string) {
		overwrite(t, path, 2*4096, bytes.Repeat([]byte{0x5A}, 4*4096))
	}},
	{"not a store", store.ErrCorrupt, "corrupt", true, func(t *testing.T, path string) {
		require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("id,name,balance\n"), 2048), 0o600))
	}},
	{"newer schema", store.ErrNewerSchema, "newer schema", true, func(t *testing.T, path string) {
		b, err := bolt.Open(path, 0o600, nil)
		require.NoError(t, err)
		require.NoError(t, b.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("meta")).Put([]byte("schema"), binary.BigEndian.AppendUint32(nil, store.SchemaVersion+1))
		}))
		require.NoError(t, b.Close())
	}},
}

func overwrite(t *testing.T, path string, off int64, data []byte) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(data, off)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// spoiledGateway writes a gateway's files, imports accounts and spoils
// the store; it returns the config path and the store path.
func spoiledGateway(t *testing.T, spoil func(*testing.T, string)) (string, string) {
	dir := t.TempDir()
	cfg := writeGatewayFiles(t, dir, gwOptions{terminals: 1})
	db := filepath.Join(dir, "gw.db")
	importAccounts(t, db, 40, 1000)
	spoil(t, db)
	return cfg, db
}

// TestRefusesBadStore: daemon.New refuses a corrupt store or one from a
// newer gateway with an error naming the file and the cause; it never
// serves from it.
func TestRefusesBadStore(t *testing.T) {
	for _, sp := range spoilers {
		t.Run(sp.name, func(t *testing.T) {
			path, db := spoiledGateway(t, sp.spoil)
			before, err := os.ReadFile(db)
			require.NoError(t, err)
			cfg, err := config.Load(path)
			require.NoError(t, err)
			keys, err := config.LoadKeys(cfg.Keys.File)
			require.NoError(t, err)
			d, err := daemon.New(cfg, keys, daemon.Options{Logger: slog.New(slog.DiscardHandler), ShutdownTimeout: time.Second})
			if d != nil {
				_ = d.Stop()
			}
			require.Nil(t, d)
			require.True(t, errors.Is(err, sp.want), "got %v", err)
			require.Contains(t, err.Error(), db)
			require.Contains(t, err.Error(), sp.message)
			after, err := os.ReadFile(db)
			require.NoError(t, err)
			if sp.untouched {
				require.True(t, bytes.Equal(before, after), "the refused store file was changed")
			}
		})
	}
}

// TestServeRefusesBadStore: `ecardgw serve` on a bad store exits 1 with one
// clear line on stderr and never opens the POS listener.
func TestServeRefusesBadStore(t *testing.T) {
	bin := buildGateway(t)
	for _, sp := range spoilers {
		t.Run(sp.name, func(t *testing.T) {
			path, db := spoiledGateway(t, sp.spoil)
			var stderr bytes.Buffer
			cmd := exec.Command(bin, "serve", "--config", path)
			cmd.Stderr = &stderr
			done := make(chan error, 1)
			require.NoError(t, cmd.Start())
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				var ee *exec.ExitError
				require.ErrorAs(t, err, &ee, stderr.String())
				require.Equal(t, 1, ee.ExitCode(), stderr.String())
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Fatal("serve kept running on a bad store")
			}
			out := stderr.String()
			require.Contains(t, out, "ecardgw: store "+db)
			require.Contains(t, out, sp.message)
			require.NotContains(t, out, "ecardgw serving")
		})
	}
}

// deepLeaf returns a leaf page of bucket name other than its root, by
// following second children down: a page a start itself never reads.
func deepLeaf(t *testing.T, path, name string) int64 {
	t.Helper()
	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	defer b.Close()
	ps := int64(os.Getpagesize())
	var leaf int64
	require.NoError(t, b.View(func(tx *bolt.Tx) error {
		root := int64(tx.Bucket([]byte(name)).Root())
		page := make([]byte, ps)
		f, err := os.Open(path)
		require.NoError(t, err)
		defer f.Close()
		for id := root; ; {
			_, err := f.ReadAt(page, id*ps)
			require.NoError(t, err)
			if binary.NativeEndian.Uint16(page[8:]) == 0x02 { // leaf
				require.NotEqual(t, root, id, "bucket %s should be deeper than one page", name)
				leaf = id
				return nil
			}
			id = int64(binary.NativeEndian.Uint64(page[16+16+8:])) // element 1's child
		}
	}))
	return leaf
}

// TestDamageFoundBehindTheStartStopsTheGateway: a check still running
// after store.check_wait lets the gateway serve; damage it then finds
// stops the gateway with the error (the supervisor restarts it), and the
// next start refuses the store before it serves.
func TestDamageFoundBehindTheStartStopsTheGateway(t *testing.T) {
	path, db := spoiledGateway(t, func(t *testing.T, db string) {})
	importAccounts(t, db, 3000, 1000)
	leaf := deepLeaf(t, db, "accounts")
	overwrite(t, db, leaf*int64(os.Getpagesize())+8, []byte{0x20, 0})

	cfg, err := config.Load(path)
	require.NoError(t, err)
	cfg.Store.CheckWait = time.Nanosecond
	keys, err := config.LoadKeys(cfg.Keys.File)
	require.NoError(t, err)
	d, err := daemon.New(cfg, keys, daemon.Options{Logger: slog.New(slog.DiscardHandler), ShutdownTimeout: time.Second})
	require.NoError(t, err, "served before the check reached the damage")
	ran := make(chan error, 1)
	go func() { ran <- d.Run(t.Context()) }()
	select {
	case err = <-ran:
	case <-time.After(20 * time.Second):
		_ = d.Stop()
		t.Fatal("the gateway kept serving a damaged store")
	}
	require.ErrorIs(t, err, store.ErrCorrupt)
	require.FileExists(t, store.DamagedMarker(db))

	d, err = daemon.New(cfg, keys, daemon.Options{Logger: slog.New(slog.DiscardHandler), ShutdownTimeout: time.Second})
	if d != nil {
		_ = d.Stop()
	}
	require.ErrorIs(t, err, store.ErrCorrupt, "the next start checks every page first")
	require.Contains(t, err.Error(), store.DamagedMarker(db))
}

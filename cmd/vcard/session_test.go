package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/cardio/vcard"
)

func TestSession(t *testing.T) {
	card, err := vcard.New(vcard.DemoConfig([16]byte{1}))
	require.NoError(t, err)
	// A listener standing in for vpcd, so insert has somewhere to go.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var out bytes.Buffer
	s := &session{card: card, addr: ln.Addr().String(), out: &out}
	ctx := context.Background()

	require.NoError(t, s.exec(ctx, "spend 50"))
	require.Contains(t, out.String(), "card 20******4567: wallet 300 fen, load counter 0, 1 log records")
	require.Error(t, s.exec(ctx, "spend x"))
	require.Error(t, s.exec(ctx, "spend 1000"))
	require.Error(t, s.exec(ctx, "fly"))
	require.NoError(t, s.exec(ctx, ""))
	require.NoError(t, s.exec(ctx, "insert"))
	require.NoError(t, s.exec(ctx, "remove"))
	require.Contains(t, out.String(), "card removed")
	require.NotContains(t, out.String(), "202601234567")
}

func TestRunNeedsKeys(t *testing.T) {
	var out bytes.Buffer
	require.ErrorContains(t, run(context.Background(), nil, bytes.NewReader(nil), &out), "--keys")

	// A key file others can read is refused by the gateway's loader.
	p := filepath.Join(t.TempDir(), "keys.yaml")
	require.NoError(t, os.WriteFile(p, []byte("x: 1\n"), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	require.Error(t, run(ctx, []string{"--keys", p}, bytes.NewReader(nil), &out))
}

// TestKeyVersionFlag: --key-version picks the key file's master load key
// for that version (DF08), and refuses a version the file has no key for
// before anything connects.
func TestKeyVersionFlag(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys.yaml")
	require.NoError(t, os.WriteFile(keys, []byte("wallet_master_load_keys: {2: 0123456789ABCDEFFEDCBA9876543210}\n"+
		"storage_key: "+string(bytes.Repeat([]byte("ab"), 32))+"\n"), 0o600))
	var out bytes.Buffer
	err := run(context.Background(), []string{"--keys", keys, "--key-version", "1"}, &bytes.Buffer{}, &out)
	require.ErrorContains(t, err, "no 16-byte wallet master load key for key version 1")
	err = run(context.Background(), []string{"--keys", keys, "--key-version", "0"}, &bytes.Buffer{}, &out)
	require.ErrorContains(t, err, "--key-version 0: want 1 to 255")
}

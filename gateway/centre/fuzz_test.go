package centre

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

// FuzzParseKey: whatever parses re-encodes to a text form that parses to
// the same key.
func FuzzParseKey(f *testing.F) {
	fh, err := os.Open(filepath.Join("testdata", "keys.txt"))
	require.NoError(f, err)
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			f.Add(line)
		}
	}
	require.NoError(f, sc.Err())
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			require.ErrorIs(t, err, ErrBadKey)
			return
		}
		back, err := ParseKey(KeyString(k))
		require.NoError(t, err)
		require.Equal(t, k, back)
	})
}

// fixedAnswer is a RoundTripper that answers every request with one
// status and body, without a network.
type fixedAnswer struct {
	code int
	body []byte
}

func (a fixedAnswer) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: a.code, Body: io.NopCloser(bytes.NewReader(a.body)), Header: http.Header{}}, nil
}

// FuzzAuthorizeAnswer: any answer the centre may give is either a result
// or an error that says whether to stand in; never a panic.
func FuzzAuthorizeAnswer(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "answers", "*.json"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		for _, code := range []int{200, 400, 503} {
			f.Add(code, b)
		}
	}
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		if code < 100 || code > 999 {
			return
		}
		c, err := New(Options{URL: "http://centre.invalid", HTTP: &http.Client{Transport: fixedAnswer{code, body}}})
		require.NoError(t, err)
		_, err = c.Authorize(context.Background(), AuthRequest{Key: store.IdemKey{Terminal: "T1"}, Kind: KindPurchase, Card: "100000000001"})
		if err != nil {
			require.True(t, errors.Is(err, ErrUnreachable) != errors.Is(err, ErrRejected), "exactly one class: %v", err)
			require.NotContains(t, err.Error(), "100000000001")
		}
		if code >= 300 {
			require.Error(t, err)
		}
	})
}

package server

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// EventLoops follows gnet's rule (gnet.go: an explicit number, else one
// per CPU with multicore, else one): the daemon sizes GOMAXPROCS by it.
func TestEventLoops(t *testing.T) {
	require.Equal(t, 1, Options{}.EventLoops())
	require.Equal(t, runtime.NumCPU(), Options{Multicore: true}.EventLoops())
	require.Equal(t, 3, Options{Multicore: true, NumEventLoop: 3}.EventLoops())
	require.Equal(t, 5, Options{NumEventLoop: 5}.EventLoops())
}

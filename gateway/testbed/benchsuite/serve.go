package benchsuite

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

// ServeFlag is the hidden flag of cmd/benchsuite that makes it the child
// gateway of the idle-terminal figure: the suite re-executes itself, so
// the child is exactly this tree's daemon with nothing else in its heap.
const ServeFlag = "serve-gateway"

// ServeGateway runs the environment's gateway at configPath until SIGTERM
// or SIGINT. On SIGUSR1 it writes a heap profile to heapProfile (after a
// GC, so it shows what is live).
func ServeGateway(configPath, heapProfile string) error {
	// Sample every 4 KiB rather than every 512 KiB: the heap profile of
	// a miss must show per-connection structures of a few hundred bytes.
	runtime.MemProfileRate = 4096
	env := envAt(configPath)
	d, err := env.Start()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	for {
		select {
		case <-ctx.Done():
			return d.Stop()
		case <-usr1:
			if heapProfile == "" {
				continue
			}
			runtime.GC()
			if f, err := os.Create(heapProfile); err == nil {
				_ = pprof.Lookup("heap").WriteTo(f, 0)
				_ = f.Close()
			}
		}
	}
}

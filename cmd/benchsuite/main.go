// Command benchsuite runs the benchmark suite and writes docs/BENCHMARKS.md
// ("make bench"); see gateway/testbed/benchsuite. Run it from the repository root.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"ecardgw/gateway/testbed/benchsuite"
)

func main() {
	var (
		out       = flag.String("out", "docs/BENCHMARKS.md", "the document to write")
		quick     = flag.Bool("quick", false, "a fast smoke run: shorter, smaller figures (not the figures of record)")
		benchtime = flag.String("benchtime", "", "go test -benchtime for the Go benchmarks (default 1s, quick 200ms)")
		count     = flag.Int("count", 0, "go test -count for the Go benchmarks (default 5, quick 1)")
		keep      = flag.Bool("keep", false, "keep the temporary directory with the CPU profiles and stores")
		shared    = flag.String("shared", "", "a note that the machine was shared during the run, printed in the document")
		only      = flag.String("only", "", "run only these steps, comma-separated (codec, echo at 100, purchases at 1000, purchases at 1000 separate, campus code, idle terminals, restart, crash recovery, forwarder, lunch peak, hung payments, journal); write them to another -out")
		serve     = flag.String(benchsuite.ServeFlag, "", "internal: run the gateway of this configuration (the idle-terminal child)")
		heap      = flag.String("heap-profile", "", "internal: with -"+benchsuite.ServeFlag+", where SIGUSR1 writes a heap profile")
	)
	flag.Parse()
	if *serve != "" {
		if err := benchsuite.ServeGateway(*serve, *heap); err != nil {
			fmt.Fprintln(os.Stderr, "benchsuite child:", err)
			os.Exit(1)
		}
		return
	}
	if _, err := os.Stat("go.mod"); err != nil {
		fmt.Fprintln(os.Stderr, "benchsuite: run it from the repository root (no go.mod here)")
		os.Exit(2)
	}
	root, _ := os.Getwd()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := &benchsuite.Suite{Root: root, Out: *out, BenchDir: filepath.Join(filepath.Dir(*out), "bench"),
		Quick: *quick, Benchtime: *benchtime, Count: *count, Shared: *shared, Keep: *keep,
		Command: "go run ./cmd/benchsuite " + benchsuite.ShellJoin(os.Args[1:])}
	if *only != "" {
		for _, name := range strings.Split(*only, ",") {
			s.Only = append(s.Only, strings.TrimSpace(name))
		}
	}
	if err := s.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "benchsuite:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "benchsuite: wrote", *out)
}

package benchsuite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// GoBench is one go test -bench invocation.
type GoBench struct {
	Pkg       string // "./codec/iso8583/"
	Pattern   string
	Benchtime string // "1s" or "100x"
	Count     int
}

// Command is the command line as the document shows it.
func (g GoBench) Command() string {
	return fmt.Sprintf("go test -run '^$' -bench '%s' -benchmem -benchtime %s -count %d %s", g.Pattern, g.Benchtime, g.Count, g.Pkg)
}

func (g GoBench) args(extra ...string) []string {
	a := []string{"test", "-run", "^$", "-bench", g.Pattern, "-benchmem", "-benchtime", g.Benchtime,
		"-count", strconv.Itoa(g.Count)}
	return append(append(a, extra...), g.Pkg)
}

// Run execs go test in dir (the repository root) and parses its output.
func (g GoBench) Run(ctx context.Context, goBin, dir string) ([]Bench, error) {
	out, err := runGo(ctx, goBin, dir, g.args()...)
	if err != nil {
		return nil, err
	}
	b, _, err := ParseBench(bytes.NewReader(out))
	return b, err
}

// Profile runs the benchmarks once more with a CPU profile and returns
// the first lines of go tool pprof -top.
func (g GoBench) Profile(ctx context.Context, goBin, dir, tmp string) (string, error) {
	prof := filepath.Join(tmp, "cpu-"+sanitize(g.Pattern)+".pprof")
	bin := filepath.Join(tmp, "bench-"+sanitize(g.Pattern)+".test")
	g.Count = 1
	if _, err := runGo(ctx, goBin, dir, g.args("-cpuprofile", prof, "-o", bin)...); err != nil {
		return "", err
	}
	return PprofTop(ctx, goBin, dir, prof)
}

// PprofTop is the head of go tool pprof -top for a profile; extra
// arguments (filters) go before the file.
func PprofTop(ctx context.Context, goBin, dir, prof string, extra ...string) (string, error) {
	args := append([]string{"tool", "pprof", "-top", "-nodecount=18"}, extra...)
	out, err := runGo(ctx, goBin, dir, append(args, prof)...)
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var keep []string
	for _, l := range lines {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Type:") || strings.HasPrefix(l, "Time:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n"), nil
}

func runGo(ctx context.Context, goBin, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = os.Environ()
	out, err := cmd.Output()
	if err != nil {
		tail := stderr.String() + string(out)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return out, fmt.Errorf("%s %s: %w\n%s", goBin, strings.Join(args, " "), err, tail)
	}
	return out, nil
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

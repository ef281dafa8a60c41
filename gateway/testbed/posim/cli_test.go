package posim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseRunArgs(t *testing.T) {
	pngDir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(pngDir, "d.png"), 0o700))
	cases := []struct {
		name  string
		args  []string
		err   error
		check func(t *testing.T, p *RunPlan)
	}{
		{"defaults", []string{"--duration", "60s"}, nil, func(t *testing.T, p *RunPlan) {
			require.Equal(t, "./var/ecardgw.yaml", p.Config)
			require.Len(t, p.Runs, 1)
			require.Equal(t, 100, p.Runs[0].Terminals)
			require.Equal(t, LunchPeak, p.Runs[0].Mix)
			require.Zero(t, p.Runs[0].Think, "closed loop unless --think")
			require.Equal(t, int64(1), p.Runs[0].Amount)
		}},
		{"several counts, think, count", []string{"--terminals", "100,1000,5000", "--think", "2s", "--count", "9000",
			"--mix", "card=1", "--json", "-", "--png", "x.png", "--baseline", "--addr", "127.0.0.1:8583"}, nil,
			func(t *testing.T, p *RunPlan) {
				require.Len(t, p.Runs, 3)
				require.Equal(t, 5000, p.Runs[2].Terminals)
				require.Equal(t, 2*time.Second, p.Runs[1].Think)
				require.Equal(t, int64(9000), p.Runs[0].Count)
				require.Equal(t, Mix{KindCard: 1}, p.Runs[0].Mix)
				require.True(t, p.Baseline)
				require.Equal(t, "-", p.JSON)
				require.Equal(t, "x.png", p.PNG)
				require.Equal(t, "127.0.0.1:8583", p.Addr)
				require.Equal(t, []Goal{{Label: "goal: p99 ≤ 50 ms", Value: 50}}, p.latencyGoals())
			}},
		{"no goal line", []string{"--count", "1", "--goal-p99", "0"}, nil, func(t *testing.T, p *RunPlan) {
			require.Empty(t, p.latencyGoals())
		}},
		{"closed loop flag", []string{"--closed-loop", "--count", "10", "--terminals", "20000"}, nil, func(t *testing.T, p *RunPlan) {
			require.Equal(t, MaxTerminals, p.Runs[0].Terminals)
			require.Equal(t, MaxDuration, p.Runs[0].Duration, "one count-only run may take the whole bound")
		}},
		{"neither duration nor count", []string{"--terminals", "5"}, ErrLimit, nil},
		{"closed loop and think", []string{"--closed-loop", "--think", "1s", "--count", "1"}, ErrLimit, nil},
		{"too many terminals", []string{"--terminals", "20001", "--count", "1"}, ErrLimit, nil},
		{"zero terminals", []string{"--terminals", "0", "--count", "1"}, ErrLimit, nil},
		{"bad count list", []string{"--terminals", "10,x", "--count", "1"}, ErrLimit, nil},
		{"too long", []string{"--duration", "11m"}, ErrLimit, nil},
		{"too long in all", []string{"--duration", "4m", "--terminals", "10,20", "--baseline"}, ErrLimit, nil},
		{"count-only share", []string{"--count", "5", "--terminals", "10,20", "--baseline"}, nil, func(t *testing.T, p *RunPlan) {
			require.Equal(t, MaxDuration/4, p.Runs[1].Duration)
			require.Equal(t, int64(5), p.Runs[1].Count)
		}},
		{"bad mix", []string{"--mix", "card=1,foo=2", "--count", "1"}, ErrMix, nil},
		{"remote address", []string{"--addr", "10.0.0.5:8583", "--count", "1"}, ErrNotLoopback, nil},
		{"zero amount", []string{"--amount", "0", "--count", "1"}, ErrLimit, nil},
		{"png in a missing directory", []string{"--count", "1", "--png", "/nonexistent/dir/lat.png"}, ErrOutput, nil},
		{"png not png", []string{"--count", "1", "--png", "lat.jpg"}, ErrOutput, nil},
		{"png without extension", []string{"--count", "1", "--png", pngDir + "/sim"}, nil, func(t *testing.T, p *RunPlan) {
			require.Equal(t, pngDir+"/sim.png", p.PNG, "the extension is added, as gonum plot needs it")
		}},
		{"cpu profile", []string{"--count", "1", "--cpuprofile", "/tmp/p.pprof"}, nil, func(t *testing.T, p *RunPlan) {
			require.Equal(t, "/tmp/p.pprof", p.CPUProfile)
		}},
		{"png is a directory", []string{"--count", "1", "--png", pngDir + "/d.png"}, ErrOutput, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := ParseRunArgs(c.args)
			if c.err != nil {
				require.ErrorIs(t, err, c.err)
				return
			}
			require.NoError(t, err)
			c.check(t, p)
		})
	}
	_, err := ParseRunArgs([]string{"--no-such-flag"})
	require.Error(t, err)
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:1": true, "[::1]:80": true, "localhost:9": true, "127.8.9.10:1": true,
		"0.0.0.0:80": false, "192.168.1.2:80": false, "example.com:80": false, "nonsense": false,
	} {
		err := CheckLoopback(addr)
		if ok {
			require.NoError(t, err, addr)
		} else {
			require.ErrorIs(t, err, ErrNotLoopback, addr)
		}
	}
}

// TestRunCommandCPUProfile runs "posim run --cpuprofile" against a gateway
// and wants a profile (gzipped protocol buffers) and the process CPU of
// the timed phase in the JSON.
func TestRunCommandCPUProfile(t *testing.T) {
	dir := t.TempDir()
	env, err := WriteEnv(EnvSpec{Dir: dir, POS: 2, Accounts: 2})
	require.NoError(t, err)
	d, err := env.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Stop() })

	prof, out := filepath.Join(dir, "posim.pprof"), filepath.Join(dir, "out.json")
	cmd := NewCommand()
	cmd.SetArgs([]string{"run", "--config", env.Config, "--accounts", env.Accounts,
		"--addr", d.POSAddr().String(), "--terminals", "2", "--mix", "card=1", "--closed-loop",
		"--duration", "300ms", "--json", out, "--cpuprofile", prof})
	var stdout, stderr lockedBuffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	require.NoError(t, cmd.Execute())

	b, err := os.ReadFile(prof)
	require.NoError(t, err)
	require.Greater(t, len(b), 2)
	require.Equal(t, []byte{0x1f, 0x8b}, b[:2], "a pprof profile is gzipped")
	var got Result
	b, err = os.ReadFile(out)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &got))
	require.Positive(t, got.Approved)
	require.Positive(t, got.ProcessCPU, "the timed phase's CPU of this process")
	require.Contains(t, stdout.String(), "process CPU")
}

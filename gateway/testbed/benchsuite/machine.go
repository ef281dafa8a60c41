package benchsuite

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// ReadMachine describes this machine from /proc and go version.
func ReadMachine(goBin string) Machine {
	m := Machine{Cores: runtime.NumCPU(), Started: time.Now().UTC(), CPU: "unknown CPU"}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		m.CPU = v
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		kb, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
		m.MemGiB = kb / (1 << 20)
	}
	if out, err := exec.Command(goBin, "version").Output(); err == nil {
		m.Go = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.Disk = "store on " + diskOf()
	return m
}

// LoadAvg is the 1-minute load average.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// diskOf names the device and file system of the temporary directory,
// where the benchmark stores live.
func diskOf() string {
	out, err := exec.Command("df", "--output=source,fstype", os.TempDir()).Output()
	if err != nil {
		return os.TempDir()
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 2 {
		return os.TempDir()
	}
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 2 {
		return os.TempDir()
	}
	return f[0] + " (" + f[1] + ", " + os.TempDir() + ")"
}

package benchsuite

import (
	"fmt"
	"strings"
	"time"
)

// Status is how a figure compares with its goal.
type Status int

const (
	NoGoal      Status = iota // a figure reported for context
	Met                       // the goal is met
	Missed                    // the goal is missed (the section says by how much)
	NotMeasured               // the suite could not measure it (the section says why)
)

func (s Status) String() string {
	switch s {
	case Met:
		return "met"
	case Missed:
		return "**missed**"
	case NotMeasured:
		return "not measured"
	}
	return "—"
}

// Table is a markdown table; Right marks right-aligned (numeric) columns.
type Table struct {
	Header []string
	Right  []bool
	Rows   [][]string
}

// Plot is a PNG under docs/bench/, linked relative to the document.
type Plot struct {
	Path, Alt string
}

// Figure is one section of the document.
type Figure struct {
	Title    string
	What     string   // what it measures and how
	Commands []string // how to reproduce it from the repository root
	Tables   []Table
	Result   string // the headline: a number with its ratio
	Goal     string // "" when there is none
	Status   Status
	Margin   string   // by how much it is met or missed
	Notes    []string // paragraphs after the result
	Profile  string   // go tool pprof -top output, for a miss
	Plots    []Plot
}

// Machine is where the figures were measured.
type Machine struct {
	CPU     string
	Cores   int
	MemGiB  float64
	Go      string
	Kernel  string
	Load    string // load average at the start and at the end
	Disk    string
	Started time.Time
	// Procs is GOMAXPROCS in the suite's process, the runtime's default,
	// kept for its in-process figures (Suite.Run); 0: not known.
	Procs int
}

// Report is the whole document.
type Report struct {
	Command  string
	Quick    bool
	Machine  Machine
	Shared   string // a note when the machine was shared during the run
	Figures  []Figure
	Duration time.Duration
}

// ratio formats a/b with a sensible number of digits.
func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	r := a / b
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f×", r)
	case r >= 10:
		return fmt.Sprintf("%.1f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

// margin says by how much got is on the right or wrong side of goal, for
// a goal that is a minimum (atLeast) or a maximum.
func margin(got, goal float64, atLeast bool) (Status, string) {
	if goal == 0 {
		return NoGoal, ""
	}
	met := got >= goal
	if !atLeast {
		met = got <= goal
	}
	pct := abs((got - goal) / goal * 100)
	digits := 0
	if pct < 10 {
		digits = 1
	}
	if met {
		return Met, fmt.Sprintf("met with %.*f%% to spare", digits, pct)
	}
	if !atLeast && got >= 2*goal {
		return Missed, fmt.Sprintf("missed: %s the goal", ratio(got, goal))
	}
	return Missed, fmt.Sprintf("missed by %.*f%%", digits, pct)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func num(v float64) string {
	switch {
	case v >= 100:
		return commas(int64(v + 0.5))
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// commas writes 1234567 as 1,234,567.
func commas(v int64) string {
	s := fmt.Sprint(v)
	neg := v < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// marginText is a margin without its verb, for "met, with ..." and
// "**missed**, by ...".
func marginText(m string) string {
	for _, p := range []string{"met ", "missed: ", "missed "} {
		if t, ok := strings.CutPrefix(m, p); ok {
			return t
		}
	}
	return m
}

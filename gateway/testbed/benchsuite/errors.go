package benchsuite

import "errors"

var (
	// ErrParse: go test output that has no benchmark line where one was expected.
	ErrParse = errors.New("benchsuite: cannot parse benchmark output")
	// ErrMissing: a benchmark the suite needs did not report.
	ErrMissing = errors.New("benchsuite: benchmark missing from the output")
	// ErrSymbol: a function the suite reads from a profile is not in the
	// gateway (renamed), or a profile has none of its samples.
	ErrSymbol = errors.New("benchsuite: profiled function missing")
	// ErrChild: the child gateway process did not become ready.
	ErrChild = errors.New("benchsuite: child gateway failed")
	// ErrLoadClient: the load client run as a process of its own (posim
	// run) failed, or wrote no usable result.
	ErrLoadClient = errors.New("benchsuite: load client failed")
)

package admin

import (
	"context"
	"encoding/json"
	"net/http"

	"ecardgw/gateway/logging"
	"ecardgw/metrics"
)

// Check is one named readiness condition. Func returns a short detail for
// people ("open", "centre reachable", "stand-in active") and a non-nil
// error when the gateway must not be considered ready.
type Check struct {
	Name string
	Func func(ctx context.Context) (detail string, err error)
}

// CheckResult is one check in the /readyz body.
type CheckResult struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Readiness is the /readyz body: ready only if every check is OK.
type Readiness struct {
	Ready  bool          `json:"ready"`
	Checks []CheckResult `json:"checks"`
}

// CentreCheck reports the centre as a readiness check for connected mode.
// Both states serve terminals — purchases go to the centre or are stood in
// — so the check is ready either way and says which, as the operator
// needs to know whether money is being approved on the replica.
func CentreCheck(state func() metrics.CentreState) Check {
	return Check{Name: "centre", Func: func(context.Context) (string, error) {
		switch state() {
		case metrics.CentreReachable:
			return "centre reachable", nil
		case metrics.CentreStandalone:
			return "standalone: no centre", nil
		}
		return "stand-in active", nil
	}}
}

// runChecks runs the checks in order; each sees the request's deadline.
func runChecks(ctx context.Context, checks []Check) Readiness {
	r := Readiness{Ready: true, Checks: make([]CheckResult, 0, len(checks))}
	for _, c := range checks {
		detail, err := c.Func(ctx)
		res := CheckResult{Name: c.Name, OK: err == nil, Detail: logging.Sanitize(detail)}
		if err != nil {
			// Error text from deep inside the gateway: sanitized like a log line.
			res.Error = logging.Sanitize(err.Error())
			r.Ready = false
		}
		r.Checks = append(r.Checks, res)
	}
	return r
}

func (s *Server) handleReady(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), s.opts.CheckTimeout)
	defer cancel()
	r := runChecks(ctx, s.opts.Checks)
	code := http.StatusOK
	if !r.Ready {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, r)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away: nothing to do
}

package refcentre

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"time"
)

// Faults make the interface misbehave on purpose, for reliability tests.
// They apply to the /v1 interface only; admin endpoints always answer.
type Faults struct {
	// LatencyMS is added before every answer.
	LatencyMS int `json:"latency_ms"`
	// Down answers 503 without doing anything.
	Down bool `json:"down"`
	// FlapEvery > 0 alternates: FlapEvery requests answered, then
	// FlapEvery refused with 503, and so on.
	FlapEvery int `json:"flap_every"`
	// Garbage does the work and then answers 200 with a body that is not
	// JSON: the caller cannot know the outcome and must retry safely.
	Garbage bool `json:"garbage"`
	// Twice handles every request two times, as a duplicating proxy
	// would, and answers with the second result: idempotency must make
	// it identical to the first.
	Twice bool `json:"twice"`
}

// SetFaults replaces the fault settings (a zero Faults: behave).
func (c *Centre) SetFaults(f Faults) {
	c.faults.Store(&f)
	c.flapN.Store(0)
}

// CurrentFaults returns the fault settings.
func (c *Centre) CurrentFaults() Faults { return *c.faults.Load() }

// maxBody bounds a request body (a batch of MaxDelivery records).
const maxBody = 4 << 20

// withFaults wraps the interface handler.
func (c *Centre) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := c.faults.Load()
		if f.LatencyMS > 0 {
			t := time.NewTimer(time.Duration(f.LatencyMS) * time.Millisecond)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if f.Down {
			writeError(w, http.StatusServiceUnavailable, "centre down (fault injected)")
			return
		}
		if f.FlapEvery > 0 {
			n := c.flapN.Add(1) - 1
			if (n/uint64(f.FlapEvery))%2 == 1 {
				writeError(w, http.StatusServiceUnavailable, "centre flapping (fault injected)")
				return
			}
		}
		if f.Twice {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
			if err != nil {
				writeError(w, http.StatusBadRequest, "cannot read body")
				return
			}
			first := httptest.NewRecorder()
			r1 := r.Clone(r.Context())
			r1.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(first, r1)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		if f.Garbage {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("\x00{garbage"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

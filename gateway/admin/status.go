package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"ecardgw/gateway/logging"
)

// Status is the /status body, the summary `ecardgw status` prints. The
// caller's StatusFunc fills it; the admin server adds nothing but the
// time it was taken.
type Status struct {
	Version          string       `json:"version"`
	Mode             string       `json:"mode"` // "standalone" or "connected"
	StartedAt        time.Time    `json:"started_at"`
	Now              time.Time    `json:"now"`
	Connections      int          `json:"connections"`
	Sessions         int          `json:"sessions"`
	Outbox           OutboxStatus `json:"outbox"`
	Centre           string       `json:"centre"` // metrics.CentreState: standalone, reachable, unreachable
	StandInExposure  int64        `json:"standin_exposure_fen"`
	BlacklistVersion uint32       `json:"blacklist_version"`
	// CentreBreaker is the centre circuit breaker's state (closed, open,
	// half_open); empty in standalone mode.
	CentreBreaker string         `json:"centre_breaker,omitempty"`
	Payments      PaymentsStatus `json:"payments"`
}

// MaxRetryJobsShown bounds the retry jobs listed in the status.
const MaxRetryJobsShown = 20

// PaymentsStatus is the third-party payments in flight and the channel
// calls owed.
type PaymentsStatus struct {
	Pending               int        `json:"pending"`     // code payments waiting for their channel
	RetryQueue            int        `json:"retry_queue"` // channel cancels and refunds owed
	RetryOldestAgeSeconds float64    `json:"retry_oldest_age_seconds"`
	RetryJobs             []RetryJob `json:"retry_jobs,omitempty"` // the oldest, at most MaxRetryJobsShown
}

// RetryJob is one channel call owed.
type RetryJob struct {
	Op        string    `json:"op"` // cancel or refund
	Trade     string    `json:"trade"`
	Amount    int64     `json:"amount_fen"`
	Reason    string    `json:"reason"`
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at"`
	LastError string    `json:"last_error,omitempty"`
}

// OutboxStatus is the forwarder's backlog.
type OutboxStatus struct {
	Records          int     `json:"records"`
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
	// Forwarded is false when no centre or stream is configured: the
	// records then stay in the journal for reconciliation exports and the
	// outbox is not a backlog.
	Forwarded bool `json:"forwarded"`
}

// StatusFunc returns the current status.
type StatusFunc func(ctx context.Context) (Status, error)

func (s *Server) handleStatus(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), s.opts.CheckTimeout)
	defer cancel()
	st, err := s.opts.Status(ctx)
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": logging.Sanitize(err.Error())})
		return
	}
	st.Now = time.Now().UTC()
	writeJSON(w, http.StatusOK, st)
}

// FetchStatus asks a running gateway's admin listener for its status;
// addr is host:port as configured (admin.listen).
func FetchStatus(ctx context.Context, client *http.Client, addr string) (Status, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	if err != nil {
		return Status{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return Status{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Status{}, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		_ = json.Unmarshal(body, &e)
		return Status{}, fmt.Errorf("%w: HTTP %d %s", ErrStatus, resp.StatusCode, e.Error)
	}
	var st Status
	if err := json.Unmarshal(body, &st); err != nil {
		return Status{}, fmt.Errorf("%w: %v", ErrStatus, err)
	}
	return st, nil
}

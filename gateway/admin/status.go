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

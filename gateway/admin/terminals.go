package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"ecardgw/gateway/logging"
)

// Terminal is one terminal as `ecardgw terminals` shows it: what is
// configured, its session in the store, and what this gateway process has
// seen of it since it started (zero values for a terminal not seen).
type Terminal struct {
	ID       string `json:"id"`
	Merchant string `json:"merchant"`
	Type     string `json:"type"`
	Location string `json:"location,omitempty"`
	Disabled bool   `json:"disabled"`

	SignedIn   bool       `json:"signed_in"`              // a session whose keys have not expired
	SignedInAt *time.Time `json:"signed_in_at,omitempty"` // the session's sign-in
	KeysExpire *time.Time `json:"keys_expire,omitempty"`
	Batch      uint32     `json:"batch"`
	BatchOpen  bool       `json:"batch_open"`

	LastSeen          *time.Time `json:"last_seen,omitempty"`
	Remote            string     `json:"remote,omitempty"` // the address of its last request
	Requests          uint64     `json:"requests"`         // since the gateway started
	RequestsPerMinute float64    `json:"requests_per_minute"`
	Declines          uint64     `json:"declines"` // since the gateway started
	// LastCodes are the response codes of its last requests, newest first.
	LastCodes []CodeSeen `json:"last_codes"`
}

// CodeSeen is one answered request of a terminal.
type CodeSeen struct {
	At     time.Time `json:"at"`
	MTI    string    `json:"mti"` // "0200"
	RC     string    `json:"rc"`
	Note   string    `json:"note,omitempty"` // why a decline was given
	Remote string    `json:"remote,omitempty"`
}

// TerminalsFunc lists the terminals (id "" ) or returns one; found is
// false for an id that is not configured.
type TerminalsFunc func(ctx context.Context, id string) (list []Terminal, found bool, err error)

// TerminalsHandler serves GET /terminals (every configured terminal) and
// GET /terminals/{id}. It shows where terminals connect from, so the
// daemon registers it among the token-protected loopback routes.
func TerminalsHandler(f TerminalsFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		list, found, err := f(r.Context(), id)
		switch {
		case err != nil:
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": logging.Sanitize(err.Error())})
		case !found:
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no terminal " + logging.Sanitize(id) + " is configured"})
		case id != "" && len(list) == 1:
			writeJSON(w, http.StatusOK, list[0])
		default:
			writeJSON(w, http.StatusOK, list)
		}
	})
}

// FetchTerminals asks a running gateway for its terminals (id "") or one
// terminal, with an admin token.
func FetchTerminals(ctx context.Context, client *http.Client, addr, token, id string) ([]Terminal, error) {
	if client == nil {
		client = http.DefaultClient
	}
	path := "/terminals"
	if id != "" {
		path += "/" + url.PathEscape(id)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		_ = json.Unmarshal(body, &e)
		if e.Error == "" {
			e.Error = string(body)
		}
		return nil, fmt.Errorf("%w: HTTP %d %s", ErrStatus, resp.StatusCode, e.Error)
	}
	if id != "" {
		var t Terminal
		if err := json.Unmarshal(body, &t); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrStatus, err)
		}
		return []Terminal{t}, nil
	}
	var list []Terminal
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStatus, err)
	}
	return list, nil
}

package service

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// route is one endpoint. write marks a change (refused in read-only mode).
type route struct {
	method, path string
	write        bool
	h            func(*Server, http.ResponseWriter, *http.Request) (*reply, error)
}

// apiRoutes is every endpoint; docs/service-openapi.yaml lists the same
// set (a test holds them together).
var apiRoutes = []route{
	{http.MethodGet, "/v1/accounts/{account}", false, (*Server).getAccount},
	{http.MethodGet, "/v1/accounts/{account}/history", false, (*Server).history},
	{http.MethodPost, "/v1/accounts/{account}/loss", true, (*Server).reportLoss},
	{http.MethodDelete, "/v1/accounts/{account}/loss", true, (*Server).cancelLoss},
	{http.MethodPost, "/v1/accounts/import", true, (*Server).importAccounts},
	{http.MethodPost, "/v1/topups", true, (*Server).topUp},
	{http.MethodPost, "/v1/fees", true, (*Server).payFee},
	{http.MethodGet, "/v1/blacklist", false, (*Server).blacklist},
	{http.MethodGet, "/v1/accounts/{account}/bindings", false, (*Server).bindings},
	{http.MethodPut, "/v1/accounts/{account}/bindings/{channel}", true, (*Server).bind},
	{http.MethodDelete, "/v1/accounts/{account}/bindings/{channel}", true, (*Server).unbind},
}

// reply is a successful (or stored) answer: status and JSON body.
type reply struct {
	status   int
	body     []byte
	replayed bool // an idempotent retry answered from the store
}

func okJSON(v any) (*reply, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &reply{status: http.StatusOK, body: b}, nil
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range apiRoutes {
		mux.HandleFunc(rt.method+" "+rt.path, func(w http.ResponseWriter, r *http.Request) {
			if rt.write && s.opts.ReadOnly {
				s.writeError(w, r, errReadOnly)
				return
			}
			rep, err := rt.h(s, w, r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if rep.replayed {
				w.Header().Set("Idempotent-Replayed", "true")
			}
			writeBody(w, rep.status, rep.body)
		})
	}
	return mux
}

// ServeHTTP authenticates first, so that nothing (not even which paths
// exist) is told to a caller without a valid token, then routes. Unknown
// paths and methods get a JSON error like everything else.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// The channels' notifications carry their signature, not a token.
	if s.notify(w, r) {
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ecardgw"`)
		s.writeError(w, r, errUnauthorized)
		return
	}
	h, pattern := s.mux.Handler(r)
	if pattern == "" {
		// The mux would answer 404, 405 (with Allow) or a redirect in plain
		// text: keep its status and headers, answer in JSON.
		c := &statusOnly{h: w.Header()}
		h.ServeHTTP(c, r)
		if c.status == http.StatusNotFound || c.status == 0 {
			s.writeError(w, r, notFound("no such endpoint"))
			return
		}
		s.writeError(w, r, &apiError{Status: c.status, Code: CodeBadRequest, Message: strings.ToLower(http.StatusText(c.status))})
		return
	}
	s.mux.ServeHTTP(w, r)
}

// authorized checks "Authorization: Bearer <token>". The token check is
// the caller's constant-time comparison; the scheme is compared without
// regard to case (RFC 7235).
func (s *Server) authorized(r *http.Request) bool {
	const scheme = "bearer "
	v := r.Header.Get("Authorization")
	if len(v) <= len(scheme) || subtle.ConstantTimeCompare([]byte(strings.ToLower(v[:len(scheme)])), []byte(scheme)) != 1 {
		return false
	}
	tok := strings.TrimSpace(v[len(scheme):])
	return tok != "" && s.opts.Tokens(tok)
}

// writeError answers err: an *apiError as it is, anything else as 500
// internal (logged here; the client learns nothing of it).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		if errors.Is(err, context.Canceled) {
			s.log.Debug("service call abandoned by the client", "method", r.Method, "path", r.URL.Path)
		} else {
			s.log.Error("service call failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		ae = errInternal
	}
	b, _ := json.Marshal(ae)
	writeBody(w, ae.Status, b)
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// statusOnly records the status of the mux's own error handlers and
// drops their plain-text body; headers (Allow, Location) go to the real
// response.
type statusOnly struct {
	h      http.Header
	status int
}

func (c *statusOnly) Header() http.Header { return c.h }
func (c *statusOnly) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *statusOnly) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return len(b), nil
}

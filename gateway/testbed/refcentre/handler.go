package refcentre

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"ecardgw/gateway/centre"
	"ecardgw/store/accountscsv"
)

// Route is one endpoint the handler serves; docs/centre-openapi.yaml
// lists every one (a test checks it).
type Route struct {
	Method, Path string
	handle       func(c *Centre, w http.ResponseWriter, r *http.Request)
	admin        bool
}

// Admin paths.
const (
	PathHealth  = "/healthz"
	PathFaults  = "/admin/faults"
	PathLoss    = "/admin/loss"
	PathStatus  = "/admin/status"
	PathAccount = "/admin/accounts/{no}"
	PathImport  = "/admin/accounts/import"
	PathStats   = "/admin/stats"
)

var routes = []Route{
	{Method: http.MethodPost, Path: centre.PathAuthorize, handle: (*Centre).hAuthorize},
	{Method: http.MethodPost, Path: centre.PathPay, handle: (*Centre).hPay},
	{Method: http.MethodPost, Path: centre.PathQuery, handle: (*Centre).hQuery},
	{Method: http.MethodPost, Path: centre.PathCancel, handle: (*Centre).hCancel},
	{Method: http.MethodPost, Path: centre.PathRefund, handle: (*Centre).hRefund},
	{Method: http.MethodGet, Path: centre.PathAccounts, handle: (*Centre).hAccounts},
	{Method: http.MethodGet, Path: centre.PathBlacklist, handle: (*Centre).hBlacklist},
	{Method: http.MethodPost, Path: centre.PathRecords, handle: (*Centre).hRecords},
	{Method: http.MethodGet, Path: centre.PathOps, handle: (*Centre).hOps},
	{Method: http.MethodGet, Path: PathHealth, handle: (*Centre).hHealth, admin: true},
	{Method: http.MethodGet, Path: PathFaults, handle: (*Centre).hGetFaults, admin: true},
	{Method: http.MethodPut, Path: PathFaults, handle: (*Centre).hPutFaults, admin: true},
	{Method: http.MethodPost, Path: PathLoss, handle: (*Centre).hLoss, admin: true},
	{Method: http.MethodPost, Path: PathStatus, handle: (*Centre).hStatus, admin: true},
	{Method: http.MethodGet, Path: PathAccount, handle: (*Centre).hAccount, admin: true},
	{Method: http.MethodPost, Path: PathImport, handle: (*Centre).hImport, admin: true},
	{Method: http.MethodGet, Path: PathStats, handle: (*Centre).hStats, admin: true},
}

// Routes lists the endpoints the handler serves.
func Routes() []Route { return append([]Route(nil), routes...) }

// Handler serves the centre interface (/v1, behind the fault injector)
// and the admin endpoints.
func (c *Centre) Handler() http.Handler {
	api, mux := http.NewServeMux(), http.NewServeMux()
	for _, rt := range routes {
		h := func(w http.ResponseWriter, r *http.Request) { rt.handle(c, w, r) }
		if rt.admin {
			mux.HandleFunc(rt.Method+" "+rt.Path, h)
		} else {
			api.HandleFunc(rt.Method+" "+rt.Path, h)
		}
	}
	mux.Handle("/v1/", c.withFaults(api))
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, centre.WireError{Error: msg})
}

// fail maps an error to a status. Messages come from this package's
// sentinels and never carry a card number.
func fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrBadRequest):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrUnknownAccount), errors.Is(err, ErrUnknownTrade):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "request cancelled")
	default:
		writeError(w, http.StatusInternalServerError, "ledger error")
	}
}

// readJSON decodes exactly one JSON value. The interface ignores unknown
// fields (a newer gateway may send more); the admin endpoints refuse them
// so that a test's typo does not pass silently.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	if !strings.HasPrefix(r.URL.Path, "/v1/") {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil || dec.Decode(&struct{}{}) != io.EOF {
		return errors.Join(ErrBadRequest, errors.New("body is not the expected JSON"))
	}
	return nil
}

func queryUint(r *http.Request, name string, def, max uint64) (uint64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > max {
		return 0, errors.Join(ErrBadRequest, errors.New("bad query parameter "+name))
	}
	return v, nil
}

// serveJSON decodes the request body into a Req, runs do and writes its
// answer as JSON; errors are mapped as fail does.
func serveJSON[Req, Res any](w http.ResponseWriter, r *http.Request, do func(*Req) (Res, error)) {
	var req Req
	if err := readJSON(r, &req); err != nil {
		fail(w, err)
		return
	}
	res, err := do(&req)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (c *Centre) hAuthorize(w http.ResponseWriter, r *http.Request) {
	serveJSON(w, r, func(q *centre.WireAuthRequest) (centre.WireAuthResult, error) {
		res, _, err := c.Authorize(q)
		return res, err
	})
}

func (c *Centre) hPay(w http.ResponseWriter, r *http.Request) {
	serveJSON(w, r, func(q *centre.WirePayRequest) (centre.WirePayResult, error) { return c.Pay(r.Context(), q) })
}

func (c *Centre) hQuery(w http.ResponseWriter, r *http.Request) {
	serveJSON(w, r, func(q *centre.WireTradeRequest) (centre.WirePayResult, error) { return c.Query(q.TradeNo) })
}

func (c *Centre) hCancel(w http.ResponseWriter, r *http.Request) {
	serveJSON(w, r, func(q *centre.WireTradeRequest) (centre.WirePayResult, error) { return c.Cancel(q.TradeNo) })
}

func (c *Centre) hRefund(w http.ResponseWriter, r *http.Request) {
	serveJSON(w, r, c.Refund)
}

func (c *Centre) hAccounts(w http.ResponseWriter, r *http.Request) {
	since, err := queryUint(r, "since", 0, 1<<63)
	if err != nil {
		fail(w, err)
		return
	}
	limit, err := queryUint(r, "limit", centre.MaxPage, centre.MaxPage)
	if err != nil || limit == 0 {
		fail(w, errors.Join(ErrBadRequest, err))
		return
	}
	page, err := c.snapshot(since, int(limit))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (c *Centre) hOps(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err1 := time.Parse(time.RFC3339Nano, q.Get("from"))
	to, err2 := time.Parse(time.RFC3339Nano, q.Get("to"))
	if err1 != nil || err2 != nil || !from.Before(to) {
		fail(w, errors.Join(ErrBadRequest, errors.New("from and to must be RFC 3339 times, from before to")))
		return
	}
	limit, err := queryUint(r, "limit", centre.MaxPage, centre.MaxPage)
	if err != nil || limit == 0 {
		fail(w, errors.Join(ErrBadRequest, err))
		return
	}
	page, err := c.Ops(from, to, q.Get("after"), int(limit))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (c *Centre) hBlacklist(w http.ResponseWriter, r *http.Request) {
	since, err := queryUint(r, "since", 0, 1<<32-1)
	if err != nil {
		fail(w, err)
		return
	}
	limit, err := queryUint(r, "limit", centre.MaxPage, centre.MaxPage)
	if err != nil || limit == 0 {
		fail(w, errors.Join(ErrBadRequest, err))
		return
	}
	page, err := c.blacklist(uint32(since), int(limit))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (c *Centre) hRecords(w http.ResponseWriter, r *http.Request) {
	serveJSON(w, r, func(q *centre.WireRecords) (centre.WireDeliveryResults, error) {
		res, err := c.Deliver(q.Records)
		return centre.WireDeliveryResults{Results: res}, err
	})
}

func (c *Centre) hHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (c *Centre) hGetFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, c.CurrentFaults())
}

func (c *Centre) hPutFaults(w http.ResponseWriter, r *http.Request) {
	serveJSON(w, r, func(f *Faults) (Faults, error) {
		if f.LatencyMS < 0 || f.FlapEvery < 0 {
			return Faults{}, errors.Join(ErrBadRequest, errors.New("negative fault setting"))
		}
		c.SetFaults(*f)
		return *f, nil
	})
}

// LossRequest is the body of POST /admin/loss.
type LossRequest struct {
	Card string `json:"card"`
	Lost bool   `json:"lost"`
}

func (c *Centre) hLoss(w http.ResponseWriter, r *http.Request) {
	serveJSON(w, r, func(q *LossRequest) (map[string]uint32, error) {
		ver, err := c.ReportLoss(q.Card, q.Lost)
		return map[string]uint32{"blacklist_version": ver}, err
	})
}

// StatusRequest is the body of POST /admin/status.
type StatusRequest struct {
	Account uint64 `json:"account"`
	Status  string `json:"status"`
}

func (c *Centre) hStatus(w http.ResponseWriter, r *http.Request) {
	serveJSON(w, r, func(q *StatusRequest) (centre.WireAccount, error) { return c.SetStatus(q.Account, q.Status) })
}

func (c *Centre) hAccount(w http.ResponseWriter, r *http.Request) {
	no, err := strconv.ParseUint(r.PathValue("no"), 10, 64)
	if err != nil {
		fail(w, errors.Join(ErrBadRequest, errors.New("bad account number")))
		return
	}
	a, ok, err := c.Account(no)
	if err == nil && !ok {
		err = ErrUnknownAccount
	}
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (c *Centre) hImport(w http.ResponseWriter, r *http.Request) {
	rows, err := accountscsv.Parse(io.LimitReader(r.Body, 256<<20))
	if err != nil {
		// The CSV error lists lines and columns, never a card number.
		fail(w, errors.Join(ErrBadRequest, err))
		return
	}
	created, updated, err := c.Import(rows)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"rows": len(rows), "created": created, "updated": updated})
}

func (c *Centre) hStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, c.Stats())
}

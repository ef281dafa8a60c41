package service

import (
	"errors"
	"net/http"
	"strconv"

	"ecardgw/gateway/paychan"
	"ecardgw/store"
)

// Payer bindings: a campus account's identity at WeChat Pay (openid) and
// Alipay (user id), set by the WeChat enterprise app and the Alipay
// authorization callback through these endpoints. A payment code whose
// payer is not bound is reversed and answered P1 (gateway/paychan).

type bindRequest struct {
	Payer string `json:"payer"`
}

type bindingView struct {
	Channel string `json:"channel"`
	Payer   string `json:"payer"`
	Since   string `json:"since"`
}

type bindingsResponse struct {
	Account  string        `json:"account"`
	Bindings []bindingView `json:"bindings"`
}

type bindResponse struct {
	Account string `json:"account"`
	Channel string `json:"channel"`
	Payer   string `json:"payer,omitempty"`
	Bound   bool   `json:"bound"`
	Changed bool   `json:"changed"`
}

func bindingTarget(r *http.Request) (uint64, store.Channel, string, error) {
	no, err := parseAccount("account", r.PathValue("account"))
	if err != nil {
		return 0, "", "", err
	}
	name := r.PathValue("channel")
	ch, ok := channels[name]
	if !ok {
		return 0, "", "", notFound(`channel must be "wechat" or "alipay"`)
	}
	return no, ch, name, nil
}

func accountExists(tx *store.Tx, no uint64) (bool, error) {
	_, ok, err := tx.Account(no)
	return ok, err
}

// bindings: GET /v1/accounts/{account}/bindings.
func (s *Server) bindings(w http.ResponseWriter, r *http.Request) (*reply, error) {
	no, err := parseAccount("account", r.PathValue("account"))
	if err != nil {
		return nil, err
	}
	resp := bindingsResponse{Account: strconv.FormatUint(no, 10), Bindings: []bindingView{}}
	var fail *apiError
	err = s.db.View(func(tx *store.Tx) error {
		ok, err := accountExists(tx, no)
		if err != nil || !ok {
			fail = notFound("no such account")
			return err
		}
		for _, name := range []string{"alipay", "wechat"} {
			b, ok, err := paychan.BindingOf(tx, channels[name], no)
			if err != nil {
				return err
			}
			if ok {
				resp.Bindings = append(resp.Bindings, bindingView{Channel: name, Payer: b.Payer, Since: rfc3339(b.Since)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if fail != nil {
		return nil, fail
	}
	return okJSON(resp)
}

// bind: PUT /v1/accounts/{account}/bindings/{channel} {"payer": "..."}.
// Binding the same payer again changes nothing; a new payer replaces the
// account's old one at that channel; a payer bound to another account is
// 409 conflict (unbind it there first).
func (s *Server) bind(w http.ResponseWriter, r *http.Request) (*reply, error) {
	no, ch, name, err := bindingTarget(r)
	if err != nil {
		return nil, err
	}
	var q bindRequest
	if err := s.decodeJSON(w, r, &q); err != nil {
		return nil, err
	}
	resp := bindResponse{Account: strconv.FormatUint(no, 10), Channel: name, Payer: q.Payer, Bound: true}
	var fail *apiError
	err = s.db.Update(r.Context(), func(tx *store.Tx) error {
		fail, resp.Changed = nil, false
		ok, err := accountExists(tx, no)
		if err != nil || !ok {
			fail = notFound("no such account")
			return err
		}
		prev, had, err := paychan.BindingOf(tx, ch, no)
		if err != nil {
			return err
		}
		err = paychan.Bind(tx, ch, q.Payer, no, s.opts.Now())
		switch {
		case errors.Is(err, paychan.ErrBoundElsewhere):
			fail = conflict("that payer is bound to another account")
			return nil
		case errors.Is(err, paychan.ErrBadPayer):
			fail = badRequest("payer must be 1 to 64 letters, digits, - or _")
			return nil
		case err != nil:
			return err
		}
		resp.Changed = !had || prev.Payer != q.Payer
		return nil
	})
	if err != nil {
		return nil, err
	}
	if fail != nil {
		return nil, fail
	}
	s.log.Info("payer bound", "account", no, "channel", name, "changed", resp.Changed)
	return okJSON(resp)
}

// unbind: DELETE /v1/accounts/{account}/bindings/{channel}.
func (s *Server) unbind(w http.ResponseWriter, r *http.Request) (*reply, error) {
	no, ch, name, err := bindingTarget(r)
	if err != nil {
		return nil, err
	}
	resp := bindResponse{Account: strconv.FormatUint(no, 10), Channel: name}
	var fail *apiError
	err = s.db.Update(r.Context(), func(tx *store.Tx) error {
		fail = nil
		ok, err := accountExists(tx, no)
		if err != nil || !ok {
			fail = notFound("no such account")
			return err
		}
		resp.Changed, err = paychan.Unbind(tx, ch, no)
		return err
	})
	if err != nil {
		return nil, err
	}
	if fail != nil {
		return nil, fail
	}
	s.log.Info("payer unbound", "account", no, "channel", name, "changed", resp.Changed)
	return okJSON(resp)
}

package service

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		name, header string
	}{
		{"missing", ""},
		{"wrong token", "Bearer " + otherToken},
		{"prefix of the token", "Bearer " + testToken[:20]},
		{"token with a suffix", "Bearer " + testToken + "x"},
		{"basic scheme", "Basic " + testToken},
		{"no token", "Bearer "},
		{"token without scheme", testToken},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/v1/accounts/1001", "/v1/no/such/path", "/v1/blacklist"} {
				req, err := http.NewRequest(http.MethodGet, f.base+path, nil)
				require.NoError(t, err)
				if c.header != "" {
					req.Header.Set("Authorization", c.header)
				}
				res, err := f.client.Do(req)
				require.NoError(t, err)
				body := readAll(t, res)
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, path)
				require.Contains(t, res.Header.Get("WWW-Authenticate"), "Bearer")
				require.JSONEq(t, `{"code":"unauthorized","message":"a valid bearer token is required"}`, string(body))
			}
		})
	}
	// A wrong token changes nothing even on a write.
	r := f.call(http.MethodPost, "/v1/accounts/1001/loss", otherToken, "", nil)
	require.Equal(t, http.StatusUnauthorized, r.status)
	require.Equal(t, "active", f.account(1001).Status.String())

	// The scheme is case-insensitive.
	req, err := http.NewRequest(http.MethodGet, f.base+"/v1/accounts/1001", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "bearer "+testToken)
	res, err := f.client.Do(req)
	require.NoError(t, err)
	readAll(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode)
}

func TestUnknownRoutesAnswerJSON(t *testing.T) {
	f := newFixture(t)
	r := f.get("/v1/nothing")
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, CodeNotFound, r.code(t))
	r = f.call(http.MethodPut, "/v1/topups", testToken, "application/json", []byte(`{}`))
	require.Equal(t, http.StatusMethodNotAllowed, r.status)
	require.Equal(t, CodeBadRequest, r.code(t))
	require.Contains(t, r.header.Get("Allow"), http.MethodPost)
	require.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"))
}

var cardLike = regexp.MustCompile(`[0-9]{12,}`)

func TestMalformedRequests(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxBodyBytes = 1024 })
	good := `"trade_no":"W1","channel":"wechat","amount_fen":100,"account":"1001"`
	for _, c := range []struct {
		name, path, ctype, body string
		status                  int
		code, msg               string
	}{
		{"unknown field", "/v1/topups", "", `{` + good + `,"tip":1}`, 400, CodeBadRequest, `unknown field "tip"`},
		{"unknown field like a card", "/v1/topups", "", `{` + good + `,"123456789012":1}`, 400, CodeBadRequest, "unknown field"},
		{"amount as string", "/v1/topups", "", `{"trade_no":"W1","channel":"wechat","amount_fen":"100","account":"1001"}`, 400, CodeBadRequest, `"amount_fen" must be an integer`},
		{"amount fractional", "/v1/topups", "", `{"trade_no":"W1","channel":"wechat","amount_fen":1.5,"account":"1001"}`, 400, CodeBadRequest, `"amount_fen" must be an integer`},
		{"account as number", "/v1/topups", "", `{"trade_no":"W1","channel":"wechat","amount_fen":100,"account":1001}`, 400, CodeBadRequest, `"account" must be a string`},
		{"trailing data", "/v1/topups", "", `{` + good + `}{}`, 400, CodeBadRequest, "trailing data"},
		{"syntax", "/v1/topups", "", `{` + good, 400, CodeBadRequest, "truncated"},
		{"syntax in the middle", "/v1/topups", "", `{"trade_no" "W1"}`, 400, CodeBadRequest, "malformed JSON at byte"},
		{"empty", "/v1/topups", "", ``, 400, CodeBadRequest, "empty"},
		{"array", "/v1/topups", "", `[1]`, 400, CodeBadRequest, "JSON object"},
		{"wrong media type", "/v1/topups", "text/plain", `{` + good + `}`, 415, CodeBadRequest, "Content-Type"},
		{"oversize", "/v1/topups", "", `{"trade_no":"` + strings.Repeat("x", 2000) + `"}`, 413, CodeBadRequest, "too large"},
		{"no trade_no", "/v1/topups", "", `{"channel":"wechat","amount_fen":100,"account":"1001"}`, 400, CodeBadRequest, "trade_no"},
		{"trade_no with space", "/v1/topups", "", `{"trade_no":"W 1","channel":"wechat","amount_fen":100,"account":"1001"}`, 400, CodeBadRequest, "trade_no"},
		{"bad channel", "/v1/topups", "", `{"trade_no":"W1","channel":"unionpay","amount_fen":100,"account":"1001"}`, 400, CodeBadRequest, "channel"},
		{"two payees", "/v1/topups", "", `{` + good + `,"card_number":"123456789012"}`, 400, CodeBadRequest, "exactly one"},
		{"no payee", "/v1/topups", "", `{"trade_no":"W1","channel":"wechat","amount_fen":100}`, 400, CodeBadRequest, "exactly one"},
		{"name without staff_no", "/v1/topups", "", `{"trade_no":"W1","channel":"wechat","amount_fen":100,"name":"Li Si"}`, 400, CodeBadRequest, "go together"},
		{"short card", "/v1/topups", "", `{"trade_no":"W1","channel":"wechat","amount_fen":100,"card_number":"12345"}`, 400, CodeBadRequest, "12 digits"},
		{"account letters", "/v1/topups", "", `{"trade_no":"W1","channel":"wechat","amount_fen":100,"account":"10a1"}`, 400, CodeBadRequest, "account"},
		{"account zero", "/v1/topups", "", `{"trade_no":"W1","channel":"wechat","amount_fen":100,"account":"0"}`, 400, CodeBadRequest, "account"},
		{"amount zero", "/v1/topups", "", `{"trade_no":"W1","channel":"wechat","amount_fen":0,"account":"1001"}`, 422, CodeLimit, "amount_fen"},
		{"amount negative", "/v1/topups", "", `{"trade_no":"W1","channel":"wechat","amount_fen":-5,"account":"1001"}`, 422, CodeLimit, "amount_fen"},
		{"fee type", "/v1/fees", "", `{"request_id":"R1","account":"1001","type":"gas","target":"NET:1","amount_fen":1}`, 400, CodeBadRequest, "type"},
		{"fee unknown field", "/v1/fees", "", `{"request_id":"R1","account":"1001","type":"net","target":"NET:1","amount_fen":1,"x":2}`, 400, CodeBadRequest, `unknown field "x"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctype := c.ctype
			if ctype == "" {
				ctype = "application/json"
			}
			r := f.call(http.MethodPost, c.path, testToken, ctype, []byte(c.body))
			require.Equal(t, c.status, r.status, string(r.body))
			require.Equal(t, c.code, r.code(t))
			require.Contains(t, r.json(t)["message"], c.msg)
			require.False(t, cardLike.Match(r.body), "the answer quotes a card-like number: %s", r.body)
		})
	}
	for _, c := range []struct{ path, msg string }{
		{"/v1/accounts/abc", "account"},
		{"/v1/accounts/0", "account"},
		{"/v1/accounts/12345678901234567", "account"},
		{"/v1/accounts/1001/history?limit=0", "limit"},
		{"/v1/accounts/1001/history?limit=101", "limit"},
		{"/v1/accounts/1001/history?limit=x", "limit"},
		{"/v1/accounts/1001/history?before=-1", "before"},
		{"/v1/blacklist?since=4294967296", "since"},
		{"/v1/blacklist?since=+1", "since"},
	} {
		r := f.get(c.path)
		require.Equal(t, http.StatusBadRequest, r.status, c.path)
		require.Contains(t, r.json(t)["message"], c.msg, c.path)
	}
	require.Equal(t, 10000, int(f.account(1001).BalanceFen), "nothing malformed changed anything")
	require.Len(t, f.journal(), 0)
}

func TestReadOnlyRefusesEveryWrite(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.ReadOnly = true })
	writes := 0
	for _, rt := range apiRoutes {
		path := strings.ReplaceAll(rt.path, "{account}", "1001")
		r := f.call(rt.method, path, testToken, "application/json", []byte(`{}`))
		if rt.write {
			writes++
			require.Equal(t, http.StatusForbidden, r.status, rt.method+" "+rt.path)
			require.Equal(t, CodeReadOnly, r.code(t))
		} else {
			require.Equal(t, http.StatusOK, r.status, rt.method+" "+rt.path)
		}
	}
	require.Equal(t, 7, writes)
	require.Equal(t, "active", f.account(1001).Status.String())
	require.Empty(t, f.journal())
	require.Empty(t, f.blacklistCalls())
}

func readAll(t *testing.T, res *http.Response) []byte {
	t.Helper()
	defer res.Body.Close()
	var b strings.Builder
	_, err := io.Copy(&b, res.Body)
	require.NoError(t, err)
	return []byte(b.String())
}

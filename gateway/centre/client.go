package centre

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"ecardgw/gateway/config"
	"ecardgw/gateway/strictjson"
)

// maxAnswer bounds an answer body: the largest is a snapshot page of
// MaxPage accounts, well under this.
const maxAnswer = 4 << 20

// Client talks to one centre. It is safe for concurrent use.
type Client struct {
	base        string
	timeout     time.Duration
	callTimeout time.Duration
	http        *http.Client
	auth        config.Secret // "Bearer <token>", or nil
}

// New checks the options and builds a client. It does not contact the
// centre.
func New(o Options) (*Client, error) {
	base, err := parseBase(o.URL)
	if err != nil {
		return nil, err
	}
	c := &Client{base: base, timeout: o.Timeout, callTimeout: o.CallTimeout, http: o.HTTP}
	if len(o.Token) > 0 {
		c.auth = append(config.Secret("Bearer "), o.Token...)
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.callTimeout <= 0 {
		c.callTimeout = DefaultCallTimeout
	}
	if c.http == nil {
		tc, err := o.tlsConfig()
		if err != nil {
			return nil, err
		}
		tr := &http.Transport{
			Proxy:               nil, // the centre is reached directly, never through an environment proxy
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:     tc,
			TLSHandshakeTimeout: 5 * time.Second,
			// Every POS worker may be waiting on an authorization at once:
			// keep enough idle connections that a burst does not redial.
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 128,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   true,
		}
		c.http = &http.Client{Transport: tr}
	}
	return c, nil
}

// Close releases idle connections.
func (c *Client) Close() {
	c.http.CloseIdleConnections()
}

// call sends body (nil: GET) to path and decodes a 2xx answer into out.
func (c *Client) call(ctx context.Context, timeout time.Duration, method, path string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%w: encoding request: %w", ErrRejected, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.auth != nil {
		req.Header.Set("Authorization", string(c.auth))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The *url.Error's cause, without repeating the URL (the method
		// and path say enough; never the body).
		cause := errors.Unwrap(err)
		if cause == nil {
			cause = err
		}
		return fmt.Errorf("%w: %s %s: %w", ErrUnreachable, method, path, cause)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("%w: %s %s: reading answer: %w", ErrUnreachable, method, path, err)
	}
	if len(data) > maxAnswer {
		return fmt.Errorf("%w: %w: %s %s: answer too large", ErrUnreachable, ErrBadAnswer, method, path)
	}
	switch {
	case resp.StatusCode >= 500:
		return fmt.Errorf("%w: %s %s: %d%s", ErrUnreachable, method, path, resp.StatusCode, reason(data))
	case resp.StatusCode >= 300:
		return fmt.Errorf("%w: %s %s: %d%s", ErrRejected, method, path, resp.StatusCode, reason(data))
	}
	// One meaning per answer: a field in another case or a field twice
	// is a bad answer, not read case-insensitively or last-wins as
	// encoding/json would; fields a newer centre adds are ignored.
	if err := strictjson.Unmarshal(data, out, strictjson.Options{AllowUnknown: true}); err != nil {
		return fmt.Errorf("%w: %w: %s %s", ErrUnreachable, ErrBadAnswer, method, path)
	}
	return nil
}

// reason extracts the centre's short error text; bounded so that a
// misbehaving centre cannot fill the gateway's logs.
func reason(data []byte) string {
	var we WireError
	if json.Unmarshal(data, &we) != nil || we.Error == "" {
		return ""
	}
	if len(we.Error) > 120 {
		we.Error = we.Error[:120]
	}
	return ": " + we.Error
}

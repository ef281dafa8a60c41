package admin

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// hostPolicy decides which Host headers the listener answers. A browser
// sends the name of the page's origin, so a web page whose DNS name was
// rebound to 127.0.0.1 (DNS rebinding) sends its own name, never an IP
// address or "localhost": refusing every other name keeps such a page
// from reading anything on the admin listener.
type hostPolicy struct {
	port  string          // the bound port
	names map[string]bool // lower case, no trailing dot: the configured host and AllowedHosts
}

func newHostPolicy(configured string, bound net.Addr, allowed []string) hostPolicy {
	p := hostPolicy{names: map[string]bool{}}
	if ta, ok := bound.(*net.TCPAddr); ok {
		p.port = strconv.Itoa(ta.Port)
	}
	if h, _, err := net.SplitHostPort(configured); err == nil {
		p.names[canonHost(h)] = true
	}
	for _, h := range allowed {
		p.names[canonHost(h)] = true
	}
	return p
}

// allowed reports whether host (the request's Host header) names this
// listener: its bound port, and as host the configured one (empty for a
// listener on every interface), an allowed name, the IP address the
// client connected to, or — for a connection over loopback — localhost or
// a loopback address.
func (p hostPolicy) allowed(host string, local net.Addr) bool {
	if host == "" {
		return false
	}
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		// No port: the scheme's default, 80.
		h, port = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), "80"
	}
	if port != p.port {
		return false
	}
	h = canonHost(h)
	if p.names[h] {
		return true
	}
	var to netip.Addr
	if ta, ok := local.(*net.TCPAddr); ok {
		to = ta.AddrPort().Addr().Unmap().WithZone("")
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		ip = ip.Unmap().WithZone("")
		return ip == to || ip.IsLoopback() && to.IsLoopback()
	}
	return h == "localhost" && to.IsLoopback()
}

func canonHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// checkHost answers 403 to a request whose Host header does not name
// this listener, before any route sees it.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if !s.hosts.allowed(r.Host, local) {
			s.opts.Logger.Debug("admin request refused: Host header not accepted", "path", r.URL.Path)
			http.Error(w, "forbidden: the Host header does not name this listener (see admin.allowed_hosts)", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireToken answers 401 unless the request carries an admin token
// ("Authorization: Bearer <token>"; the scheme in any case, RFC 7235).
func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			s.opts.Logger.Debug("admin request refused: no valid admin token", "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Bearer realm="ecardgw-admin"`)
			http.Error(w, "unauthorized: an admin token is required (Authorization: Bearer, from the key file's admin_tokens)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) authorized(r *http.Request) bool {
	const scheme = "bearer "
	v := r.Header.Get("Authorization")
	if s.opts.Tokens == nil || len(v) <= len(scheme) ||
		subtle.ConstantTimeCompare([]byte(strings.ToLower(v[:len(scheme)])), []byte(scheme)) != 1 {
		return false
	}
	tok := strings.TrimSpace(v[len(scheme):])
	return tok != "" && s.opts.Tokens(tok)
}

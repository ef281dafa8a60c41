// Package admin is the gateway's admin HTTP listener: /metrics for
// Prometheus, /healthz (the process is alive), /readyz (the gateway can
// serve terminals: caller-supplied checks), /status (a JSON summary for
// `ecardgw status`), and net/http/pprof under /debug/pprof/ when the
// listener is bound to a loopback address.
//
// It is not the service API for the self-service front end. It must
// listen on loopback or a management network only (default
// 127.0.0.1:9100): it speaks plain HTTP. Every request must name the
// listener in its Host header (its address, localhost over loopback, or
// Options.AllowedHosts) or is refused with 403, so that a web page whose
// DNS name was rebound to the box reaches nothing. /metrics, /healthz,
// /readyz and /status need no token: they carry counts and states (what
// /status shows, /metrics shows too), never card numbers or keys. Routes
// in Options.Local (the journal export and the store backup, whose copy
// holds the accounts' card numbers) and pprof are served only on a
// loopback listener and only to a request with an admin token
// (Options.Tokens; the key file's admin_tokens), else 401.
package admin

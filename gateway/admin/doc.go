// Package admin is the gateway's admin HTTP listener: /metrics for
// Prometheus, /healthz (the process is alive), /readyz (the gateway can
// serve terminals: caller-supplied checks), /status (a JSON summary for
// `ecardgw status`), and net/http/pprof under /debug/pprof/ when the
// listener is bound to a loopback address.
//
// It is not the service API for the self-service front end, and it has no
// authentication: it must listen on loopback or a management network only
// (default 127.0.0.1:9100). Nothing it serves on every address carries card
// numbers or keys. Routes in Options.Local (the journal export and the
// store backup, whose copy holds the accounts' card numbers) are served
// only on a loopback listener, like pprof.
package admin

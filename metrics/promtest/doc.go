// Package promtest starts a real Prometheus server for tests: a temporary
// configuration scraping the given targets every second, a temporary
// TSDB directory, a free loopback port, and a Query helper over the HTTP
// API. It is how tests prove that what the gateway exports is scraped and
// queryable by the Prometheus operators run, not only well-formed.
//
// It is for tests only (it takes a testing.TB and fails it when the
// prometheus binary — Debian package prometheus — is missing; under
// `go test -short`, make test-short, Start and Promtool skip it instead).
// It is not a Prometheus client library.
package promtest

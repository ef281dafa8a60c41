// Package posim is the POS simulator behind cmd/posim: from one to tens of
// thousands of terminals over TCP on loopback, each signing in and then
// sending a lunch-peak mix (card purchases, campus codes minted with the
// issuing side, WeChat/Alipay payment codes, small-wallet settlements,
// inquiries), closed loop or paced by a think time, for a duration or a
// count. It keeps a live progress line, a summary with a latency
// histogram, JSON results for scripts and PNG plots, and it can run the
// bare gnet echo baseline in-process so a gateway figure can be divided by
// the event-loop limit measured in the same run.
//
// It also writes a self-contained simulation environment (gateway
// configuration, keys, accounts, campus-code issuer key; WriteEnv and
// "posim env"), holds signed-in idle terminals for memory figures (Hold),
// and combines interleaved runs (Combine), for tests and for the
// benchmark suite (gateway/testbed/benchsuite).
//
// Latency in a paced run (think time) is measured from each request's
// scheduled send time, so a gateway that falls behind shows the wait its
// terminals see (no coordinated omission); closed loop measures from the
// actual send. The simulated terminals' goroutines carry the pprof label
// posim=terminals, so an in-process profile can leave them out.
//
// A load generator must cost far less than what it measures, so a
// terminal's own work per request is kept small: nothing is allocated
// per request (the request and answer messages and buffers are reused),
// the session MAK's DES schedule is derived once per sign-in, not per
// MAC, and the clock is read twice per request. Every purchase is still
// a real 0200 with its MAC and every answer is still decoded and checked
// (MTI, STAN, MAC, response code). BenchmarkCardPurchaseClient measures
// that work without the network; "posim run --cpuprofile FILE" profiles
// a run, and a result's process_cpu_s is this process's CPU during the
// timed phase (the terminals' alone when the gateway runs in another
// process).
//
// It is not a POS implementation to ship (see gateway/posclient for the
// message building it uses), and it refuses non-loopback addresses: it is a
// load tool for the machine it runs on, never for somebody else's gateway.
package posim

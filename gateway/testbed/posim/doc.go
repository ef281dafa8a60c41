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
// It is not a POS implementation to ship (see gateway/posclient for the
// message building it uses), and it refuses non-loopback addresses: it is a
// load tool for the machine it runs on, never for somebody else's gateway.
package posim

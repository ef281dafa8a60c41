package daemon

import "ecardgw/gateway/config"

// PrimarySink names the sink that consumes the store's outbox under cfg
// (the forwarder's first: "centre" in connected mode, else "jetstream"
// when forward.nats is set), "" when nothing is forwarded. Dead letters
// of this sink can be requeued; newUpstream orders the sinks the same
// way.
func PrimarySink(cfg *config.Config) string {
	switch {
	case cfg.Mode == config.ModeConnected:
		return "centre"
	case cfg.Forward.NATS.URL != "":
		return "jetstream"
	}
	return ""
}

// primarySink is the running gateway's first sink ("" none).
func (d *Daemon) primarySink() string {
	if d.up == nil || len(d.up.sinks) == 0 {
		return ""
	}
	return d.up.sinks[0].Name()
}

// kickForwarder wakes the first forwarder (after a requeue).
func (d *Daemon) kickForwarder() {
	if len(d.forwarders) > 0 {
		d.forwarders[0].Kick()
	}
}

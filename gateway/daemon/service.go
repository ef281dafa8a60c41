package daemon

import (
	"fmt"

	"ecardgw/gateway/config"
	"ecardgw/gateway/service"
)

// startService starts the self-service HTTP API on listen.service. In
// connected mode the centre owns the ledger and the API is read-only.
// Tokens are read through the daemon so a SIGHUP key reload applies.
func (d *Daemon) startService() error {
	if len(d.keys.ServiceTokens) == 0 {
		d.log.Warn("service API not started: the key file has no service_tokens")
		return nil
	}
	opts := service.Options{
		Addr: d.cfg.Listen.Service,
		DB:   d.DB,
		Tokens: func(tok string) bool {
			d.mu.Lock()
			k := d.keys
			d.mu.Unlock()
			return k.ValidToken(tok)
		},
		ReadOnly:    d.cfg.Mode == config.ModeConnected,
		OnBlacklist: d.Engine.BlacklistChanged,
		Logger:      d.log,
		TopUpMaxFen: d.cfg.Limits.TopupMaxFen,
		GatewayID:   d.cfg.Gateway.ID,
	}
	if err := d.channelNotify(&opts); err != nil {
		return err
	}
	d.Service = service.New(opts)
	if err := d.Service.Start(); err != nil {
		return fmt.Errorf("service listener %s: %w", d.cfg.Listen.Service, err)
	}
	d.cleanup.add("service shutdown", d.Service.Shutdown)
	return nil
}

// serviceAddr is the service API's bound address, or "off".
func (d *Daemon) serviceAddr() string {
	if d.Service == nil {
		return "off"
	}
	return d.Service.Addr()
}

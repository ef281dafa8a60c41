package config

import "time"

// defaults lists every scalar and list key with its default. Viper's
// AutomaticEnv only consults the environment for keys it already knows, so
// a key missing here could not be overridden from the environment when the
// file leaves it out; the same list also defines which keys are known.
// It is a function because viper rewrites the maps it is given in place,
// and concurrent Loads must not share them.
func defaults() map[string]any {
	return map[string]any{
		"mode": string(ModeStandalone),

		"gateway.id": "",

		"listen.pos":     "127.0.0.1:8583",
		"listen.admin":   "127.0.0.1:9100",
		"listen.service": "127.0.0.1:9200",

		"admin.transfer_timeout": "5m",
		"admin.allowed_hosts":    []any{},

		"store.path":              "./var/ecardgw.db",
		"store.group_commit_wait": "0s",
		"store.check_wait":        "250ms",
		"keys.file":               "./var/keys.yaml",

		"terminals": []any{},

		"campuscode.validity":                "60s",
		"campuscode.skew":                    "30s",
		"campuscode.algorithms":              []any{string(AlgEd25519), string(AlgSM2)},
		"campuscode.cache_size":              100000,
		"campuscode.loss_blocks_campus_code": false,
		"campuscode.issuers":                 []any{},

		"server.max_frame":       2048,
		"server.idle_timeout":    "5m",
		"server.max_conns":       10000,
		"server.workers":         256,
		"server.max_in_flight":   32,
		"server.multicore":       true,
		"server.gogc":            1600,
		"server.memory_limit_mb": 1024,
		"server.gomaxprocs":      0,

		"server.frame_timeout":              "5s",
		"server.max_conns_per_addr":         32,
		"server.trusted_addrs":              []any{"127.0.0.0/8", "::1/128"},
		"server.max_conns_per_trusted_addr": 0,

		"server.buffer_budget_mb": 0,

		"limits.daily_fen":        int64(0),
		"limits.topup_max_fen":    int64(99900),
		"limits.wallet_limit_fen": int64(1000),
		"limits.advice_max_fen":   int64(20000),

		"centre.url":                      "",
		"centre.timeout":                  "1.5s",
		"centre.tls.ca_file":              "",
		"centre.tls.cert_file":            "",
		"centre.tls.key_file":             "",
		"centre.tls.insecure_skip_verify": false,
		"centre.insecure":                 false,
		"centre.breaker_failures":         3,
		"centre.breaker_open":             "5s",

		"standin.per_txn_fen":     int64(5000),
		"standin.per_account_fen": int64(20000),

		"payments.url":                      "",
		"payments.poll_limit":               "30s",
		"payments.poll_interval":            "1s",
		"payments.max_pending":              1024,
		"payments.max_pending_per_terminal": 2,
		"payments.insecure":                 false,

		"payments.wechat.url":       "",
		"payments.wechat.app_id":    "",
		"payments.wechat.mch_id":    "",
		"payments.wechat.client_ip": "",
		"payments.wechat.ca_file":   "",
		"payments.wechat.insecure":  false,
		"payments.alipay.url":       "",
		"payments.alipay.app_id":    "",
		"payments.alipay.ca_file":   "",
		"payments.alipay.insecure":  false,

		"log.level":  "info",
		"log.format": "text",

		"cardio.enabled": false,
		"cardio.readers": []any{
			map[string]any{"match": "Virtual PCD 00 00", "terminal": "D0000001", "role": string(RoleDesk)},
		},

		"forward.nats.url":           "",
		"forward.nats.stream":        "ECARDGW",
		"forward.nats.subject":       "ecardgw.records",
		"forward.nats.replay_bucket": "",

		"session.key_lifetime":                  "24h",
		"forward.nats.tls.ca_file":              "",
		"forward.nats.tls.cert_file":            "",
		"forward.nats.tls.key_file":             "",
		"forward.nats.tls.insecure_skip_verify": false,
		"forward.nats.nkey_file":                "",
		"forward.nats.insecure":                 false,

		"retention.journal":     "0s",
		"retention.outbox":      "0s",
		"retention.idempotency": "0s",
		"retention.archive_dir": "",
		"retention.interval":    "1h",
	}
}

// Limits of the wire format and of the rules; see shared/spec.
const (
	minFrame       = 64    // TPDU + header + MTI + bitmap + a few fields
	maxFrame       = 65535 // LEN is two bytes
	maxTopupFen    = 99900 // 999.00 per top-up (rules.md)
	maxPollLimit   = 60 * time.Second
	maxLocationLen = 100
)

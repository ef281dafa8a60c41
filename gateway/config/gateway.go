package config

// Gateway identifies this gateway among others sharing one centre or
// one JetStream stream.
type Gateway struct {
	// ID namespaces the idempotency keys of the records the gateway
	// writes on its own (the service API's: "API-<id>"), so that two
	// gateways' records never collide by key. 1 to 12 letters, digits,
	// '-' or '_'; empty keeps the single-gateway "API" terminal.
	ID string `mapstructure:"id"`
}

// GatewayIDMax is the longest gateway.id: "API-" and the id fill the 16
// characters of a record key's terminal.
const GatewayIDMax = 12

// ValidGatewayID reports whether id may be a gateway.id.
func ValidGatewayID(id string) bool {
	if id == "" || len(id) > GatewayIDMax {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= '0' && ch <= '9' || ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch == '-' || ch == '_') {
			return false
		}
	}
	return true
}

func (c *Config) validateGateway(ck *checker) {
	switch id := c.Gateway.ID; {
	case id != "" && !ValidGatewayID(id):
		ck.bad("gateway.id", "must be 1 to %d letters, digits, '-' or '_'", GatewayIDMax)
	case id == "" && c.Forward.NATS.URL != "":
		ck.warn("gateway.id is empty while forward.nats.url is set: give every gateway sharing the stream its own id, " +
			"or their service API records collide by key")
	}
}

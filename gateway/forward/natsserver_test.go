package forward

import (
	"testing"

	"ecardgw/gateway/forward/natstest"
)

func startNATS(t testing.TB) *natstest.Server { return natstest.Start(t) }

package reader

import (
	"testing"

	"ecardgw/cardio/pcsctest"
)

// TestMain runs the package against a real pcscd with the vpcd reader.
func TestMain(m *testing.M) { pcsctest.Main(m) }

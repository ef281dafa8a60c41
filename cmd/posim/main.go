// Command posim simulates POS terminals against an ecardgw gateway on this
// machine; see gateway/testbed/posim.
package main

import (
	"fmt"
	"os"

	"ecardgw/gateway/testbed/posim"
)

func main() {
	if err := posim.NewCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "posim:", err)
		os.Exit(1)
	}
}

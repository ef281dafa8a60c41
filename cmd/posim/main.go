// Command posim simulates POS terminals against an ecardgw gateway on this
// machine; see gateway/posim.
package main

import (
	"fmt"
	"os"

	"ecardgw/gateway/posim"
)

func main() {
	if err := posim.NewCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "posim:", err)
		os.Exit(1)
	}
}

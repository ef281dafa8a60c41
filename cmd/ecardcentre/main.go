// Command ecardcentre is the reference card centre for connected mode:
// `ecardcentre accounts import --data DIR ACCOUNTS.csv` and
// `ecardcentre serve --listen ADDR --data DIR`. Everything lives in
// gateway/testbed/refcentre, where tests reach it.
package main

import (
	"os"

	"ecardgw/gateway/testbed/refcentre"
)

func main() { os.Exit(refcentre.Execute(os.Args[1:])) }

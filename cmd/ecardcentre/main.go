// Command ecardcentre is the reference card centre for connected mode:
// `ecardcentre accounts import --data DIR ACCOUNTS.csv` and
// `ecardcentre serve --listen ADDR --data DIR`. Everything lives in
// gateway/refcentre, where tests reach it.
package main

import (
	"os"

	"ecardgw/gateway/refcentre"
)

func main() { os.Exit(refcentre.Execute(os.Args[1:])) }

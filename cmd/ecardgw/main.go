// Command ecardgw is the campus-card terminal gateway. Everything it does
// lives in gateway/cli and the packages it calls, where tests reach it.
package main

import (
	"os"

	"ecardgw/gateway/cli"
)

func main() { os.Exit(cli.Execute()) }

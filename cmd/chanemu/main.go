// Command chanemu is the payment channel emulator (WeChat Pay payment
// code API v2, Alipay bar code): `chanemu serve --keys FILE --listen ADDR`
// and `chanemu demo --config ./var/ecardgw.yaml` (make run
// CHANNELS=emulator). Everything lives in gateway/testbed/chanemu, where
// tests reach it.
package main

import (
	"os"

	"ecardgw/gateway/testbed/chanemu"
)

func main() { os.Exit(chanemu.Execute(os.Args[1:])) }

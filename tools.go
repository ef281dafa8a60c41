//go:build tools

// Package tools pins the project's dependencies in go.mod while the
// packages that use them are being written. Remove an import once real code
// imports it.
package tools

import (
	_ "github.com/ebfe/scard"
	_ "github.com/emmansun/gmsm/sm2"
	_ "github.com/emmansun/gmsm/sm3"
	_ "github.com/emmansun/gmsm/sm4"
	_ "github.com/mdp/qrterminal/v3"
	_ "github.com/moov-io/iso8583"
	_ "github.com/moov-io/iso8583/encoding"
	_ "github.com/moov-io/iso8583/field"
	_ "github.com/moov-io/iso8583/prefix"
	_ "github.com/nats-io/nats.go"
	_ "github.com/nats-io/nats.go/jetstream"
	_ "github.com/panjf2000/gnet/v2"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/prometheus/client_golang/prometheus/testutil"
	_ "github.com/prometheus/client_golang/prometheus/testutil/promlint"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/spf13/cobra"
	_ "github.com/spf13/viper"
	_ "github.com/stretchr/testify/assert"
	_ "github.com/stretchr/testify/require"
	_ "go.etcd.io/bbolt"
	_ "gonum.org/v1/plot"
	_ "gonum.org/v1/plot/plotter"
	_ "gonum.org/v1/plot/vg"
	_ "rsc.io/qr"
)

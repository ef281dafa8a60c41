package promtest

import "errors"

var (
	// ErrNoData means a query returned no sample.
	ErrNoData = errors.New("promtest: query returned no data")
	// ErrQuery means the Prometheus API answered with an error.
	ErrQuery = errors.New("promtest: query failed")
)

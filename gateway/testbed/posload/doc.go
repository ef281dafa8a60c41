// Package posload turns a fleet of POS terminals into load for
// gateway/testbed/loadgen: echo tests, signed-in card purchases and inquiries, one
// terminal and one card per connection. The gateway's benchmarks, posim
// and the benchmark suite use it, so every figure is measured with the
// same client.
package posload

//go:build !race

package service

const latencyScale = 1

# ecardgw — make run (demo gateway on loopback), make test (the whole suite).
GO        ?= go
VAR       ?= ./var
CONFIG    ?= $(VAR)/ecardgw.yaml
FUZZTIME  ?= 20s
BENCHTIME ?= 1s
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X ecardgw/gateway/cli.Version=$(VERSION) -X ecardgw/gateway/cli.Revision=$(REVISION)
BIN       := bin
# staticcheck, run through the module proxy at a pinned version that
# builds with this Go.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all deps deps-test build run test test-short bench fuzz lint clean

all: build

# The Debian packages the build needs (cgo headers for PC/SC), and those the
# tests start or call (pcscd with the vpcd reader, nats-server, prometheus):
# each checked with dpkg and the missing ones installed with apt-get, as
# root or through sudo (.ci/deps). A no-op once they are there.
deps:
	@bash .ci/deps build

deps-test:
	@bash .ci/deps build test

build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

# Set up demo keys, terminals and accounts under ./var (once) and run the
# gateway in standalone mode on loopback. make run CHANNELS=emulator also
# starts the payment channel emulator (chanemu) on $(CHANEMU) as WeChat Pay
# and Alipay, with the demo payers bound to the first demo account
# (docs/payments.md), so posim's wechat and alipay kinds are paid there.
CHANNELS ?=
CHANEMU  ?= 127.0.0.1:8490
EMUENV   := ECARDGW_PAYMENTS_WECHAT_URL=http://$(CHANEMU) ECARDGW_PAYMENTS_WECHAT_APP_ID=wx0000000000000001 \
	ECARDGW_PAYMENTS_WECHAT_MCH_ID=1900000001 ECARDGW_PAYMENTS_ALIPAY_URL=http://$(CHANEMU)/gateway.do \
	ECARDGW_PAYMENTS_ALIPAY_APP_ID=2021000000000001
run: build
	$(BIN)/ecardgw demo init --dir $(VAR)
	$(BIN)/ecardgw accounts import --config $(CONFIG) $(VAR)/accounts.csv
ifeq ($(CHANNELS),emulator)
	$(BIN)/chanemu demo --config $(CONFIG)
	$(BIN)/chanemu serve --keys $(VAR)/chanemu.yaml --listen $(CHANEMU) --demo-payers & emu=$$!; \
	trap 'kill $$emu 2>/dev/null' EXIT INT TERM; \
	$(EMUENV) $(BIN)/ecardgw serve --config $(CONFIG)
else
	$(BIN)/ecardgw serve --config $(CONFIG)
endif

# The whole suite with the race detector. The tests start nats-server and
# prometheus themselves; .ci/pcscd keeps one pcscd with the vpcd readers up
# for the whole run.
test: deps-test
	$(GO) vet ./...
	bash .ci/pcscd $(GO) test -race -count=1 -timeout 20m ./...

# The quick loop: -short skips the tests that run nats-server, Prometheus,
# promtool, systemd-analyze or pcscd, and those that kill a process with
# SIGKILL, so it needs only the build packages and starts no daemon. The
# skipped tests still fail in make test when what they need is missing.
test-short: deps
	$(GO) test -count=1 -short ./...

bench: deps-test
	$(GO) run ./cmd/benchsuite -out docs/BENCHMARKS.md -benchtime $(BENCHTIME)

# Every native fuzz target, each for FUZZTIME.
fuzz: deps
	FUZZTIME=$(FUZZTIME) bash .ci/fuzz.sh

lint: deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf $(BIN)

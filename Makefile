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

.PHONY: all build run test test-short bench fuzz lint clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

# Set up demo keys, terminals and accounts under ./var (once) and run the
# gateway in standalone mode on loopback.
run: build
	$(BIN)/ecardgw demo init --dir $(VAR)
	$(BIN)/ecardgw accounts import --config $(CONFIG) $(VAR)/accounts.csv
	$(BIN)/ecardgw serve --config $(CONFIG)

# The whole suite with the race detector. Tests that need pcscd, nats-server
# or prometheus start them (see .ci/run for what must be installed).
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

test-short:
	$(GO) test -count=1 -short ./...

bench:
	$(GO) run ./cmd/benchsuite -out docs/BENCHMARKS.md -benchtime $(BENCHTIME)

# Every native fuzz target, each for FUZZTIME.
fuzz:
	FUZZTIME=$(FUZZTIME) bash .ci/fuzz.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf $(BIN)

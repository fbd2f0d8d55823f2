# Gateledger: the two commands a new user needs are `make run` and `make test`.
# Each one fetches what it needs (Go modules through the module proxy).

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
BIN := bin/gateledger
DATA ?= ./data
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0
# Test timeout is generous: CI machines are shared and slow, and the crash test restarts
# a store many times.
TEST_TIMEOUT ?= 20m

.PHONY: all build run test test-short bench lint fmt clean

all: build

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/gateledger

## run: build and start the ledger on its embedded event store in $(DATA), with demo data
run: build
	./$(BIN) serve --data $(DATA) --log-format text --demo

## test: vet, then every test with the race detector
test:
	$(GO) vet ./...
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...

## test-short: the tests without the long crash and load runs
test-short:
	$(GO) test -short ./...

## bench: store figures side by side with the disk's limits, then the Go benchmarks
bench: build
	./$(BIN) bench
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...

## lint: formatting, vet, staticcheck, and govulncheck where its database is reachable
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@$(GO) run $(GOVULNCHECK) ./... || echo "govulncheck could not complete (it needs vuln.go.dev); see its output above"

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin

# Gateledger: the two commands a new user needs are `make run` and `make test`.
# Each one fetches what it needs (Go modules through the module proxy).

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
BIN := bin/gateledger
DATA ?= ./data
# HTTP is where make run serves the API and pages (port 0 picks a free one).
HTTP ?= $(or $(GATELEDGER_HTTP_LISTEN),127.0.0.1:8080)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0
# Test timeout is generous: CI machines are shared and slow, and the crash test restarts
# a store many times.
TEST_TIMEOUT ?= 20m

.PHONY: all assets browser build run test test-short bench lint fmt clean

all: build

# The web pages' front-end files: npm installs the packages locked in
# web/package-lock.json, and their precompiled dist files are copied where
# go:embed picks them up (web/pages/assets/dist, not committed).
WEB_DIST := web/pages/assets/dist
NPM ?= npm

web/node_modules/.gateledger-installed: web/package.json web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund
	touch $@

## assets: install the front-end packages and copy their dist files for go:embed
assets: web/node_modules/.gateledger-installed
	find $(WEB_DIST) -mindepth 1 ! -name README -delete
	mkdir -p $(WEB_DIST)/fonts $(WEB_DIST)/images
	cp web/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css \
	   web/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js \
	   web/node_modules/govuk-frontend/dist/govuk/assets/manifest.json \
	   web/node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.css \
	   web/node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.js $(WEB_DIST)/
	cp web/node_modules/govuk-frontend/dist/govuk/assets/fonts/* $(WEB_DIST)/fonts/
	cp web/node_modules/@ministryofjustice/frontend/moj/assets/images/* $(WEB_DIST)/images/
	cp web/node_modules/govuk-frontend/dist/govuk/assets/images/* $(WEB_DIST)/images/

# The browser tests drive Debian's Chromium; install it when it is missing
# (as root, or through sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y chromium; }

build: assets
	$(GO) build -trimpath -o $(BIN) ./cmd/gateledger

## run: build and start the ledger on its embedded event store in $(DATA), with demo data
run: build
	./$(BIN) serve --data $(DATA) --http-listen $(HTTP) --log-format text --demo

## test: vet, then every test with the race detector
test: assets browser
	$(GO) vet ./...
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...

## test-short: the tests without the long crash and load runs
test-short: assets
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

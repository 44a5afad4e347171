# muster: build, test, benchmark and fuzz. `make help` lists the targets.
GO ?= go
FUZZTIME ?= 10s
BIN := bin/muster

.PHONY: help build test bench fuzz lint clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build bin/muster
	$(GO) build -o $(BIN) ./cmd/muster

test: ## run every test (the command README.md and .ci/run use)
	$(GO) test -count=1 ./...

bench: ## run the go benchmarks, the peer comparison of bench/compile and a short bench/scale
	$(GO) test -run='^$$' -bench=. -benchmem ./...
	$(GO) run ./bench/compile
	$(GO) run ./bench/plan
	$(GO) run ./bench/apply
	$(GO) run ./bench/agents
	$(GO) run ./bench/scale --nodes 1000 --jobs 10 --count 1000

fuzz: ## run every fuzz target for FUZZTIME each
	./.ci/fuzz $(FUZZTIME)

lint: ## go vet and gofmt
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }

clean:
	rm -rf bin

# Watchkeeper.
#   make demo   runs the main job against moto (needs moto_server: pip install 'moto[server]==5.2.1')
#   make test   runs every test (vet, staticcheck, unit + moto + CDK tests, bounded fuzzing)
SHELL := /bin/bash
GO ?= go
export GOFLAGS := -buildvcs=false
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

FUZZTIME ?= 10s

.PHONY: test vet lint unit fuzz demo bench reliability bootstrap clean

test: vet lint unit fuzz

vet:
	$(GO) vet ./...

lint:
	$(GO) tool staticcheck ./...

unit:
	$(GO) test -count=1 -timeout 25m ./...

# Each fuzz target runs for a bounded time on top of its committed seed corpus.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./pkg/filterpattern
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./pkg/trigger
	$(GO) test -run='^$$' -fuzz='^FuzzFromEnv$$' -fuzztime=$(FUZZTIME) ./pkg/config

demo:
	$(GO) run ./test/demo

# API calls, round trips and memory of a full audit, plus Lambda cold start,
# handler overhead, binary size and peak RSS; written to bench-report.md.
bench:
	mkdir -p dist
	$(GO) run ./test/bench -out dist/bench-engine.md
	$(GO) run ./test/lambdabench -out dist/bench-lambda.md
	cat dist/bench-engine.md dist/bench-lambda.md > bench-report.md
	@echo "wrote bench-report.md"

# Convergence under injected AWS faults (200 seeded schedules), concurrency,
# partial failure and deadlines; written to reliability-report.md.
reliability:
	$(GO) run ./test/reliability/cmd/report -out reliability-report.md

# The Lambda artifact as deployed (the CDK app builds the same thing during synth).
bootstrap:
	mkdir -p dist
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags="-s -w" -o dist/bootstrap ./functions/remediator

clean:
	rm -rf dist cdk.out bench-report.md reliability-report.md

# Watchkeeper.
#   make demo   runs the main job against moto (needs moto_server: pip install 'moto[server]==5.2.1')
#   make deploy-local  deploys the real stack into a local moto_server with the CDK CLI
#   make test   runs every test (vet, staticcheck, unit + moto + CDK tests, bounded fuzzing),
#               installing first whatever of its tools the machine lacks (make deps)
SHELL := /bin/bash
GO ?= go
export GOFLAGS := -buildvcs=false
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

FUZZTIME ?= 10s

.PHONY: test deps vet lint unit fuzz demo bench reliability bootstrap clean

test: deps vet lint unit fuzz

PIP_INSTALL := python3 -m pip install --quiet --disable-pip-version-check

# What the tests need beyond Go, installed only when missing: moto_server,
# cfn-lint, the aws CLI v1 and the CDK CLI pinned in package-lock.json (npm ci
# again when the lock file is newer than the install). Silent when all is there.
deps: node_modules/.package-lock.json
	@command -v moto_server >/dev/null 2>&1 || { echo "installing moto[server]==5.2.1"; $(PIP_INSTALL) 'moto[server]==5.2.1'; }
	@command -v cfn-lint >/dev/null 2>&1 || { echo "installing cfn-lint==1.51.0"; $(PIP_INSTALL) 'cfn-lint==1.51.0'; }
	@command -v aws >/dev/null 2>&1 || { echo "installing awscli<2"; $(PIP_INSTALL) 'awscli<2'; }

# npm ci rewrites node_modules/.package-lock.json; its postinstall drops a
# go.mod into node_modules so "go ./..." never walks into it.
node_modules/.package-lock.json: package-lock.json package.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

vet:
	$(GO) vet ./...

lint:
	$(GO) tool staticcheck ./...

# The CLI and the Lambda bootstrap are built once here, side by side, and
# handed to every suite that runs them (test/harness, test/lambdart) rather
# than linked again by each. Test binaries are linked without DWARF (-w):
# nothing here runs a debugger, and panics' stack traces do not use it.
#
# A moto zygote (test/moto/server.py --zygote) imports moto once and forks
# every suite's moto servers (test/moto, WATCHKEEPER_MOTO_ZYGOTE): about
# forty servers, each of which would spend ~2.5 s of CPU importing moto.
# Without python3 and moto the suites start their own servers as before.
#
# go test runs the packages in the order they are named (two at a time on
# two cores) and ./... adds the rest; the suites that take longest are named
# first, so none of them starts last and runs on alone while a core idles.
TESTBIN := $(CURDIR)/dist/testbin
LONGEST_FIRST := ./test/cdkcheck ./test/scenarios ./test/verdicts ./test/reliability ./test/config ./infra ./pkg/engine
unit:
	@mkdir -p $(TESTBIN); zdir=$$(mktemp -d); zygote_sock=$$zdir/moto.sock; \
	  python3 test/moto/server.py --zygote $$zygote_sock > $(TESTBIN)/moto-zygote.log 2>&1 & zygote=$$!; \
	  trap 'kill $$zygote 2>/dev/null; rm -rf $$zdir' EXIT; \
	  $(GO) build -o $(TESTBIN)/remediator ./functions/remediator & cli=$$!; \
	  CGO_ENABLED=0 GOOS=linux $(GO) build -tags lambda.norpc -o $(TESTBIN)/bootstrap ./functions/remediator || exit 1; \
	  wait $$cli || exit 1; \
	  until grep -q ready $(TESTBIN)/moto-zygote.log || ! kill -0 $$zygote 2>/dev/null; do sleep 0.2; done; \
	  if kill -0 $$zygote 2>/dev/null; then export WATCHKEEPER_MOTO_ZYGOTE=$$zygote_sock; \
	  else echo "no moto zygote ($(TESTBIN)/moto-zygote.log): each suite starts its own moto_server"; fi; \
	  echo "$(GO) test -count=1 -ldflags=-w -timeout 25m $(LONGEST_FIRST) ./..."; \
	  WATCHKEEPER_CLI=$(TESTBIN)/remediator WATCHKEEPER_BOOTSTRAP=$(TESTBIN)/bootstrap \
	    $(GO) test -count=1 -ldflags=-w -timeout 25m $(LONGEST_FIRST) ./...

# Each fuzz target runs for a bounded time on top of its committed seed
# corpus. The three run side by side: -fuzztime is wall-clock time, so in
# sequence they would add three times FUZZTIME to every "make test".
FUZZ_TARGETS := FuzzParse=./pkg/filterpattern FuzzDecode=./pkg/trigger FuzzFromEnv=./pkg/config
fuzz:
	@pids=(); for t in $(FUZZ_TARGETS); do \
	  $(GO) test -run='^$$' -fuzz="^$${t%%=*}$$" -fuzztime=$(FUZZTIME) -parallel=1 "$${t#*=}" & pids+=($$!); \
	done; rc=0; for p in "$${pids[@]}"; do wait $$p || rc=1; done; exit $$rc

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

# The real stack, synthesized, bootstrapped and deployed with the CDK CLI
# into a local moto_server that keeps running until Ctrl-C: a deployment
# to look at with no AWS account (docs/deploy.md). Synth context goes in
# ARGS, e.g. make deploy-local ARGS='-c provisionTrail=true'.
.PHONY: deploy-local
deploy-local: node_modules/.package-lock.json
	$(GO) run ./test/deploylocal -- $(ARGS)

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

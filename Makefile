# Watchkeeper. "make demo" runs the main job against moto; "make test" runs every test.
SHELL := /bin/bash
GO ?= go
export GOFLAGS := -buildvcs=false
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: test vet lint unit demo bench fuzz build bootstrap clean

test: vet lint unit

vet:
	$(GO) vet ./...

lint:
	$(GO) tool staticcheck ./...

unit:
	$(GO) test -count=1 -timeout 20m ./...

demo:
	$(GO) run ./test/demo

build bootstrap:
	mkdir -p dist
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags="-s -w" -o dist/bootstrap ./functions/remediator

clean:
	rm -rf dist cdk.out

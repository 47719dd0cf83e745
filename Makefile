# Tributary: the two commands that matter are `make demo` and `make test`.
# Both install and start what they need (Kafka, PostgreSQL, the embedding
# model) through scripts/stack; both are safe to run again.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# Build outputs live outside the clone so a fresh clone (CI) reuses them.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/tributary/target
STACK := scripts/stack/stack.sh

.PHONY: help demo test test-unit test-deploy bench lint stack-up stack-down stack-status build clean-demo

help:
	@echo "make demo          stack up, migrate, sync examples/vault, index, search, dispatch, metrics, status"
	@echo "make test          stack up, fmt + clippy, deploy checks, unit and integration tests"
	@echo "make test-unit     the tests that need no service (no stack), in seconds once built"
	@echo "make bench         release build, runs bench/sections/*, writes BENCHMARKS.md"
	@echo "make test-deploy   helm lint/template, kubeconform, promtool, rendered command lines"
	@echo "make stack-up      install (if needed) and start Kafka, PostgreSQL, the model"
	@echo "make stack-down    stop Kafka and PostgreSQL"
	@echo "make stack-status  what is running"

stack-up:
	@$(STACK) up

stack-down:
	@$(STACK) down

stack-status:
	@$(STACK) status

build:
	cargo build --locked -p tributary

demo: stack-up build
	@scripts/demo.sh

lint:
	cargo fmt --all --check
	cargo clippy --locked --workspace --all-targets -- -D warnings

# The chart, the alert rules and the command lines the chart renders
# (scripts/check-deploy.sh); installs helm, kubeconform and promtool once.
test-deploy:
	@scripts/check-deploy.sh

bench: stack-up
	@bench/run.sh

# Tier 1: every test inside the crates (src/), none needs Kafka, PostgreSQL
# or the model. Tier 2 (integration: cli/tests, indexer/tests) runs in `make test`.
test-unit:
	cargo test --locked --workspace --lib --bins

test: stack-up lint test-deploy
	@scripts/test.sh

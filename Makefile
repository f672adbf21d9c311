# netosis — the two commands that matter: `make demo` and `make test`.
# Both install missing system packages first (apt-get, as root), then build in release.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# One release configuration for everything (tests need -enable-testing; one build serves both).
SWIFT_FLAGS := -c release -Xswiftc -enable-testing
BIN = $(shell swift build $(SWIFT_FLAGS) --show-bin-path 2>/dev/null)

# mpirun as root (CI, containers) and more ranks than cores are handled here, never by the user.
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export OMPI_MCA_btl := self,vader
export OMPI_MCA_rmaps_base_oversubscribe := 1

# OpenBLAS kernels: the rule in tools/openblas-coretype.sh (SkylakeX on AVX-512 CPUs unless
# NETOSIS_OPENBLAS_CORETYPE says otherwise). OpenBLAS reads it at load time, so it must be exported
# before any test binary starts; netosis itself re-applies the same rule by re-exec.
CORETYPE := $(shell tools/openblas-coretype.sh)
ifeq ($(CORETYPE),)
unexport OPENBLAS_CORETYPE
else
export OPENBLAS_CORETYPE := $(CORETYPE)
endif

.PHONY: help setup build test demo demo-celldeath bench clean doctor parity bench-torch

help:
	@echo "make demo   install deps, build, run the pipeline on the embedded synthetic plates"
	@echo "make demo-celldeath  the celldeath method (whole-image cell-death classifier) on synthetic photographs"
	@echo "make test   install deps, build, run all tests (mpirun -np 2/3, a real sbatch on a local Slurm)"
	@echo "make build  release build (.build/release/netosis)"
	@echo "make bench  benchmarks (see docs/benchmarks.md)"
	@echo "make parity full DenseNet-121 parity with torchvision (needs a torch venv, docs/neural.md)"
	@echo "make bench-torch  netosis vs PyTorch, interleaved (needs a torch venv)"
	@echo "make setup  apt-get install the missing system packages"

setup:
	@tools/setup-deps.sh

build: setup
	swift build $(SWIFT_FLAGS)

doctor: build
	mpirun -np 2 $(BIN)/netosis doctor

test: setup
	swift build $(SWIFT_FLAGS) --build-tests
	tools/dependency-graph.py --check docs/architecture.md
	slurm/with-local-slurm.sh tools/run-tests.sh $(SWIFT_FLAGS) --skip-build

demo: build
	tools/demo.sh $(BIN)

demo-celldeath: build
	tools/demo-celldeath.sh $(BIN)

bench: build
	tools/bench.sh $(BIN)

# PyTorch comparisons: need torch + torchvision in a venv under /tmp (docs/neural.md), never in the repo.
TORCH_PY ?= /tmp/torch-venv/bin/python

parity: build
	$(TORCH_PY) tools/full_parity.py --netosis $(BIN)/netosis

bench-torch: build
	NETOSIS=$(BIN)/netosis TORCH_PY=$(TORCH_PY) bench/compare_torch.sh 3 2 32

clean:
	rm -rf .build demo-out

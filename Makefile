# One environment, one entry point: CI runs the same `make test` a developer runs.
#   make book [PROFILE=quick|smoke|full] [SCHEDULER=tcp://HOST:PORT]   run every experiment, build the book
#   make test                               unit tests (the browser test included), then nbval in `smoke`
#   make bench                              training-step benchmark: snnlib vs SpikingJelly vs snnTorch
PYTHON  ?= python3.11
PROFILE ?= quick
SCHEDULER ?=
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# The chapters, in build order with the appendix last, as snnlib's registry declares them
# (snnlib/study/config.py; `snnlib chapters`). Recursively expanded (=): the venv exists only after
# `make install`, so they are asked for when a recipe that depends on install runs, never at parse time.
CHAPTERS = $(shell $(BIN)/python -m snnlib chapters)
BODY     = $(shell $(BIN)/python -m snnlib chapters --part body)
APPENDIX = $(shell $(BIN)/python -m snnlib chapters --part appendix)
HAVE_CHAPTERS = @test -n "$(CHAPTERS)" || { echo "make: '$(BIN)/python -m snnlib chapters' named no chapter" >&2; exit 1; }
NBVAL_DIR := build/nbval

.PHONY: install book experiments test unit nbval bench plan clean pdf

install: $(STAMP)

# Rebuilt only when pyproject.toml changes. Packages named in [tool.snnlib] install-without-deps
# (spikingjelly: its torchvision/torchaudio are never imported; neurobench: its metrics never import
# tonic/torchaudio) go in with --no-deps.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import tomllib; c = tomllib.load(open('pyproject.toml', 'rb')); \
	  nodeps = c['tool']['snnlib']['install-without-deps']; deps = c['project']['dependencies']; \
	  open('$(VENV)/requirements.txt', 'w').write('\n'.join(d for d in deps if d.split('==')[0] not in nodeps)); \
	  open('$(VENV)/requirements-nodeps.txt', 'w').write('\n'.join(d for d in deps if d.split('==')[0] in nodeps))"
	$(BIN)/python -m pip install -q -r $(VENV)/requirements.txt
	$(BIN)/python -m pip install -q --no-deps -r $(VENV)/requirements-nodeps.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

# Every run of every experiment trains first, in one sweep (one queue, the largest groups first); then the
# chapters execute NOTEBOOK_JOBS at a time (they only read records), the appendix last (it describes them).
NOTEBOOK_JOBS ?= 2

experiments: install
	$(HAVE_CHAPTERS)
	$(BIN)/python -m snnlib train all --profile $(PROFILE) $(if $(SCHEDULER),--scheduler $(SCHEDULER))
	@printf '%s\n' $(BODY) | xargs -P $(NOTEBOOK_JOBS) -I{} \
	  $(BIN)/python -m snnlib run {} --profile $(PROFILE) $(if $(SCHEDULER),--scheduler $(SCHEDULER))
	for nb in $(APPENDIX); do $(BIN)/python -m snnlib run $$nb --profile $(PROFILE) || exit 1; done

book: experiments
	$(BIN)/jupyter-book build book --warningiserror --keep-going --quiet
	@echo "The book is at $(CURDIR)/book/_build/html/index.html"

# The whole book as one PDF, offline: Chromium prints every page in toc order, pypdf merges them.
pdf: book
	$(BIN)/python -m snnlib.study.pdf book/_build/html book/_build/pdf/book.pdf

unit: install
	$(BIN)/python -m pytest tests

# nbval executes the real notebooks; papermill --prepare-only injects the smoke profile first.
nbval: install
	$(HAVE_CHAPTERS)
	rm -rf $(NBVAL_DIR) && mkdir -p $(NBVAL_DIR)
	@for nb in $(CHAPTERS); do \
	  $(BIN)/papermill --prepare-only notebooks/$$nb.ipynb $(NBVAL_DIR)/$$nb.ipynb -p profile smoke > /dev/null 2>&1 || exit 1; done
	SNNLIB_RESULTS=$(CURDIR)/$(NBVAL_DIR)/results SNNLIB_EXECUTED=$(CURDIR)/$(NBVAL_DIR)/executed \
	  $(BIN)/python -m pytest --nbval-lax -p no:cacheprovider $(NBVAL_DIR)

test: unit nbval

bench: install
	$(BIN)/python -m snnlib bench

plan: install
	$(BIN)/python -m snnlib plan all --profile $(PROFILE)

clean:
	-test -x $(BIN)/python && $(BIN)/python -m snnlib clean
	rm -rf book/_build build

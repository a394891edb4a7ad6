# aigc-course: the README's commands. The first run of any target creates .venv from
# pyproject.toml; later runs reuse it (it is rebuilt only when pyproject.toml changes).

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
LAB_ARGS ?=
# JupyterLab refuses to run as root (as in many containers) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)
NB_SMOKE_BUDGET ?= 60

.PHONY: help setup lab test unit notebooks exercises lint format book notebooks-build checkpoints gpu clean

help:
	@echo "make lab          set up on first run, then open JupyterLab on notebooks/"
	@echo "make test         set up on first run, then lint, unit tests and every notebook (smoke mode)"
	@echo "make book         build the Jupyter Book site into book/_build/html (offline)"
	@echo "make checkpoints  remake every committed checkpoint from its recipe (full mode; slow)"
	@echo "make gpu          the CUDA tests, every notebook included (needs a CUDA GPU)"
	@echo "make notebooks-build  re-execute every notebook in workshop mode and save outputs"

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --user --name aigc-course --display-name "Python (aigc-course)" >/dev/null
	@touch $(STAMP)
	@echo "environment ready in $(VENV)"

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(ROOT_FLAG) $(LAB_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/nbbuild.py --check

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

unit: $(STAMP)
	$(BIN)/python -m pytest tests -q

# Every notebook, top to bottom, in smoke mode and offline; the time of each is printed
# and one over NB_SMOKE_BUDGET seconds fails the run.
notebooks: $(STAMP)
	AIGC_MODE=smoke AIGC_OFFLINE=1 NB_SMOKE_BUDGET=$(NB_SMOKE_BUDGET) MPLBACKEND=agg \
	  $(BIN)/python -m pytest notebooks -q -p no:cacheprovider -p tests.nbval_timing --nbval-lax \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg

# The notebooks that hold exercises, again, with every self-check judging the hidden
# solution instead of the learner's stub (AIGC_SOLUTIONS=1): a broken solution fails here.
EXERCISE_NOTEBOOKS = $(shell grep -l "aigc_course.exercises" notebooks/[0-9]*.ipynb)
exercises: $(STAMP)
	AIGC_MODE=smoke AIGC_OFFLINE=1 AIGC_SOLUTIONS=1 MPLBACKEND=agg \
	  $(BIN)/python -m pytest $(EXERCISE_NOTEBOOKS) -q -p no:cacheprovider --nbval-lax \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg

test: lint unit notebooks exercises

book: $(STAMP)
	$(BIN)/jupyter-book build . --config book/_config.yml --toc book/_toc.yml --path-output book --warningiserror --keep-going
	@echo "open book/_build/html/index.html"

notebooks-build: $(STAMP)
	$(BIN)/python tools/nbbuild.py --all

# Every committed artifact a notebook reads, remade by its recorded recipe, in registry
# order (`aigc-course recipes --list`); on the GPU when there is one.
checkpoints: $(STAMP)
	AIGC_MODE=full $(BIN)/aigc-course recipes --all

# The gpu-marked tests and every notebook in smoke mode on CUDA (needs a CUDA GPU).
gpu: $(STAMP)
	$(BIN)/python -m pytest tests -q -m gpu -p no:cacheprovider

clean:
	rm -rf book/_build .pytest_cache .ruff_cache

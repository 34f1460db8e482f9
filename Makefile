# The two commands of the README. Both install litproject (editable) and what its tests need into .venv first.
#   make demo   generate the default project into build/demo with `litproject new` and train it
#   make test   lint, then every test: litproject's own suite and the template's (bakes, hooks, projects)
#   make bench  the benchmark (bench/run.py): raw loop vs Lightning, writes docs/performance.md

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO := build/demo
DEMO_PROJECT := $(DEMO)/lightning-project

.PHONY: demo test bench install clean

$(VENV)/installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/installed

# -f regenerates the template's files but keeps what earlier demo runs wrote (runs/, wandb/).
demo: install
	$(PY) -m litproject new --no-input -f -o $(DEMO)
	$(PY) -m pip install --quiet --no-build-isolation -e "$(DEMO_PROJECT)[dev]"
	cd $(DEMO_PROJECT) && $(CURDIR)/$(PY) train.py fit

LINTED := src tests bench template/hooks

test: install
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)
	$(PY) -m pytest -n 2

# About 20 minutes on 2 cores; run it on an otherwise idle machine (its call counts do not mind).
bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(DEMO)

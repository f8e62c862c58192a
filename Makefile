# Two entry points: `make app` (set up, then open Gauguin) and `make test` (set up, then run the tests).
# Both create .venv on first use and are quick afterwards. TORCH_SPEC picks the torch build installed when
# the environment has none (default: the CPU-friendly 2.13.0 release; e.g. TORCH_SPEC="torch" for the newest).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: app test setup clean-venv

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

app: $(STAMP)
	$(PY) main.py

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

clean-venv:
	rm -rf $(VENV)

# The two commands a new user needs are `make dev` and `make test`; each sets itself up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)/shared:$(CURDIR)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: dev test replay bench lint build checkov clean

$(VENV)/.installed: requirements-dev.txt layers/deps/requirements.txt
	@bash infra/bootstrap.sh "$(PYTHON)" "$(VENV)"
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

dev: $(VENV)/.installed
	$(PY) -m infra.local.dev

test: $(VENV)/.installed
	$(PY) -m pytest -q

# make replay FILE... : sign and post saved webhook bodies to the running local stack.
replay: $(VENV)/.installed
	$(PY) -m infra.local.replay $(filter-out replay,$(MAKECMDGOALS)) $(FILE)

bench: $(VENV)/.installed
	$(PY) -m tests.bench.run

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache

# Lets `make replay a.json b.json` treat the file names as arguments, not targets.
%.json:
	@:

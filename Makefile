# The two commands a new user needs are `make dev` and `make test`; each sets itself up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)/shared:$(CURDIR)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: dev test replay bench lint build checkov clean web chromium deploy-web

$(VENV)/.installed: requirements-dev.txt layers/deps/requirements.txt
	@bash infra/bootstrap.sh "$(PYTHON)" "$(VENV)"
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

dev: $(VENV)/.installed web/dist/index.html
	$(PY) -m infra.local.dev

# The suites share nothing but the machine, so they run one file per worker; the few that
# time a latency (a message seen within a second) run afterwards, alone.
test: $(VENV)/.installed web/dist/index.html chromium
	$(PY) -m pytest -q -n auto --dist loadfile -m "not timed" --durations=12
	$(PY) -m pytest -q -m timed

# The web inbox: npm ci again only when the lock changes, a build only when a source changes.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html \
	web/vite.config.ts web/tsconfig.json web/package.json

web/node_modules/.installed: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run build
	@touch $@

web: web/dist/index.html

# The end-to-end tests drive Debian's Chromium; root installs it, anyone else is told how
# (the tests then fail, saying so, rather than skip). The emoji font: reactions, file and
# location marks in the screenshots are drawn, not empty boxes.
chromium:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/noto ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				chromium fonts-noto-color-emoji; \
		else echo "No /usr/bin/chromium or emoji font: run 'sudo apt-get install chromium" \
			"fonts-noto-color-emoji' for the e2e tests."; fi; \
	fi

# make replay FILE... : sign and post saved webhook bodies to the running local stack.
replay: $(VENV)/.installed
	$(PY) -m infra.local.replay $(filter-out replay,$(MAKECMDGOALS)) $(FILE)

# make bench [BENCH_JSON=FILE]: units, times and cost per message; fails if a target is missed.
bench: $(VENV)/.installed
	$(PY) -m tests.bench.run

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache

# Lets `make replay a.json b.json` take the file names as arguments: phony and empty targets,
# so make neither builds them nor says each "is up to date".
ifeq (replay,$(firstword $(MAKECMDGOALS)))
REPLAY_FILES := $(wordlist 2,$(words $(MAKECMDGOALS)),$(MAKECMDGOALS))
.PHONY: $(REPLAY_FILES)
$(REPLAY_FILES):
	@:
endif

# SAM CLI and checkov pin versions that clash with the project's and with each other, so each
# lives in a virtualenv of its own, made on first use.
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
SAM := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(SAM_VENV)/bin/sam

$(SAM_VENV)/.installed:
	@bash infra/bootstrap.sh "$(PYTHON)" "$(SAM_VENV)"
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==1.170.0
	@touch $@

$(CHECKOV_VENV)/.installed:
	@bash infra/bootstrap.sh "$(PYTHON)" "$(CHECKOV_VENV)"
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check checkov==3.3.30
	@touch $@

lint: $(VENV)/.installed $(SAM_VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint

# The recipes are in infra/build/Makefile; PIP is the one that fetches the arm64 wheels.
build: $(SAM_VENV)/.installed
	PIP="$(CURDIR)/$(SAM_VENV)/bin/python -m pip" $(SAM) build

# make deploy-web STACK=acme-inbox: the built inbox to the stack's bucket, behind CloudFront.
deploy-web: $(VENV)/.installed web/dist/index.html
	@test -n "$(STACK)" || { echo "Name the stack: make deploy-web STACK=your-stack"; exit 2; }
	$(PY) -m infra.deploy_web "$(STACK)"

checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --config-file .checkov.yaml

# sseq: everything a fresh machine needs goes through these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := tests/fixtures/real/openai-responses-reasoning-summary.sse

.PHONY: demo test lint bench clean tools node

# pip builds sseq's compiled core (sseq/_speedups.c) in place, with the
# machine's C compiler; without one sseq installs and runs in pure Python.
$(STAMP): setup.cfg setup.py pyproject.toml sseq/_speedups.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

# A real pipeline on a bundled recording: parse, keep the text deltas, print
# the assistant's answer, then total its tokens.
demo: $(STAMP)
	@echo "\$$ sseq parse $(DEMO) | sseq filter -t 'response.output_text.*' | sseq text"
	@$(BIN)/sseq parse $(DEMO) | $(BIN)/sseq filter -t 'response.output_text.*' | $(BIN)/sseq text
	@echo
	@echo "\$$ sseq usage --format table $(DEMO)"
	@$(BIN)/sseq usage --format table $(DEMO)

# Debian packages the tests use: headless Chromium for the EventSource tests,
# groff to check the man pages, jq for the benchmark, node and npm for the
# openai npm package's tests, PostgreSQL for the shared-ledger tests (its
# initdb lives under /usr/lib/postgresql/N/bin, off PATH).  Installed when
# missing.
DEBS := chromium:chromium groff:groff-base jq:jq node:nodejs npm:npm
tools:
	@missing=""; for pair in $(DEBS); do command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  ($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null) || \
	    echo "make: could not install$$missing; the tests that need them will fail"; \
	fi

# The openai npm package that tests/serve/test_serve_node.py runs against
# sseq serve, at the version its lock file names.
NODE_CLIENTS := tests/helpers/node
$(NODE_CLIENTS)/node_modules/.package-lock.json: $(NODE_CLIENTS)/package.json $(NODE_CLIENTS)/package-lock.json
	cd $(NODE_CLIENTS) && npm ci --no-audit --no-fund --loglevel=error

node: tools $(NODE_CLIENTS)/node_modules/.package-lock.json

# The whole suite on the compiled core, then the parser, record and parse
# tests again in pure Python: the fallback must write the same bytes.
PURE_TESTS := tests/parser tests/records tests/providers tests/cli/test_parse.py tests/cli/test_filter.py tests/cli/test_text.py tests/cli/test_bad_lines.py tests/usage/test_usage_real.py tests/usage/test_usage_rules.py
test: $(STAMP) tools node
	$(BIN)/python -m pytest -q -n 2 tests
	SSEQ_PURE_PYTHON=1 $(BIN)/python -m pytest -q -n 2 $(PURE_TESTS)

lint: $(STAMP) tools
	$(BIN)/ruff check --select E,F,W,B --ignore E501 sseq tests bench
	$(BIN)/mypy
	groff -man -ww -z man/*.1

# The benchmark compares with jq (Debian's) and, when node is present, npm's
# eventsource-parser (installed into bench/work by the runner).
bench: $(STAMP)
	@command -v jq >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null) || \
	    echo "make: could not install jq; the filter comparison is skipped"; }
	@# sseq as pip installs it: with its bytecode written (an editable
	@# install under PYTHONDONTWRITEBYTECODE would compile every module at
	@# every start, 30 ms here).
	$(BIN)/python -m compileall -q sseq
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info bench/work bench/results.json $(NODE_CLIENTS)/node_modules

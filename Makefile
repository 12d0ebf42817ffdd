# sseq: everything a fresh machine needs goes through these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := tests/fixtures/real/openai-responses-reasoning-summary.sse

.PHONY: demo test lint bench clean browser

$(STAMP): setup.cfg pyproject.toml
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

# Headless Chromium for the EventSource tests (Debian's package).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	    echo "make: could not install chromium; the browser tests will fail"; }

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n 2 tests

lint: $(STAMP)
	$(BIN)/python -m compileall -q sseq tests
	groff -man -ww -z man/*.1

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info bench/work bench/results.json

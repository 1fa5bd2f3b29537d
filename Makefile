# Entry points: `make demo`, `make serve` and `make test`. Each sets up .venv by itself.
# `make lint` (part of `make test`) runs the checks that keep the code base clean.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo serve feed-demo test lint bench bench-compare guide clean system-deps test-deps lock wheelhouse

# Example leaflets, then the example lists (examples/) moved to a day two weeks ahead, made as a
# clinic day and a ward's discharge list with their emails as a dry run: see output/demo/.
demo: $(STAMP)
	$(PY) generate.py demo

# The web app on http://127.0.0.1:8000/ with a worker beside it; data in data/ (see README).
serve: $(STAMP)
	$(PY) -m leafletpress.web.serve

# With `make serve` running: the example hospital system's messages (examples/koppeling/) sent
# to its listener, as an interface engine sends them; the day appears under "Dagen".
feed-demo: $(STAMP)
	$(PY) -m leafletpress.web.manage koppeling_voorbeeld

test: lint test-deps
	$(PY) -m pytest

# Style, formatting, the stages' import contract (pyproject.toml) and types of the engine.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) benchmarks/run.py

bench-compare: $(STAMP)
	@test -n "$(REF)" || { echo "gebruik: make bench-compare REF=<commit>"; exit 2; }
	$(PY) benchmarks/compare.py $(REF)

# The user guide's pictures (docs/hulp/*.png), made again by the browser tests that show them.
guide: test-deps
	LEAFLETPRESS_GUIDE_SHOTS=1 $(PY) -m pytest tests/test_browser.py tests/test_editing_browser.py -q \
		-k "fits_a_hospital or example_day_with_errors or corrected_list_replaces or another_specialty"

# What the machine lacks is decided in one place, tools/deps.py: it asks apt (as root) for the
# Debian packages of what is missing only, and uses what is there from any source (a Node.js
# from NodeSource, any Java 11+, any PostgreSQL). Not root: it prints the command to run.
system-deps:
	@$(PYTHON) tools/deps.py system

# The PDF/A validator (PDFBox Preflight, Java), Debian's Chromium, slapd, PostgreSQL and Node.js
# for the real servers the tests start; then the OpenID Connect provider from npm (tests/oidc/,
# its versions locked in package-lock.json).
test-deps: system-deps
	@$(PYTHON) tools/deps.py test
	@$(MAKE) -s --no-print-directory tests/oidc/node_modules/.package-lock.json

# npm writes this file at each install: a missing, partial or older node_modules is made again.
tests/oidc/node_modules/.package-lock.json: tests/oidc/package-lock.json tests/oidc/package.json
	npm ci --prefix tests/oidc --silent --no-audit --no-fund

# Every dependency at the version requirements/test.txt pins, checked against its hashes; then
# leafletpress itself, editable.
$(STAMP): pyproject.toml requirements/test.txt | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements/test.txt
	$(PY) -m pip install --quiet --no-deps --editable .
	touch $(STAMP)

# After a change of dependencies in pyproject.toml: pin them again, with their hashes, for any
# Python from 3.11 and any platform (requirements/web.txt: a server; test.txt: this machine).
UV_COMPILE := $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --quiet
lock: $(STAMP)
	$(UV_COMPILE) --extra web -o requirements/web.txt
	$(UV_COMPILE) --extra test -o requirements/test.txt

# A release for a server without internet, in dist/leafletpress-VERSION/: wheelhouse/ holds
# leafletpress's wheel and a wheel of each pinned dependency (hashes checked on download);
# beside it deploy/, install.md and CHANGELOG.md, which the servers' steps use (docs/install.md).
RELEASE = dist/leafletpress-$(shell $(PY) -c 'import leafletpress; print(leafletpress.__version__)')
wheelhouse: $(STAMP)
	rm -rf build $(RELEASE)
	$(PY) -m pip wheel --quiet --require-hashes -r requirements/web.txt -w $(RELEASE)/wheelhouse
	$(PY) -m pip wheel --quiet --no-deps . -w $(RELEASE)/wheelhouse
	cp -r deploy docs/install.md CHANGELOG.md $(RELEASE)/
	@echo "$(RELEASE)/: kopieer deze map naar de servers (docs/install.md, 1. Install)"

clean:
	rm -rf $(VENV) output/*/ .pytest_cache .ruff_cache

# Entry points: `make demo`, `make serve` and `make test`. Each sets up .venv by itself.
# `make lint` (part of `make test`) runs the checks that keep the code base clean.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo serve test lint bench clean system-deps test-deps

demo: $(STAMP)
	$(PY) generate.py demo
	$(PY) generate.py batch examples/dag-2026-12-15.csv --out-dir output/demo/dag --separators
	$(PY) generate.py email output/demo/dag/2026-12-15 --list examples/dag-2026-12-15.csv
	$(PY) generate.py batch examples/ontslag-2026-12-17.csv --out-dir output/demo/dag --separators
	$(PY) generate.py email output/demo/dag/2026-12-17 --list examples/ontslag-2026-12-17.csv

# The web app on http://127.0.0.1:8000/ with a worker beside it; data in data/ (see README).
serve: $(STAMP)
	$(PY) -m leafletpress.web.serve

test: lint test-deps
	$(PY) -m pytest

# Style, formatting, the stages' import contract (pyproject.toml) and types of the engine.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) benchmarks/bench_leaflet.py
	$(PY) benchmarks/bench_batch.py
	$(PY) benchmarks/bench_web.py
	$(PY) benchmarks/bench_load.py

# WeasyPrint needs Pango (>= 1.44) and, to subset fonts quickly, HarfBuzz-subset: both from the
# system. python-ldap (sign-in with the hospital's directory) is built against OpenLDAP's and
# SASL's headers. Installed with apt when we are root, otherwise we print the command to run.
SYSTEM_LIBS := libpangoft2-1.0.so.0 libharfbuzz-subset.so.0
SYSTEM_HEADERS := /usr/include/ldap.h /usr/include/sasl/sasl.h
SYSTEM_PKGS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 python3-venv python3-dev \
               gcc libldap2-dev libsasl2-dev
system-deps:
	@missing=""; for lib in $(SYSTEM_LIBS); do \
	  ldconfig -p | grep -q "$$lib" || missing="$$missing $$lib"; done; \
	for header in $(SYSTEM_HEADERS); do [ -f $$header ] || missing="$$missing $$header"; done; \
	command -v gcc >/dev/null || missing="$$missing gcc"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing system libraries:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PKGS) >/dev/null; \
	  else \
	    echo "Missing:$$missing. Run: sudo apt-get install $(SYSTEM_PKGS)"; exit 1; \
	  fi; \
	fi
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'

# The tests check archive copies with an independent PDF/A validator: Apache PDFBox Preflight,
# from Debian (Java). Its jars, and the two Java libraries it needs on Java 11+, in one list.
PREFLIGHT_JARS := preflight pdfbox2 fontbox2 xmpbox commons-logging javax.activation jaxb-api
# The web app is tested in Debian's headless Chromium (Playwright cannot download one here),
# against real servers the tests start: OpenLDAP's slapd, PostgreSQL, and an OpenID Connect
# provider from npm (tests/oidc/, its versions locked in package-lock.json).
TEST_PKGS      := default-jre-headless libpdfbox2-java libactivation-java libjaxb-api-java \
                  chromium fonts-dejavu-core slapd postgresql nodejs npm
test-deps:
	@missing=""; command -v java >/dev/null || missing=" java"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/sbin/slapd ] || missing="$$missing slapd"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	for jar in $(PREFLIGHT_JARS); do \
	  [ -f /usr/share/java/$$jar.jar ] || missing="$$missing $$jar.jar"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing what the tests use (PDF/A validator, Chromium):$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEST_PKGS) >/dev/null; \
	  else \
	    echo "Missing:$$missing. Run: sudo apt-get install $(TEST_PKGS)"; exit 1; \
	  fi; \
	fi
	@[ -d tests/oidc/node_modules ] || npm ci --prefix tests/oidc --silent --no-audit --no-fund

$(STAMP): pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --editable '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) output/*/ .pytest_cache .ruff_cache

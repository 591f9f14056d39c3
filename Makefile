# Provista: `make demo` and `make test` set up everything on a fresh machine, then run.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := src/provista/web/static/vendor
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup browser java postgres r demo test test-cluster check bench lock clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Provista needs Python 3.11, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# Front-end libraries from npm (pinned in package-lock.json), served by Provista itself: no CDN.
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --silent
	mkdir -p $(VENDOR)
	cp node_modules/echarts/dist/echarts.min.js node_modules/swagger-ui-dist/swagger-ui-bundle.js \
	   node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/
	touch $@

# Debian's Chromium for the end-to-end tests (Playwright drives it; never `playwright install`), and a
# CJK font so that pages and screenshots show Chinese.
browser:
	@dpkg -s chromium fonts-wqy-microhei >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium fonts-wqy-microhei; }

# Java for Apache Spark (`--engine spark` and the engine parity tests): Debian's headless JRE 17, or the
# release's default JRE (21 on Debian 13; Spark 4.0 runs on both). Slim images lack the man directory
# the JRE's post-install links into.
java:
	@java -version >/dev/null 2>&1 || { $(SUDO) mkdir -p /usr/share/man/man1 && $(SUDO) apt-get update -qq && \
	  { $(SUDO) apt-get install -y -qq openjdk-17-jre-headless || \
	    $(SUDO) apt-get install -y -qq default-jre-headless; } && java -version; }

# PostgreSQL's server for the tests that keep the app state (accounts, sessions, audit log) in PostgreSQL,
# as several serving processes do; the tests start a throwaway cluster of their own (tests/postgres.py).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq postgresql; }

setup: $(STAMP) $(VENDOR)/.installed

demo: setup
	$(BIN)/provista demo

test: setup browser java postgres
	$(BIN)/python -m pytest -q --durations=25 -n 2

# The Spark engine on a cluster, not in local mode (not part of `make test`: ~12 min): the engine parity tests
# on a one-machine standalone cluster (master and worker from PySpark's own jars, on loopback), then through
# a Spark Connect server (PROVISTA_SPARK_REMOTE).
test-cluster: setup java
	master=$$(scripts/spark-standalone.sh start) && echo "$$master" && \
	  PROVISTA_SPARK_MASTER=$$master SPARK_LOCAL_IP=127.0.0.1 $(BIN)/python -m pytest -q tests/engine; \
	  status=$$?; scripts/spark-standalone.sh stop; [ $$status = 0 ] || exit $$status; \
	remote=$$(scripts/spark-standalone.sh connect-start) && echo "$$remote" && \
	  PROVISTA_SPARK_REMOTE=$$remote $(BIN)/python -m pytest -q tests/engine; \
	  status=$$?; scripts/spark-standalone.sh connect-stop; exit $$status

check: setup
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

# The benchmark suite (not part of `make test`): each prints a table and writes bench/results/<name>.json
# with the machine, the versions and its ratio to a floor or peer measured in the same run. BENCH_SCALE
# small (about 1 million encounters, ~35 min on 2 cores) or medium (~10 million, ~2 h); then
# bench/report.py prints the summary and draws docs/growth.svg from every scale measured so far.
BENCH_SCALE ?= small
BENCH_DIR ?= /tmp/provista-bench
BENCH_WAREHOUSE := $(BENCH_DIR)/$(BENCH_SCALE).duckdb
bench: setup browser r
	$(BIN)/python bench/bench_synth.py --scale $(BENCH_SCALE) --out $(BENCH_DIR) --keep
	$(BIN)/python bench/bench_build.py --scale $(BENCH_SCALE) --sources $(BENCH_DIR)/$(BENCH_SCALE) \
	  --warehouse $(BENCH_WAREHOUSE)
	$(BIN)/python bench/bench_link.py --scale $(BENCH_SCALE) --sources $(BENCH_DIR)/$(BENCH_SCALE) \
	  --warehouse $(BENCH_WAREHOUSE)
	$(BIN)/python bench/bench_indicators.py --warehouse $(BENCH_WAREHOUSE) --label $(BENCH_SCALE)
	$(BIN)/python bench/bench_detect.py --warehouse $(BENCH_WAREHOUSE) --scale $(BENCH_SCALE) --jobs 2 --budget 40
	$(BIN)/python bench/bench_api.py --warehouse $(BENCH_WAREHOUSE) --label $(BENCH_SCALE)
	$(BIN)/python bench/report.py

# R and its surveillance package: the detection benchmark's peer (Debian's build of R surveillance 1.20.3).
r:
	@Rscript -e 'library(surveillance)' >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq r-cran-surveillance; }

lock: setup
	( echo "# Exact versions of every Python package (direct and transitive), used as pip constraints by the Makefile."; \
	  echo "# Regenerate with: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^provista' ) > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# configlab — every target sets up .venv on its own (uv when on PATH, else python3 -m venv + pip).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | $(PYTHON) -c "import hashlib,sys;print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:12])")
UV := $(shell command -v uv 2>/dev/null)
EXTRAS ?= test,plot
PYTEST_WORKERS ?= 2

# Debian packages whose server binaries the tests start (on 127.0.0.1, stopped by PID):
# postgresql for the team-store tests; redis-server (redis.conf + a real server) and
# nginx-common (nginx.conf) for the directive/nginx format tests.  Installed by
# `make system-deps` when missing (as root, or through sudo); add other packages to this one list.
SYSTEM_PACKAGES ?= postgresql redis-server nginx-common maven openjdk-17-jdk-headless

.PHONY: venv demo test bench lint clean system-deps

$(BIN)/python:
ifdef UV
	$(UV) venv --python $(PYTHON) $(VENV)
else
	$(PYTHON) -m venv $(VENV)
endif

$(STAMP): $(BIN)/python pyproject.toml
ifdef UV
	$(UV) pip install --python $(BIN)/python -e '.[$(EXTRAS)]'
else
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
endif
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/python -m configlab.demo

system-deps:
	@missing=""; for pkg in $(SYSTEM_PACKAGES); do \
		dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

test: venv system-deps
	rm -f .coverage .coverage.*
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --json-report --json-report-file=pytest_results.json \
		--cov=configlab --cov-report=term --cov-report=json:coverage.json --cov-fail-under=90
	$(BIN)/python tools/check_core_coverage.py coverage.json

bench: venv system-deps
ifdef UV
	$(UV) pip install --python $(BIN)/python -e '.[$(EXTRAS),bench]'
else
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS),bench]'
endif
	$(BIN)/python benchmarks/run_all.py

lint: venv
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/mypy --strict src

clean:
	rm -rf $(VENV) .coverage .coverage.* coverage.json .mypy_cache .ruff_cache

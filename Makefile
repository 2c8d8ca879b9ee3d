# flower-ocm: every target installs what it needs first (hack/install-tools.sh is idempotent).
SHELL := /bin/bash
TOOLS := $(CURDIR)/.tools
VENV := $(TOOLS)/venv
PY := $(VENV)/bin/python
export PATH := $(TOOLS)/bin:$(VENV)/bin:$(PATH)
export PYTHONPATH := $(CURDIR)/plugin/src
export FLWR_TELEMETRY_ENABLED := 0
export FLWR_DISABLE_UPDATE_CHECK := 1

CHART := charts/flower-federation
PYTEST_ARGS ?=

.PHONY: tools test demo bench lint lock clean schemas

tools:
	@bash hack/install-tools.sh

test: tools
	$(PY) -m pytest $(PYTEST_ARGS)

demo: tools
	$(PY) -m helm_flower rehearse $(CHART) --fleet examples/fleet.yaml --app flower-apps/digits

bench: tools
	$(PY) bench/run.py

schemas: tools
	$(PY) hack/gen_chart_schemas.py

lock:
	$(PY) -m piptools compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links -o hack/requirements.lock hack/requirements.in

clean:
	rm -rf $(TOOLS) dist .pytest_cache

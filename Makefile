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

.PHONY: tools test demo bench lint lock clean schemas scan

tools:
	@bash hack/install-tools.sh
	@bash hack/scan/install.sh

test: tools
	$(PY) -m pytest $(PYTEST_ARGS)

demo: tools
	$(PY) -m helm_flower rehearse $(CHART) --fleet examples/fleet.yaml --app flower-apps/digits --rounds 3

bench: tools
	$(PY) bench/run.py

scan: tools
	$(PY) hack/scan/scan.py

schemas: tools
	$(PY) hack/gen_chart_schemas.py

lock:
	$(PY) -m piptools compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links -o hack/requirements.lock hack/requirements.in

clean:
	rm -rf $(TOOLS) dist .pytest_cache

# ---- Release engineering (issue #8): lint like `ct lint`, generated chart READMEs, signed OCI release.
#   make release REGISTRY=oci://host/path SIGN_KEY=<gpg key name> KEYRING=<legacy secret keyring>
#                [PASSPHRASE_FILE=file] [PLAIN_HTTP=1] [CA_FILE=ca.pem] [SIGN_KEY_URL=https://.../signing-key.asc]
# Registry credentials come from `helm registry login`. Artifacts land in $(DIST).
REGISTRY ?=
SIGN_KEY ?=
KEYRING ?=
PASSPHRASE_FILE ?=
PLAIN_HTTP ?=
CA_FILE ?=
SIGN_KEY_URL ?=
DIST ?= $(CURDIR)/dist
RELEASE_HELM ?= $(TOOLS)/bin/helm4
PLUGIN_DIR ?= $(CURDIR)/plugin
LINT_ARGS ?=

.PHONY: release docs plugin-archive

lint: tools
	$(PY) hack/lint/ct_lint.py $(LINT_ARGS)

docs: tools
	$(PY) hack/gen_chart_docs.py

plugin-archive: tools
	$(PY) hack/release/release.py plugin-archive --out '$(DIST)' --plugin-dir '$(PLUGIN_DIR)'

release: tools
	@if [ -z '$(REGISTRY)' ] || [ -z '$(SIGN_KEY)' ] || [ -z '$(KEYRING)' ]; then \
	  echo 'usage: make release REGISTRY=oci://host/path SIGN_KEY=<key name> KEYRING=<secret keyring> [PASSPHRASE_FILE=f] [PLAIN_HTTP=1] [CA_FILE=ca.pem]' >&2; exit 2; fi
	$(PY) hack/release/release.py release --out '$(DIST)' --helm '$(RELEASE_HELM)' --plugin-dir '$(PLUGIN_DIR)' \
	  --registry '$(REGISTRY)' --sign-key '$(SIGN_KEY)' --keyring '$(KEYRING)' \
	  $(if $(PASSPHRASE_FILE),--passphrase-file '$(PASSPHRASE_FILE)') $(if $(PLAIN_HTTP),--plain-http) \
	  $(if $(CA_FILE),--ca-file '$(CA_FILE)') $(if $(SIGN_KEY_URL),--sign-key-url '$(SIGN_KEY_URL)')

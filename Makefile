# flower-ocm: every target installs exactly what it needs first (the install scripts are idempotent).
#   make demo   Helm + the runtime venv      make test   + test packages, OCM CRDs, checkov, registry/gpg/nginx
#   make scan   + checkov                    make e2e    + the Go-built control plane
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
# make test runs on pytest-xdist workers, one more than there are cores: the suite is CPU-bound (its
# real Flower processes start, train and evaluate), and while one worker waits on its processes the
# others keep the cores busy. Measured on 2 cores: 2 workers left CPU unused, 3 and 4 used the same.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

.PHONY: tools tools-demo tools-test tools-e2e test e2e fleet-up fleet-down demo demo-ocm bench lint lock clean schemas scan flwr-nightly mutation

tools: tools-test

tools-demo:
	@bash hack/install-tools.sh helm venv

tools-test:
	@bash hack/install-tools.sh helm venv test flwr-versions
	@bash hack/install-go-tools.sh ocm-crds actionlint ct helm-docs cyclonus
	@bash hack/scan/install.sh

tools-e2e: tools-test
	@bash hack/install-go-tools.sh

test: tools-test
	$(PY) -m pytest tests --ignore=tests/e2e -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The real OCM control plane (tests/ocmfleet): a hub and three managed clusters as local processes.
FLEET := cd tests && $(PY) -m ocmfleet
fleet-up: tools-e2e
	$(FLEET) up

fleet-down:
	@if [ -x $(PY) ]; then $(FLEET) down; fi

e2e: tools-e2e
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

demo: tools-demo
	$(PY) -m helm_flower rehearse $(CHART) --fleet examples/fleet.yaml --app flower-apps/digits --rounds 3

# The same training run on the real control plane: helm install on the fleet's hub, OCM delivers.
demo-ocm: tools-e2e
	$(FLEET) demo

# All benchmarks, or some: make bench BENCH="suite plugin_install" (bench/bench_<name>.py).
bench: tools-test
	$(PY) bench/run.py $(BENCH)

# Mutation testing of the plugin's deciding modules (mutmut, hack/mutation/run.py) in a scratch copy; not
# part of make test. Some modules: make mutation MUTATION_MODULES="nodeconfig strvals"; a time limit that
# scores the mutants checked so far: MUTATION_MINUTES=20. make bench reports the last scores.
MUTATION_MODULES ?=
mutation: tools-test
	$(PY) hack/mutation/run.py $(MUTATION_MODULES)

scan: tools-demo
	@bash hack/scan/install.sh
	$(PY) hack/scan/scan.py

schemas: tools-demo
	$(PY) hack/gen_chart_schemas.py

UV := $(TOOLS)/uv/bin/uv
lock: tools-demo
	cd hack && $(UV) pip compile --quiet --generate-hashes --python-version 3.11 --no-emit-index-url requirements.in -o requirements.lock
	cd hack && $(UV) pip compile --quiet --generate-hashes --python-version 3.11 --no-emit-index-url requirements-test.in -o requirements-test.lock
	$(PY) plugin/tools/make_lock.py
	cd plugin/src/helm_flower/flower_locks && for f in flwr-*.in; do \
	  $(UV) pip compile --quiet --generate-hashes --python-version 3.11 --no-emit-index-url $$f -o $${f%.in}.lock || exit 1; done

# Early warning, not a gate: the newest flwr-nightly (NOT hash-locked, a moving target) against the
# chart's rendered Flower arguments; hack/flwr-nightly.sh runs tests/charts/test_flwr_args.py with it as
# release "nightly", so each failing test is something the nightly breaks.
flwr-nightly:
	@bash hack/flwr-nightly.sh

clean:
	rm -rf $(TOOLS) dist .pytest_cache

# ---- Release engineering (issue #8): `ct lint`, chart READMEs from helm-docs, signed OCI release.
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

.PHONY: release docs tools-docs plugin-archive

# chart-testing's `ct lint` with Helm 4 and 3 and the YAML checks ct does not make (hack/lint/lint.sh),
# then every values.yaml key documented (hack/gen_chart_docs.py --undocumented).
lint: tools-test
	@status=0; bash hack/lint/lint.sh $(LINT_ARGS) || status=1; \
	  $(PY) hack/gen_chart_docs.py --undocumented || status=1; exit $$status

# Chart READMEs: helm-docs with hack/helm-docs/README.md.gotmpl (hack/gen_chart_docs.py runs it).
tools-docs: tools-demo
	@bash hack/install-go-tools.sh helm-docs

docs: tools-docs
	$(PY) hack/gen_chart_docs.py

plugin-archive: tools-demo
	$(PY) hack/release/release.py plugin-archive --out '$(DIST)' --plugin-dir '$(PLUGIN_DIR)'

release: tools-test
	@if [ -z '$(REGISTRY)' ] || [ -z '$(SIGN_KEY)' ] || [ -z '$(KEYRING)' ]; then \
	  echo 'usage: make release REGISTRY=oci://host/path SIGN_KEY=<key name> KEYRING=<secret keyring> [PASSPHRASE_FILE=f] [PLAIN_HTTP=1] [CA_FILE=ca.pem]' >&2; exit 2; fi
	$(PY) hack/release/release.py release --out '$(DIST)' --helm '$(RELEASE_HELM)' --plugin-dir '$(PLUGIN_DIR)' \
	  --registry '$(REGISTRY)' --sign-key '$(SIGN_KEY)' --keyring '$(KEYRING)' \
	  $(if $(PASSPHRASE_FILE),--passphrase-file '$(PASSPHRASE_FILE)') $(if $(PLAIN_HTTP),--plain-http) \
	  $(if $(CA_FILE),--ca-file '$(CA_FILE)') $(if $(SIGN_KEY_URL),--sign-key-url '$(SIGN_KEY_URL)')

# The two commands a newcomer needs: `make demo` and `make test`. Everything else is what they use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV_VENV := .venv-checkov
TF_CLI_CONFIG := .tfcli/terraformrc
TF := TF_CLI_CONFIG_FILE=$(CURDIR)/$(TF_CLI_CONFIG) TF_IN_AUTOMATION=1 terraform
EXAMPLES := $(wildcard examples/*)

export TF_CLI_CONFIG_FILE := $(CURDIR)/$(TF_CLI_CONFIG)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help demo test bench docs mutate zip fmt lint static tf-static tf-test checkov pytest clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

$(TF_CLI_CONFIG): scripts/tf_cli_config.sh
	scripts/tf_cli_config.sh >/dev/null

demo: $(VENV)/.installed $(TF_CLI_CONFIG) ## Apply examples/basic on a local moto server, deploy a site three times, show the invalidations
	$(PY) scripts/demo.py

test: static tf-test checkov pytest ## Run every check and test (what CI runs)

bench: $(VENV)/.installed ## Measure speed, memory and cost, replay real deploys, rewrite the figures in docs/
	$(PY) bench/run.py

docs: $(VENV)/.installed ## Write the README's Requirements, Providers, Inputs and Outputs from the .tf files
	$(PY) scripts/tf_docs.py

# mutmut (requirements-mutate.txt, no conflict with requirements-dev.txt) in the same venv; why mutmut
# and how it runs: scripts/mutate.py. Takes minutes: not part of `make test`.
$(VENV)/.mutate-installed: $(VENV)/.installed requirements-mutate.txt
	$(PY) -m pip install --quiet -r requirements-mutate.txt
	touch $@

mutate: $(VENV)/.mutate-installed ## Mutation-test the handler with its unit tests; print survivors and score
	$(PY) scripts/mutate.py

zip: $(VENV)/.installed ## Rebuild the committed Lambda zip
	$(PY) scripts/build_lambda_zip.py

fmt: $(VENV)/.installed ## Format Terraform and Python in place
	terraform fmt -recursive
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

static: lint tf-static ## Formatting, lint, types, terraform validate

lint: $(VENV)/.installed
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

tf-static: $(TF_CLI_CONFIG)
	terraform fmt -check -recursive
	$(TF) init -backend=false -input=false >/dev/null
	$(TF) validate
	@for dir in $(EXAMPLES); do \
	  echo "validate $$dir"; \
	  (cd $$dir && $(TF) init -backend=false -input=false >/dev/null && $(TF) validate) || exit 1; \
	done

tf-test: $(TF_CLI_CONFIG)
	@if ls tests/*.tftest.hcl >/dev/null 2>&1; then $(TF) init -backend=false -input=false >/dev/null && $(TF) test; fi

checkov: $(CHECKOV_VENV)/.installed
	@if ls *.tf >/dev/null 2>&1; then $(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download -d . --framework terraform --skip-path examples --skip-path tests; fi

pytest: $(VENV)/.installed $(TF_CLI_CONFIG)
	$(PY) -m pytest

clean: ## Remove local environments and caches
	rm -rf $(VENV) $(CHECKOV_VENV) .tfcli build .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name .terraform -type d -prune -exec rm -rf {} +

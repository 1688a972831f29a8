# The commands people and CI share. Every target installs what it needs first.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test test-containers demo bench lint clean

$(STAMP): pyproject.toml constraints.txt scripts/dev/install_system.sh
	@echo "Setting up $(VENV) (the first time takes a minute or two; details in $(VENV)/install.log)"
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --disable-pip-version-check -U pip > $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@$(PY) -m pip install --disable-pip-version-check -c constraints.txt -e '.[all,dev]' >> $(VENV)/install.log 2>&1 \
		|| (tail -40 $(VENV)/install.log; exit 1)
	@bash scripts/dev/install_system.sh
	@touch $(STAMP)

install: $(STAMP)

test: install
	$(PY) -m pytest

# The deployment tier. The Docker deployment run for real under podman (docs/deployment.md): installs podman,
# runc, podman-compose and debootstrap when missing, builds the images from a cached local base, runs the
# stack and checks it from the host, then removes everything but the base. About 10 minutes. And the wheel
# installed with each extra alone in a fresh venv, as the images install it (tests/deploy/test_packaging.py).
test-containers: install
	bash scripts/dev/install_containers.sh
	CONTAINERS_CONF=$(CURDIR)/docker/podman/containers.conf $(PY) -m pytest -m containers --timeout 2400 \
		tests/containers tests/deploy/test_packaging.py

demo: install
	$(PY) -m services.demo

bench: install
	$(PY) -m benchmarks.run_all

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	shellcheck -x scripts/*.sh
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml docker-compose.logging.yml docker-logging.yml

clean:
	rm -rf $(VENV) logs/*.log logs/*.gz

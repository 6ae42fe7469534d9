# Two commands do all the set-up: `make run` starts the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test test-fast venv venv-test clean lint lock

$(PY):
	$(PYTHON) -m venv $(VENV)

# Every install is pinned by the lock (constraints.txt, compiled by pip-tools from pyproject.toml):
# a fresh machine gets exactly the versions CI passed with. Reinstall only when pyproject.toml or
# the lock changes (stamp files). `make lock` refreshes the lock (see README, "Dependencies").
LOCK   := constraints.txt

$(VENV)/.installed: pyproject.toml $(LOCK) | $(PY)
	$(PY) -m pip install --quiet -c $(LOCK) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(LOCK) | $(PY)
	$(PY) -m pip install --quiet -c $(LOCK) -e '.[test]'
	touch $@ $(VENV)/.installed

venv: $(VENV)/.installed
venv-test: $(VENV)/.installed-test

run: venv
	$(VENV)/bin/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

# One pytest-xdist worker per core; a test file stays on one worker (its module fixtures, e.g. a browser
# test's server, start once). Under xdist each worker's torch uses one thread (tests/conftest.py).
XDIST := -n auto --dist loadfile

test: venv-test
	$(PY) -m pytest $(XDIST)

# The inner loop: unit tests only (no training-quality, AppTest-heavy or browser tests), under 2 minutes
# on 2 cores. CI still runs everything (`make test`).
test-fast: venv-test
	$(PY) -m pytest -q $(XDIST) -m "not slow and not e2e"

# Re-resolve every dependency to the newest release pyproject.toml allows and rewrite the lock.
# Uses pip (not uv/poetry): pip takes torch/torchvision from the wheels on this machine's disk.
# pip-tools lives in its own venv so the project's stays exactly the locked set.
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet pip-tools
	.venv-lock/bin/pip-compile --quiet --upgrade --strip-extras --extra test --no-emit-index-url \
		--no-emit-find-links --output-file=$(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) .venv-lock .pytest_cache

# edgedesk: two commands do all the set-up on a fresh machine.
#   make run    the desk on the built-in exchange
#   make test   the test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run sim test bench clean

$(STAMP): pyproject.toml setup.py $(wildcard console/domain/_fastbook*.[ch])
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/edgedesk

sim: $(STAMP)
	$(VENV)/bin/edgedesk sim --port 8765

test: $(STAMP)
	@command -v tmux >/dev/null 2>&1 || { echo "installing tmux (the desk's terminal test runs it)"; \
		apt-get update -qq && apt-get install -y -qq tmux >/dev/null; }
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(PY) bench/exchange.py --http
	$(PY) bench/sim_cpu.py
	$(PY) bench/book.py
	$(PY) bench/feed.py
	$(PY) bench/models.py
	$(PY) bench/ui.py
	$(PY) bench/tick_to_order.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

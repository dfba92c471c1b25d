# Two commands for a new user: `make book` and `make test`. (Helpers extend this file; see README.)
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -r requirements.lock
	$(VPY) -m pip install -q --no-deps -e .
	touch $@

.PHONY: venv
venv: $(VENV)/.installed

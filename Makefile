# Two commands for a new user: `make book` and `make test`. (Helpers extend this file; see README.)
# Others: `make lab` (JupyterLab on notebooks/*.md), `make bench` (build benchmark, not a test).
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
# Build/rebuild arguments, e.g. `make book ARGS="-p seed 7 --jobs 1"`.
ARGS ?=
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k build -x"`.
PYTEST_ARGS ?=
# Extra JupyterLab arguments, e.g. `make lab LAB_ARGS="--no-browser --port 8899"`.
LAB_ARGS ?=

# Determinism for everything run from here (hash order, matplotlib SVG/PDF dates).
export PYTHONHASHSEED := 0
export SOURCE_DATE_EPOCH := 0

# The venv: Python 3.11 is checked first (another version is refused before anything is created);
# the lock is installed with uv (pinned in the lock itself; parallel downloads and a shared cache),
# falling back to pip; bytecode is compiled at install (uv does not by default, and where
# PYTHONDONTWRITEBYTECODE is set every kernel and test process then compiled numpy, pandas, scipy,
# lifelines and matplotlib from source: seconds each); a venv whose install failed is removed, so none is ever left half made (a
# leftover without the .installed stamp is removed and made anew).
UV_PIN = $(shell grep -m1 '^uv==' requirements.lock)
$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
	    echo "make: cart19 needs Python 3.11; '$(PY)' is $$($(PY) --version 2>/dev/null || echo 'not found'): use make PY=python3.11" >&2; \
	    exit 1; }
	@if [ -d $(VENV) ] && { [ ! -f $@ ] || ! $(VPY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; }; then \
	    echo "make: removing $(VENV): an earlier install did not finish (or another Python made it)"; rm -rf $(VENV); fi
	@test -x $(VPY) || $(PY) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	@{ { $(VPY) -m pip install -q "$(UV_PIN)" && $(VENV)/bin/uv pip install -q --compile-bytecode --python $(VPY) -r requirements.lock \
	       && $(VENV)/bin/uv pip install -q --python $(VPY) --no-deps -e .; } \
	   || { echo "make: uv failed; installing with pip" >&2; $(VPY) -m pip install -q -r requirements.lock \
	        && $(VPY) -m pip install -q --no-deps -e .; }; } \
	  || { echo "make: installing requirements.lock into $(VENV) failed; $(VENV) removed" >&2; rm -rf $(VENV); exit 1; }
	touch $@

# The package's own bytecode (lib/ is installed editable, so the install above does not compile
# it): refreshed before a build or a test run, a second or less when nothing changed.
PYC = $(VPY) -m compileall -q -j 0 lib

.PHONY: venv book test lab bench check
venv: $(VENV)/.installed

# Execute every notebooks/NN_*.md that changed (content-hash cache) into book/NN_*.ipynb and
# render book/_build/html with jupyter-book (warnings are errors).
book: venv
	@$(PYC)
	$(VPY) -m cart19 build $(ARGS)

# Which committed notebooks are stale (would be re-executed), without executing anything.
check: venv
	$(VPY) -m cart19 build --check

# Lint (ruff), unit tests of lib/ plus strict nbval on the committed, executed notebooks book/NN_*.ipynb.
# The notebooks' kernels start in book/, so their relative paths ("../data/...") resolve as in notebooks/.
# pytest exit 5 ("no tests collected") is a failure, like any other non-zero exit.
NOTEBOOKS_EXECUTED = $(wildcard book/[0-9][0-9]_*.ipynb)
# First: the committed notebooks must be current (a stale golden notebook fails here, it is never
# silently re-executed), then the html is rendered from them for the browser test (no kernel runs).
# pytest runs on 2 workers; --dist loadscope keeps every notebook's cells on one kernel.
# tests/test_determinism.py makes one fresh clean build (minutes) and compares it with the committed
# book; --no-loadscope-reorder lets tests/conftest.py schedule it first, so it overlaps the rest.
test: venv
	@$(PYC)
	$(VPY) -m ruff check --extend-ignore C901 lib tests bench   # complexity: tests/test_code_limits.py
	$(VPY) -m cart19 build --check || { echo "make test: book/*.ipynb are stale: run 'make book' and commit them" >&2; exit 1; }
	$(VPY) -m cart19 build
	@rc=0; $(VPY) -m pytest -p no:cacheprovider -n 2 --dist loadscope --no-loadscope-reorder \
	    tests $(NOTEBOOKS_EXECUTED) \
	    --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
	    --ignore=book/_build $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests: failing" >&2; fi; \
	exit $$rc

# JupyterLab with jupytext: notebooks/*.md open as notebooks and run from notebooks/ with the
# default parameters of their `parameters` cell; cart19.book.lab.LabContentsManager (jupytext's)
# shows the glue captions as jupyterlab-myst can render them and writes the chapters back unchanged.
lab: venv
	$(VPY) -m cart19.book.build lab-settings
	cd notebooks && ../$(VPY) -m jupyter lab --ServerApp.root_dir=. \
	    --ServerApp.contents_manager_class=cart19.book.lab.LabContentsManager \
	    $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# Benchmark (not a test): cold build, no-op rebuild, one-notebook rebuild, plain jupyter-book.
bench: venv
	$(VPY) bench/run.py

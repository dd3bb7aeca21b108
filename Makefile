# Two commands on a fresh clone (see README.md):
#   make lab    set up .venv if needed, then open JupyterLab on the course
#   make test   set up .venv if needed, then run the whole test suite
# A second run reinstalls nothing: the venv is rebuilt only when pyproject.toml changes.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(abspath $(VENV))/bin
STAMP  := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

# Real data sets: use ../shared/data when it is there, unless CNNLIB_DATA is already set.
ifeq ($(origin CNNLIB_DATA),undefined)
ifneq ($(wildcard ../shared/data),)
export CNNLIB_DATA := $(abspath ../shared/data)
endif
endif

PYTEST_ARGS ?=

.PHONY: setup lab test system-deps bench clean hub hub-proxy hub-clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

# Chromium (browser test) and PostgreSQL (gradebook test) come from Debian packages;
# installed when we are root with apt, otherwise those tests skip and say why.
system-deps:
	@bash scripts/system-deps.sh

# JupyterLab 4 on the repository, opening notebooks/00_start_here.ipynb. nbgrader's extensions come
# with the nbgrader package (enabled in .venv/etc/jupyter): Validate in the notebook toolbar, and the
# Nbgrader menu's Formgrader, which reads ./nbgrader_config.py and shows the course in ./course
# (the folder `cnncourse release` and `cnncourse grade` fill). LAB_ARGS passes options, e.g.
# `make lab LAB_ARGS="--no-browser --port 8899"`.
LAB_ARGS ?=
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: setup
	@mkdir -p course
	$(BIN)/jupyter lab --ServerApp.root_dir=. $(ALLOW_ROOT) $(LAB_ARGS) notebooks/00_start_here.ipynb

# Two test processes on two cores: one BLAS/OpenMP thread each, or they oversubscribe the cores
# and NumPy/PyTorch slow down many times over. worksteal: a worker that runs out of tests takes
# queued ones from the other, so the long notebook runs at the end do not leave one core idle.
test: setup system-deps
	@bash deploy/jupyterhub/install-proxy.sh || echo "make test: configurable-http-proxy is not installed, so the JupyterHub test (tests/hub) will skip"
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n auto --dist worksteal $(PYTEST_ARGS)

# The course on JupyterHub, for a trial (README: "Running a class on JupyterHub"). Needs root: it
# creates the system users cnn-teacher (the instructor), cnn-student1 and cnn-student2 with the
# passwords it prints, nbgrader's exchange in /srv/cnn-course-trial, and starts the hub on a free
# port; Ctrl-C stops it. `make hub-clean` deletes the trial's users, homes and files.
hub: setup hub-proxy
	@$(BIN)/python deploy/jupyterhub/classroom.py trial

# JupyterHub's proxy (configurable-http-proxy, pinned in deploy/jupyterhub/proxy/) from npm; no root.
hub-proxy:
	@bash deploy/jupyterhub/install-proxy.sh

hub-clean:
	$(BIN)/python deploy/jupyterhub/classroom.py remove --class-dir /srv/cnn-course-trial/hub --yes
	@rmdir /srv/cnn-course-trial 2>/dev/null || true

bench: setup
	$(BIN)/python -m cnnlib.bench

clean:
	rm -rf $(VENV) artifacts course .pytest_cache .hypothesis

# Cerebrum — two commands: `make run` (embedded default) and `make test` (real PostgreSQL + Redis).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The production shape used by tests and benchmarks (loopback only).
PG_URL ?= postgres://postgres@127.0.0.1:5432/cerebrum
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
# The whole suite (`make test` with no PYTEST_ARGS) runs on two pytest-xdist workers, each with its own
# PostgreSQL test database (pytest-django) and Redis databases (cerebrum/settings/test.py); tests that
# must not overlap share an xdist_group. A targeted run (PYTEST_ARGS set) stays in one process unless
# XDIST is given, e.g. XDIST="-n 2 --dist loadgroup"; XDIST= runs the whole suite in one process.
XDIST ?= $(if $(PYTEST_ARGS),,-n 2 --dist loadgroup)
TEST_ENV := DJANGO_SETTINGS_MODULE=cerebrum.settings.test DATABASE_URL=$(PG_URL) \
	REDIS_URL=$(REDIS_TEST_URL)

.PHONY: run test lint venv services browser bench bench-quick cluster cluster-stop drill clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# collectstatic hashes and compresses (gzip + brotli) every file on every run, ~1,000 files: 90 s at
# load 16 on this box. Redone only when a file under static/ or the installed packages (STAMP) changed;
# the manifest is the mark (`make clean` removes it).
STATIC_MANIFEST := staticfiles/staticfiles.json
$(STATIC_MANIFEST): $(STAMP) $(shell find static -type f 2>/dev/null)
	$(PY) manage.py collectstatic --noinput --verbosity 0
	touch $(STATIC_MANIFEST)

run: $(STAMP) $(STATIC_MANIFEST)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --size small
	$(PY) manage.py runserver 127.0.0.1:8000

services:
	bash deploy/cluster/ensure-packages.sh
	bash deploy/ensure-services.sh

browser:
	bash deploy/ensure-browser.sh

test: $(STAMP) services browser
	$(TEST_ENV) $(PY) -m pytest -p no:cacheprovider $(XDIST) $(PYTEST_ARGS)

.PHONY: messages
messages: $(STAMP)  # compile locale/*/LC_MESSAGES/django.po into the committed .mo (Babel; cerebrum/i18n.py)
	$(PY) -c "from cerebrum.i18n import compile_catalogs; print(*compile_catalogs())"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP) services browser
	bash bench/run.sh full

bench-quick: $(STAMP) services browser
	bash bench/run.sh quick

# Scale-out on loopback (docs/scaling.md): PostgreSQL primary + streaming standby, PgBouncer, app nodes
# behind nginx, two Redis roles, Celery per queue + beat. State in CLUSTER_DIR (default /tmp/cerebrum-cluster).
cluster: $(STAMP)
	bash deploy/cluster/up.sh

cluster-stop:
	bash deploy/cluster/down.sh

# Failure drills under a steady learner load on the cluster (bench/drill.py; results in bench/results/
# and docs/scaling.md). DRILLS picks some: scaling node-kill node-hang cache-redis broker-redis lag failover.
drill: cluster
	$(PY) bench/drill.py $(DRILLS)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm

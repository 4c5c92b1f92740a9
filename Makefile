# The documented commands. `make up` runs the platform, `make test` passes the tests.
SERVICES := users_svc inventory_svc orders_svc payments_svc
PY := .venv/bin/python
ARGS := $(if $(DETACH),--detach,)

.PHONY: up down status test test-faults test-fresh test-compose lint format bootstrap bench

bootstrap:
	@scripts/bootstrap.sh

up: bootstrap
	@$(PY) -m stack up $(ARGS)

down:
	@$(PY) -m stack down

status:
	@$(PY) -m stack status

test: bootstrap
	@scripts/test.sh

# Only the fault-injection tests (tests/test_faults.py), on the same kind of private stack.
test-faults: bootstrap
	@TEST_SELECTION=tests/test_faults.py scripts/test.sh

# The two commands above, as the README gives them, in a clean Debian 12 container (root, podman).
test-fresh:
	@scripts/test-fresh.sh

# docker-compose.yml for real (root, podman, Debian's docker-compose): images built from the Dockerfiles, every
# healthcheck, orders through the gateway, a worker killed mid-saga, the data kept across a restart.
test-compose:
	@scripts/test-compose.sh

lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	@for svc in $(SERVICES); do \
		(cd $$svc && ../$(PY) -W ignore::RuntimeWarning manage.py makemigrations --check --dry-run >/dev/null) \
		|| { echo "$$svc: migrations missing (run makemigrations)"; exit 1; }; \
	done

format: bootstrap
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

# The benchmark (bench/run.py) on its own stack under var/bench; BENCH_QUICK=1 for a short run,
# BENCH_TINY=1 for seconds. wrk measures read throughput when installed (apt-get install wrk).
bench: bootstrap
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 || echo "[bench] no wrk: reads measured with the Python generator"
	@$(PY) -m bench

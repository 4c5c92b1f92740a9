#!/usr/bin/env bash
# `make test`: lint, then start a private test stack (var/test, its own ports), run every service's
# own tests and the cross-service tests through nginx against it, and stop it again.
# TEST_SELECTION (e.g. tests/test_faults.py, for `make test-faults`) runs only those cross-service
# tests, without the services' own suites; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

export VAR_DIR=${TEST_VAR_DIR:-var/test} PORT_BASE=${TEST_PORT_BASE:-19000} GATEWAY_PORT=${TEST_GATEWAY_PORT:-19080}
# The saga's driver asks again after 10 s rather than 30, and ends a pending order after 90 s rather
# than 300, so tests/test_stranded.py waits less (no other test leaves an order pending that long).
export ORDER_RETRY_AFTER=${ORDER_RETRY_AFTER:-10} ORDER_SAGA_TIMEOUT=${ORDER_SAGA_TIMEOUT:-90}
# A relay whose sweep has not returned after 20 s (not 120) counts itself wedged and exits, so
# tests/test_process_health.py sees supervisord start a fresh one sooner.
export RELAY_STALL_AFTER=${RELAY_STALL_AFTER:-20}
PY=.venv/bin/python

make --no-print-directory lint

$PY -m stack down >/dev/null 2>&1 || true
rm -rf "$VAR_DIR"
trap '$PY -m stack down' EXIT
$PY -m stack up --detach
eval "$($PY -m stack env)"

status=0
run_suite() {  # name, directory, database url, pytest args...
    local name=$1 dir=$2 db=$3; shift 3
    echo "=== $name"
    (cd "$dir" && DATABASE_URL=$db "$OLDPWD/.venv/bin/pytest" -q -p no:cacheprovider "$@") || status=1
}
if [ -z "${TEST_SELECTION:-}" ]; then
    run_suite service_kit libs/service_kit "$USERS_DATABASE_URL"
    run_suite users_svc users_svc "$USERS_DATABASE_URL"
    run_suite inventory_svc inventory_svc "$INVENTORY_DATABASE_URL"
    run_suite orders_svc orders_svc "$ORDERS_DATABASE_URL"
    run_suite payments_svc payments_svc "$PAYMENTS_DATABASE_URL"
fi
echo "=== end to end through nginx ($GATEWAY_URL)"
# shellcheck disable=SC2086  # TEST_SELECTION may name several paths
.venv/bin/pytest -q -p no:cacheprovider ${TEST_SELECTION:-tests} "$@" || status=1
exit $status

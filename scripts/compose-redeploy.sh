#!/usr/bin/env bash
# One service's new image put into service in a running Compose stack, while the rest runs and orders flow:
#
#   scripts/compose-redeploy.sh <service>        (users, inventory, orders or payments)
#
# 1. <service>-migrate again: its set-up commands (migrations first, idempotent), so the new code finds its
#    tables; the redeploy stops if they fail.
# 2. <service>-worker and <service>-relay recreated, as many workers as there were: Compose stops each old
#    container with TERM and waits its stop_grace_period (Celery's warm shutdown: running tasks finish, fetched
#    ones go back to the queue, tasks being acknowledged late; the relay ends its sweep), then starts the new.
# 3. <service>-web without a gap: a second web container of the new image beside the old one (`--scale
#    <service>-web=2 --no-recreate`); once it is healthy, the gateway's upstream for the service is pinned to
#    it alone and nginx reloaded (graceful: requests already sent to the old one are answered by it); the old
#    container is stopped (TERM: gunicorn answers what it was serving, within its stop_grace_period) and
#    removed; the upstream is set back to the service's name (which now resolves to the new container only)
#    and nginx reloaded again. Scale is 1 again. nginx never sends a request to a container that is stopping,
#    and never sends one twice (one server per upstream, proxy_next_upstream_tries 1).
#
# Works with Docker Compose v2 (`docker compose`) and docker-compose 1.29:
#   COMPOSE   the Compose command, split on spaces, with the options that name the project: `docker compose`
#             when it is installed, else `docker-compose`; e.g. COMPOSE="docker-compose -p shop --env-file .env"
#   DOCKER    the engine's command line for inspect, exec, stop, rm, wait (`docker`, else `podman`)
#   GATEWAY   the gateway's Compose service (nginx)
#   REDEPLOY_TIMEOUT  seconds for each wait (the set-up commands, the new web's health: 300)
#   WEB_STOP_TIMEOUT  seconds the old web has to stop before it is killed (30)
# Prints each step's time; exits non-zero, with the reason, when a step fails (the old web then still serves).
set -euo pipefail

service=${1:?usage: $0 <service> (users, inventory, orders, payments)}
case $service in users | inventory | orders | payments) ;; *) echo "unknown service: $service" >&2; exit 2 ;; esac
if [ -z "${COMPOSE:-}" ]; then
    if docker compose version >/dev/null 2>&1; then COMPOSE="docker compose"; else COMPOSE=docker-compose; fi
fi
if [ -z "${DOCKER:-}" ]; then
    if command -v docker >/dev/null; then DOCKER=docker; else DOCKER=podman; fi
fi
GATEWAY=${GATEWAY:-nginx}
TIMEOUT=${REDEPLOY_TIMEOUT:-300}
WEB_STOP_TIMEOUT=${WEB_STOP_TIMEOUT:-30} # gunicorn's graceful timeout (20 s in the Compose file) and some
# shellcheck disable=SC2086 # COMPOSE is a command with its options
compose() { $COMPOSE "$@"; }
say() { echo "[compose-redeploy $service] $*"; }
fail() { echo "[compose-redeploy $service] failed: $*" >&2; exit 1; }

# The running containers of a Compose service, by id (full ids, as inspect prints them).
running() {
    local id
    for id in $(compose ps -q "$1"); do
        [ "$($DOCKER inspect --format '{{.State.Running}}' "$id" 2>/dev/null)" = true ] && $DOCKER inspect --format '{{.Id}}' "$id"
    done
    return 0
}
started=$(date +%s)
step_start=$started
step_done() {
    local now
    now=$(date +%s)
    say "$1 ($((now - step_start)) s)"
    step_start=$now
}

# --- 1. set-up commands ---------------------------------------------------------------------------------
compose up -d --no-deps --force-recreate "$service-migrate"
migrate=$(compose ps -a -q "$service-migrate" | head -n 1) # -a: Compose v2 lists running ones only without it
[ -n "$migrate" ] || fail "no $service-migrate container"
code=$(timeout "$TIMEOUT" $DOCKER wait "$migrate") || fail "$service-migrate did not end within $TIMEOUT s"
[ "$code" = 0 ] || fail "$service-migrate exited $code"
step_done "set-up commands run"

# --- 2. worker and relay ----------------------------------------------------------------------------------
# As many workers as the service has containers (`--scale`), a stopped one included: all of them new.
workers=$(compose ps -a -q "$service-worker" | wc -l)
[ "$workers" -ge 1 ] || workers=1
compose up -d --no-deps --force-recreate --scale "$service-worker=$workers" "$service-worker" "$service-relay"
step_done "worker (x$workers) and relay replaced"

# --- 3. web -----------------------------------------------------------------------------------------------
old=$(running "$service-web")
[ "$(wc -w <<<"$old")" -eq 1 ] || fail "expected one running $service-web container, found: ${old:-none}"
compose up -d --no-deps --no-recreate --scale "$service-web=2" "$service-web"
new=$(running "$service-web" | grep -vx "$old" || true)
[ "$(wc -w <<<"$new")" -eq 1 ] || fail "expected one new $service-web container, found: ${new:-none}"
say "new web container ${new:0:12} beside ${old:0:12}"
# Stop and remove the new container if anything below fails before it serves: the old one goes on serving.
cleanup_new() { [ -n "$new" ] && { $DOCKER stop "$new" >/dev/null 2>&1; $DOCKER rm -f "$new" >/dev/null 2>&1; }; }
trap cleanup_new EXIT
deadline=$(($(date +%s) + TIMEOUT))
while true; do
    health=$($DOCKER inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$new")
    case $health in
    healthy | none) break ;;
    esac
    [ "$($DOCKER inspect --format '{{.State.Running}}' "$new")" = true ] || fail "the new $service-web stopped"
    [ "$(date +%s)" -lt "$deadline" ] || fail "the new $service-web is not healthy after $TIMEOUT s ($health)"
    sleep 1
done
step_done "new web healthy"

# The gateway's upstream for the service, `upstream <service>_svc { server <host:port>; }` in the conf its
# entrypoint rendered, set to a server and nginx reloaded (checked first: a bad conf is never loaded).
gateways=$(running "$GATEWAY")
[ -n "$gateways" ] || fail "no running $GATEWAY container"
conf=/etc/nginx/conf.d/default.conf
upstream() {
    local gateway
    for gateway in $gateways; do
        $DOCKER exec "$gateway" sh -c "
            sed -i -E 's/^(upstream ${service}_svc +\\{ *server +)[^;]+;/\\1$1;/' $conf &&
            grep -qE '^upstream ${service}_svc +\\{ *server +$1;' $conf && nginx -t -q && nginx -s reload" ||
            return 1
    done
    # `nginx -s reload` only signals the master: a moment for it to start workers on the new conf (the old
    # ones accept nothing more and finish what they were sending).
    sleep 2
}
original=$($DOCKER exec "$(head -n 1 <<<"$gateways")" sh -c "sed -n -E 's/^upstream ${service}_svc +\\{ *server +([^;]+);.*/\\1/p' $conf")
[ -n "$original" ] || fail "no upstream ${service}_svc in $conf of the gateway"
port=${original##*:}
address=$($DOCKER inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$new" | awk '{print $1}')
[ -n "$address" ] || fail "the new $service-web has no address"
restore() { upstream "$original" || echo "the gateway's upstream ${service}_svc could not be set back to $original" >&2; }
trap 'restore; cleanup_new' EXIT
upstream "$address:$port" || fail "the gateway did not take the new $service-web"
step_done "gateway sends $service to the new web only ($address:$port)"
new= # it serves now: whatever fails below, it stays
trap restore EXIT

# The old one answers what nginx had sent it (nginx's old workers wait for those answers), then stops.
$DOCKER stop -t "$WEB_STOP_TIMEOUT" "$old" >/dev/null || fail "could not stop the old $service-web"
$DOCKER rm "$old" >/dev/null || fail "could not remove the old $service-web"
step_done "old web stopped and removed"
trap - EXIT
upstream "$original" || fail "the gateway's upstream ${service}_svc could not be set back to $original"
step_done "gateway upstream back to $original"
say "redeployed in $(($(date +%s) - started)) s: web ${old:0:12} -> $(running "$service-web" | cut -c1-12)"

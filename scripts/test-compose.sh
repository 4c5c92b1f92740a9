#!/usr/bin/env bash
# `make test-compose`: the Compose stack, built and run for real. With podman (the Docker engine's API
# served by `podman system service`) and Debian's docker-compose, it builds the images from the project's
# own Dockerfiles, starts docker-compose.yml with a .env made from .env.example (generated secrets), waits
# for every healthcheck, then, through the gateway only: registers, signs in, places an order that ends
# confirmed and one declined; opens each admin and Flower; scales orders-worker to 2 and SIGKILLs one of
# them while orders are in flight (they still end terminal); redeploys orders (scripts/compose-redeploy.sh)
# while 2 orders a second are placed (none fails, one order per POST, all terminal); takes the stack down and
# up again and finds the data there (volumes); `down -v`. Prints each step's time and ends with `test-compose: passed` or
# `test-compose: failed: <step>`.
#
#   COMPOSE_STANDINS=auto|1|0  base images (python, postgres, redis, nginx, prometheus, debian): auto pulls each from its
#                          registry, and where that fails (COMPOSE_PULL_TIMEOUT s, 20) builds a stand-in from
#                          Debian's packages (scripts/compose/standins/); 1: stand-ins without trying; 0: pull
#                          or fail
#   COMPOSE_HOST_CA=auto|1|0   the builds' pip trusts the host's CA bundle (build secret ca_bundle; auto: when
#                          the host trusts CAs of its own, /usr/local/share/ca-certificates/*.crt)
#   COMPOSE_GATEWAY_PORT=24080  the gateway's port on the host (127.0.0.1)
#   COMPOSE_DEADLINE=s     the whole run's limit (2400); COMPOSE_UP_TIMEOUT=s for every container's health (600)
#   COMPOSE_HEALTH_PARALLEL=3  healthchecks run at once at most (podman 4.3 runs none itself here; see health_runner)
#   COMPOSE_REBUILD=1      build everything anew, without podman's layer cache: the Debian base, the stand-ins,
#                          the project's images (what a first run on a new machine does)
#   COMPOSE_KEEP=1         leave the stack running at the end (a diagnosis aid; `down -v` is then yours)
#
# Needs root (podman, debootstrap); installs podman, debootstrap, runc and docker-compose with apt-get where
# missing. The run's Compose project is its own (shop-compose-<pid>): at the end its containers, network
# and volumes are removed, never anything else. The images (the stand-ins, the Debian base they start
# from, the project's) stay as a cache. Logs: var/test-compose/<time>/ (`latest` links the last).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/lib/podman.sh
. scripts/lib/podman.sh

STANDINS=${COMPOSE_STANDINS:-auto}
REBUILD=${COMPOSE_REBUILD:-0}
PULL_TIMEOUT=${COMPOSE_PULL_TIMEOUT:-20}
HOST_CA=${COMPOSE_HOST_CA:-auto}
GATEWAY_PORT=${COMPOSE_GATEWAY_PORT:-24080}
DEADLINE_S=${COMPOSE_DEADLINE:-2400}
UP_TIMEOUT=${COMPOSE_UP_TIMEOUT:-600}
HEALTH_PARALLEL=${COMPOSE_HEALTH_PARALLEL:-3}
MIRROR=${COMPOSE_MIRROR:-http://deb.debian.org/debian}
DEBIAN_IMAGE=localhost/shop-debian-minbase:bookworm
PYTHON=/usr/bin/python3 # the machine's, with Debian's python3-yaml (a dependency of docker-compose)

START=$(date +%s)
END=$((START + DEADLINE_S))
RUN_ID=$(date +%Y%m%d-%H%M%S)
LOGS=$ROOT/var/test-compose/$RUN_ID
PROJECT=shop-compose-$$
TMP=
SERVICE_PID=
HEALTH_PID=
export ROOT STANDINS REBUILD PULL_TIMEOUT UP_TIMEOUT MIRROR DEBIAN_IMAGE PYTHON END LOGS PROJECT

say() { echo "[test-compose] $*"; }
run_alone test-compose

podman_tools podman debootstrap runc docker-compose | sed 's/^/[test-compose] /'

TMP=$(mktemp -d /tmp/shop-test-compose.XXXXXX)
export TMP
mkdir -p "$LOGS"
ln -sfn "$RUN_ID" "$ROOT/var/test-compose/latest"
podman_conf "$TMP"
export DOCKER_HOST=unix://$TMP/podman.sock COMPOSE_HTTP_TIMEOUT=300

# docker-compose 1.29 (Debian 12's) predates the Compose specification's top-level `name:`; the run names
# its project itself (-p), so it reads the committed file less that one line, paths relative to the root.
grep -v '^name: ' docker-compose.yml >"$TMP/docker-compose.yml"
dc() { docker-compose -p "$PROJECT" --project-directory "$ROOT" --env-file "$TMP/.env" -f "$TMP/docker-compose.yml" "$@"; }
# The run's own containers, volumes and networks: those with its project's label, which Compose gives them.
owned_containers() { podman ps -a --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Names}}'; }
owned_volumes() { podman volume ls --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Name}}'; }
owned_networks() { podman network ls --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Name}}'; }

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ "${COMPOSE_KEEP:-0}" = 1 ]; then
        say "COMPOSE_KEEP=1: project $PROJECT left running (DOCKER_HOST=$DOCKER_HOST; the API service too)"
        return
    fi
    [ -n "$HEALTH_PID" ] && kill "$HEALTH_PID" 2>/dev/null
    if [ -n "$SERVICE_PID" ] && [ -n "$(owned_containers)$(owned_volumes)$(owned_networks)" ]; then
        timeout 180 dc down -v --remove-orphans -t 10 >>"$LOGS/cleanup.log" 2>&1 || true
    fi
    # Whatever Compose left of this project, by its label only.
    owned_containers | xargs -r timeout 120 podman rm -f -t 5 >>"$LOGS/cleanup.log" 2>&1 || true
    owned_volumes | xargs -r podman volume rm -f >>"$LOGS/cleanup.log" 2>&1 || true
    owned_networks | xargs -r podman network rm -f >>"$LOGS/cleanup.log" 2>&1 || true
    [ -n "$SERVICE_PID" ] && kill "$SERVICE_PID" 2>/dev/null && wait "$SERVICE_PID" 2>/dev/null
    [ -n "$TMP" ] && rm -rf "$TMP"
    exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# --- the summary's rows ------------------------------------------------------------------------------
names=() times=() results=() notes=()
record() { names+=("$1"); times+=("$2"); results+=("$3"); notes+=("${4:-}"); }
FAILED_STEP=
# run_step NAME LIMIT COMMAND...: runs it bounded, its output in the log, its last line the summary's note.
run_step() {
    local name=$1 limit rc=0 t0 log note
    limit=$(cap "$2")
    shift 2
    [ -z "$FAILED_STEP" ] || return 1
    log=$LOGS/$(tr -cs 'A-Za-z0-9\n' '-' <<<"$name").log
    say "$name (log: $log)"
    t0=$(date +%s)
    # A step may be a function of this script: the child bash gets them all, and the settings exported above.
    export -f $(compgen -A function)
    timeout -k 10 "$limit" bash -c 'set -uo pipefail; "$@"' "$name" "$@" >"$log" 2>&1 || rc=$?
    note=$(grep -v '^\s*$' "$log" | tail -n 1 | cut -c1-200 || true)
    if [ $rc -eq 0 ]; then
        record "$name" $(($(date +%s) - t0)) ok "$note"
    else
        [ $rc -eq 124 ] && note="timed out after $limit s; $note"
        record "$name" $(($(date +%s) - t0)) FAILED "$note"
        FAILED_STEP=$name
        [ -z "$SERVICE_PID" ] || timeout 120 bash -c 'trail "$1"' trail "$log" >>"$log" 2>&1 || true
        tail -n 25 "$log" | sed 's/^/  | /' >&2
        return 1
    fi
}
checks() { "$PYTHON" "$ROOT/scripts/compose/checks.py" "$@"; }
# What the containers say about a failed step, appended to its log (and so printed with its last lines):
# each of the run's containers that is not up and healthy, and the lines of every container's log that name
# a request id the failure names (checks.py sends one with every call; nginx and the services log it).
trail() {
    local name patterns=()
    podman ps -a --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Names}} {{.Status}}' |
        grep -E 'unhealthy|starting|Created|Exited \([1-9]|Restarting|Stopped|Paused' | sed 's/^/not up and healthy: /'
    for name in $(grep -oE 'request [A-Za-z0-9._:-]+' "$1" | cut -d' ' -f2 | sort -u | head -n 5); do
        patterns+=(-e "$name")
    done
    [ ${#patterns[@]} -gt 0 ] || return 0
    for name in $(owned_containers); do
        timeout 20 podman logs "$name" 2>&1 | grep -F "${patterns[@]}" | tail -n 5 | cut -c1-400 | sed "s/^/$name: /"
    done
}

# --- 1. the base images: pulled, else stand-ins built from Debian's packages --------------------------
is_standin() { [ -n "$(podman image inspect --format '{{index .Labels "org.shop-platform.standin"}}' "$1" 2>/dev/null)" ]; }
base_images() {
    local image full name registry=unknown made=()
    for image in $(checks base-images docker-compose.yml); do
        # Docker Hub's official images live under library/; the others under their owner (prom/prometheus).
        case $image in */*) full=docker.io/$image ;; *) full=docker.io/library/$image ;; esac
        if [ "$STANDINS" != 1 ] && podman image exists "$full" && ! is_standin "$full"; then
            made+=("$image: pulled before"); continue
        fi
        if [ "$STANDINS" != 1 ] && [ "$registry" != unreachable ]; then
            if timeout "$PULL_TIMEOUT" podman pull -q "$full"; then
                registry=reachable made+=("$image: pulled"); continue
            fi
            registry=unreachable
            [ "$STANDINS" = 0 ] && { echo "cannot pull $full (COMPOSE_STANDINS=0)"; return 1; }
            echo "the registry does not answer for $full: stand-ins from here on"
        fi
        [ "$STANDINS" = 0 ] && { echo "cannot pull $full (COMPOSE_STANDINS=0)"; return 1; }
        name=${image##*/} name=${name%%:*}
        [ -f "scripts/compose/standins/$name.Dockerfile" ] || { echo "no stand-in for $image"; return 1; }
        if [ "$REBUILD" = 1 ] || ! podman image exists "$DEBIAN_IMAGE"; then
            echo "debootstrap: $DEBIAN_IMAGE"
            debian_base "$DEBIAN_IMAGE" "$MIRROR" "$TMP" "$LOGS/debootstrap.log" 1200 || return 1
            REBUILD=done # once per run
        fi
        podman build $([ "$REBUILD" = 0 ] || echo --no-cache) --format docker --build-arg "BASE=$DEBIAN_IMAGE" -t "$full" \
            -f "scripts/compose/standins/$name.Dockerfile" scripts/compose/standins || return 1
        made+=("$image: stand-in")
    done
    printf '%s; ' "${made[@]}" | sed 's/; $/\n/'
}
run_step "base images" 1800 base_images || true

# --- 2. the project's images, from its Dockerfiles as they are ----------------------------------------
HOST_CA=$(host_ca_wanted "$HOST_CA")
build_args=(--format docker) # the Docker format keeps each image's HEALTHCHECK
[ "$REBUILD" = 1 ] && build_args+=(--no-cache)
[ "$HOST_CA" = 1 ] && build_args+=(--secret "id=ca_bundle,src=/etc/ssl/certs/ca-certificates.crt")
build_image() {
    local image=$1 dockerfile=$2
    shift 2
    podman build "$@" -f "$dockerfile" -t "$image" . || return 1
    echo "$image: $(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
}
while read -r image dockerfile service; do
    args=("${build_args[@]}")
    [ "$service" = - ] || args+=(--build-arg "SERVICE=$service")
    # Named as the Docker engine would name it, so that Compose (through podman's Docker API) finds it.
    run_step "build ${image#*/}" 1200 build_image "docker.io/$image" "$dockerfile" "${args[@]}" || true
done < <(checks images docker-compose.yml)

# --- 3. what the images hold ---------------------------------------------------------------------------
image_checks() {
    local image sizes=() ca_line=
    # One line of the host's own CA (when it has one): it must be in no image.
    ca_line=$(find /usr/local/share/ca-certificates -name '*.crt' 2>/dev/null | head -n 1 | xargs -r sed -n 2p)
    for image in $(checks images docker-compose.yml | awk '{print "docker.io/" $1}'); do
        podman run --rm --no-healthcheck --entrypoint sh "$image" -c '
            set -u
            [ "$(id -u)" != 0 ] || { echo "runs as root"; exit 1; }
            for tool in gcc cc make git; do
                ! command -v "$tool" >/dev/null || { echo "build tool in the image: $tool"; exit 1; }
            done
            [ ! -e /run/secrets/ca_bundle ] && [ -z "${PIP_CERT:-}" ] || { echo "the CA secret left a trace"; exit 1; }
            [ -z "$(ls -A /keys 2>/dev/null)" ] || { echo "/keys is not empty"; exit 1; }
            found=$(find / -xdev -type f \( -name "*.pem" -o -name "*.key" -o -name "id_rsa*" -o -name ".env" \) \
                -not -path "*/site-packages/*" -not -path "/etc/ssl/*" -not -path "/usr/share/ca-certificates/*" \
                -not -path "/usr/lib/python3*/*" -not -path "/proc/*" 2>/dev/null)
            [ -z "$found" ] || { echo "key files: $found"; exit 1; }
            if [ -n "$1" ] && grep -rqsF -- "$1" /etc/ssl /usr/local /app /usr/lib/python3; then
                echo "the host CA is in the image"; exit 1
            fi
        ' check "$ca_line" || { echo "$image failed"; return 1; }
        echo "$image: uid $(podman run --rm --no-healthcheck --entrypoint id "$image" -u), no gcc/cc/make/git, no keys or CA"
        sizes+=("${image#docker.io/shop-platform/} $(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')")
    done
    podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'shop-platform|docker.io/library' || true
    echo "uid 10001, no build tools, keys or host CA; sizes: $(printf '%s, ' "${sizes[@]}" | sed 's/, $//')"
}
run_step "image checks" 300 image_checks || true

# --- 4. up, and every healthcheck passing --------------------------------------------------------------
# podman's Docker API for docker-compose, this run's own socket.
podman system service --time=0 "$DOCKER_HOST" >"$LOGS/podman-service.log" 2>&1 &
SERVICE_PID=$!
for _ in $(seq 50); do [ -S "$TMP/podman.sock" ] && break; sleep 0.2; done

if ss -Hltn "sport = :$GATEWAY_PORT" | grep -q .; then
    say "port $GATEWAY_PORT is taken (COMPOSE_GATEWAY_PORT chooses another)" >&2
    exit 1
fi
# .env from .env.example: every change-me value a fresh secret, the gateway on this run's port.
while IFS= read -r line; do
    if [[ $line =~ ^([A-Z_]+)=change-me ]]; then
        echo "${BASH_REMATCH[1]}=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(32))')"
    elif [[ $line =~ ^GATEWAY_PORT= ]]; then
        echo "GATEWAY_PORT=$GATEWAY_PORT"
    else
        echo "$line"
    fi
done <.env.example >"$TMP/.env"
chmod 600 "$TMP/.env"

# podman 4.3 runs healthchecks from systemd timers, absent here: this loop runs `podman healthcheck run`
# for each of the run's containers, first 3 s after it appears, then at its own interval, the most overdue first.
# A check is a podman process and an exec through conmon and runc, and podman counts it failed (exit code -1,
# "exceeded timeout") when it outlasts the container's timeout (5 s), its own start included. Started at every
# interval whatever was still running, checks piled up on this 2-core machine (a dozen and more at once, load
# above 20) until each outlasted its timeout and containers stayed starting or turned unhealthy for minutes. So:
# one check of a container at a time, HEALTH_PARALLEL at once in all, each bounded.
health_runner() {
    declare -A due=() every=() running=()
    local id now interval busy candidates
    while [ "$(remaining)" -gt 0 ]; do
        now=$(date +%s)
        busy=0
        for id in "${!running[@]}"; do
            if kill -0 "${running[$id]}" 2>/dev/null; then busy=$((busy + 1)); else unset "running[$id]"; fi
        done
        candidates=
        for id in $(podman ps --filter "label=com.docker.compose.project=$PROJECT" -q 2>/dev/null); do
            if [ -z "${every[$id]:-}" ]; then
                interval=$(podman inspect --format '{{if .Config.Healthcheck}}{{.Config.Healthcheck.Interval}}{{end}}' "$id" 2>/dev/null || true)
                # Go durations as podman prints them: "30s", "1m0s"; none: no check.
                if [[ $interval =~ ^([0-9]+)m([0-9]+)s$ ]]; then
                    every[$id]=$((BASH_REMATCH[1] * 60 + BASH_REMATCH[2]))
                elif [[ $interval =~ ^([0-9]+)s$ ]]; then
                    every[$id]=${BASH_REMATCH[1]}
                else
                    every[$id]=none
                fi
                due[$id]=$((now + 3))
            fi
            if [ "${every[$id]}" != none ] && [ "$now" -ge "${due[$id]}" ] && [ -z "${running[$id]:-}" ]; then
                candidates+="${due[$id]} $id"$'\n'
            fi
        done
        if [ "$busy" -lt "$HEALTH_PARALLEL" ] && [ -n "$candidates" ]; then
            while read -r _ id; do
                due[$id]=$((now + every[$id]))
                timeout 60 podman healthcheck run "$id" </dev/null >/dev/null 2>&1 &
                running[$id]=$!
            done < <(printf '%s' "$candidates" | sort -n | head -n "$((HEALTH_PARALLEL - busy))")
        fi
        sleep 1
    done
}
health_runner &
HEALTH_PID=$!

# wait_healthy LIMIT: every running container of the run healthy, the one-shot ones exited 0.
wait_healthy() {
    local limit=$1 t0 line bad
    t0=$(date +%s)
    while true; do
        # "(healthy)" only: "(unhealthy)", "(starting)", "Created" are not done.
        bad=$(podman ps -a --filter "label=com.docker.compose.project=$PROJECT" \
            --format '{{.Names}} {{.Status}}' | grep -vE '\(healthy\)|Exited \(0\)' || true)
        [ -z "$bad" ] && { owned_containers | wc -l | xargs echo "containers healthy:"; return 0; }
        if [ $(($(date +%s) - t0)) -ge "$limit" ]; then
            echo "not healthy after $limit s:"; echo "$bad"; health_logs; return 1
        fi
        sleep 3
    done
}
# The last checks of each container that is not healthy (for the log of a failed step).
health_logs() {
    podman ps -a --filter "label=com.docker.compose.project=$PROJECT" --format '{{.ID}} {{.Status}}' |
        grep -E 'unhealthy|starting' | while read -r id _; do
        podman inspect --format '{{.Name}}: {{range .State.Health.Log}}[{{.ExitCode}}] {{.Output}} {{end}}' "$id" | cut -c1-1500
    done
}
compose_up() {
    dc up -d --no-build || { health_logs; return 1; }
    wait_healthy "$UP_TIMEOUT"
}
run_step "up and healthy" "$((UP_TIMEOUT + 300))" compose_up || true

# --- 5. through the gateway ----------------------------------------------------------------------------
run_step "orders" 300 checks customer "$TMP" || true
run_step "admins and Flower" 180 checks operator-pages "$TMP" || true
non_root() {
    local service uid
    for service in users-web inventory-web orders-web payments-web orders-worker flower; do
        uid=$(podman exec "$(dc ps -q "$service" | head -n 1)" id -u)
        echo "$service runs as uid $uid"
        [ "$uid" != 0 ] || return 1
    done
    echo "the web containers, orders-worker and flower run as uid $uid"
}
run_step "non-root" 60 non_root || true

# --- 6. two orders workers, one killed mid-saga ----------------------------------------------------------
scale_and_kill() {
    local victim outcome
    dc up -d --no-deps --no-recreate --scale orders-worker=2 orders-worker || return 1
    wait_healthy 240 || return 1
    [ "$(dc ps -q orders-worker | wc -l)" -eq 2 ] || { echo "not 2 orders workers"; return 1; }
    # One of the two workers SIGKILLed the moment a burst of orders is in (checks.py runs the kill).
    victim=$(dc ps -q orders-worker | head -n 1)
    echo "victim: $(podman inspect --format '{{.Name}}' "$victim")"
    checks place "$TMP" 24 podman kill --signal KILL "$victim" || return 1
    outcome=$(checks terminal "$TMP" 240) || { echo "$outcome"; return 1; }
    echo "the killed worker: $(podman inspect --format '{{.State.Status}}, restarted {{.RestartCount}} times' "$victim")"
    echo "$outcome"
}
run_step "scale and kill" 600 scale_and_kill || true

# --- 7. orders redeployed while orders are placed: no request fails, none runs twice, none is lost -----------
# scripts/compose-redeploy.sh orders (its set-up commands, worker and relay replaced, a new web beside the old,
# the gateway moved to it, the old one stopped) while checks.py places 2 orders a second through the gateway.
redeploy_orders() {
    local before_web before_workers after_web after_workers outcome
    before_web=$(dc ps -q orders-web) before_workers=$(dc ps -q orders-worker orders-relay | sort)
    echo "before: web $before_web; worker and relay $(echo $before_workers)"
    outcome=$(COMPOSE="docker-compose -p $PROJECT --project-directory $ROOT --env-file $TMP/.env -f $TMP/docker-compose.yml" \
        DOCKER=podman checks steady "$TMP" 2 "$ROOT/scripts/compose-redeploy.sh" orders) || { echo "$outcome"; return 1; }
    echo "$outcome"
    after_web=$(dc ps -q orders-web) after_workers=$(dc ps -q orders-worker orders-relay | sort)
    echo "after: web $after_web; worker and relay $(echo $after_workers)"
    [ "$(wc -w <<<"$after_web")" -eq 1 ] || { echo "not one orders-web after the redeploy: $after_web"; return 1; }
    [[ " $before_web " != *" ${after_web%%[[:space:]]*} "* ]] || { echo "orders-web was not replaced"; return 1; }
    [ -z "$(comm -12 <(echo "$before_workers") <(echo "$after_workers"))" ] ||
        { echo "worker or relay not replaced"; return 1; }
    [ "$(wc -w <<<"$after_workers")" -eq "$(wc -w <<<"$before_workers")" ] ||
        { echo "worker and relay: $(wc -w <<<"$before_workers") containers before, $(wc -w <<<"$after_workers") after"; return 1; }
    wait_healthy 240 || return 1
    echo "orders-web, worker(s) and relay replaced; $outcome"
}
run_step "redeploy orders" 900 redeploy_orders || true

# --- 8. down and up again: the data is in the volumes --------------------------------------------------
restart() {
    dc down -t 30 || return 1
    [ -n "$(owned_volumes)" ] || { echo "no volume left after down"; return 1; }
    dc up -d --no-build || return 1
    wait_healthy "$UP_TIMEOUT" || return 1
    checks persisted "$TMP"
}
run_step "down, up: data kept" "$((UP_TIMEOUT + 300))" restart || true

# --- 9. down -v: nothing of the run left ---------------------------------------------------------------
down_all() {
    dc down -v --remove-orphans -t 30 || return 1
    local left
    left=$(owned_containers; owned_volumes; owned_networks)
    [ -z "$left" ] || { echo "left after down -v: $left"; return 1; }
    echo "no container, volume or network of $PROJECT left"
}
if [ -n "$SERVICE_PID" ] && [ "${COMPOSE_KEEP:-0}" != 1 ]; then
    export -f dc
    timeout 60 bash -c 'dc "$@"' dc logs --no-color -t >"$LOGS/containers.log" 2>&1 || true
    saved=$FAILED_STEP FAILED_STEP= # cleaning up runs whatever failed before
    run_step "down -v" 300 down_all || true
    FAILED_STEP=${saved:-$FAILED_STEP}
fi

# --- summary -------------------------------------------------------------------------------------------
{
    echo
    echo "test-compose summary: commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' + changes'), project $PROJECT"
    for i in "${!names[@]}"; do
        printf '  %-24s %5s s  %-7s %s\n' "${names[$i]}" "${times[$i]}" "${results[$i]}" "${notes[$i]}"
    done
    printf '  %-24s %5s s\n' "total" $(($(date +%s) - START))
    echo "  logs: $LOGS/"
    if [ -z "$FAILED_STEP" ]; then echo "test-compose: passed"; else echo "test-compose: failed: $FAILED_STEP"; fi
} | tee "$LOGS/summary.txt"
[ -z "$FAILED_STEP" ]

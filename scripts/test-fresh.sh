#!/usr/bin/env bash
# `make test-fresh`: the README's two commands, as written, on a machine that has never seen the
# project. In a clean Debian 12 (bookworm) container holding only git, make, python3 and
# ca-certificates, it clones the committed HEAD into /root/shop, runs `make up` until it is up,
# follows the README's "Try it" (the order must end "confirmed"), stops it with Ctrl-C (SIGINT),
# then runs `make test` FRESH_RUNS times (3), and prints the time of each step and pytest's counts.
#
#   FRESH_RUNS=1           how many `make test` runs in a row
#   FRESH_TEST_ARGS=...    development shortcut, appended to `make test`, e.g.
#                          FRESH_TEST_ARGS=TEST_SELECTION=tests/test_gateway.py
#   FRESH_DEADLINE=s       total time limit (default: 50 min plus FRESH_TEST_TIMEOUT per run)
#   FRESH_UP_TIMEOUT=s     `make up` until "[stack] up in" (2400), FRESH_TEST_TIMEOUT=s one `make test` (2700)
#   FRESH_HOST_CA=auto|1|0 trust the host's CAs in the container (auto: when the host trusts local
#                          CAs, /usr/local/share/ca-certificates/*.crt, as behind a TLS-intercepting proxy)
#   FRESH_CLONE_DIR=/root/shop  where the container's clone goes (another folder: a diagnosis aid)
#   FRESH_REBUILD=1        rebuild the base image (kept between runs as a cache: FRESH_IMAGE)
#
# Needs root and podman (installed with apt-get when missing, with debootstrap and runc). The base
# image is built with debootstrap from deb.debian.org, no registry needed. The container uses
# podman's default network, so its stack's ports (8080, 18xxx, 19xxx) are its own. The container
# and every temporary file are removed at the end; the logs stay in var/test-fresh/<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/lib/podman.sh
. scripts/lib/podman.sh

RUNS=${FRESH_RUNS:-3}
TEST_ARGS=${FRESH_TEST_ARGS:-}
IMAGE=${FRESH_IMAGE:-localhost/shop-test-fresh-base:bookworm}
MIRROR=${FRESH_MIRROR:-http://deb.debian.org/debian}
UP_TIMEOUT=${FRESH_UP_TIMEOUT:-2400}
TEST_TIMEOUT=${FRESH_TEST_TIMEOUT:-2700}
DEADLINE_S=${FRESH_DEADLINE:-$((3000 + RUNS * TEST_TIMEOUT))}
HOST_CA=${FRESH_HOST_CA:-auto}
CLONE_DIR=${FRESH_CLONE_DIR:-/root/shop}

START=$(date +%s)
END=$((START + DEADLINE_S))
RUN_ID=$(date +%Y%m%d-%H%M%S)
LOGS=$ROOT/var/test-fresh/$RUN_ID
CTR=shop-test-fresh-$$
TMP=

say() { echo "[test-fresh] $*"; }
run_alone test-fresh

# --- host tools ------------------------------------------------------------------------------------
podman_tools podman debootstrap runc | sed 's/^/[test-fresh] /'

TMP=$(mktemp -d /tmp/shop-test-fresh.XXXXXX)
mkdir -p "$LOGS"
ln -sfn "$RUN_ID" "$ROOT/var/test-fresh/latest"

# Everything this run made goes at the end, whatever happens: the container, then the temporary
# folder (the debootstrap tree, the bare clone, containers.conf). The base image stays: a cache.
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if podman container exists "$CTR" 2>/dev/null; then
        timeout 120 podman rm -f -t 10 "$CTR" >/dev/null 2>&1 || say "could not remove container $CTR" >&2
    fi
    [ -n "$TMP" ] && rm -rf "$TMP"
    exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

podman_conf "$TMP"

# --- the summary's rows --------------------------------------------------------------------------
names=() times=() results=() notes=()
record() { names+=("$1"); times+=("$2"); results+=("$3"); notes+=("${4:-}"); }
failed=0

# Sum pytest's summary lines ("3 failed, 293 passed, 22 subtests passed in 892.79s", one per suite) in a log:
# prints "passed failed suites", failed counting errors too.
pytest_counts() {
    local lines
    lines=$(grep -E '^=* ?[0-9]+ (passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)(, [0-9]+ [a-z ]+)* in [0-9.]+s' "$1" 2>/dev/null || true)
    sum() { grep -oE "[0-9]+ ($1)" <<<"$lines" | awk '{ n += $1 } END { print n + 0 }'; }
    echo "$(sum passed) $(( $(sum failed) + $(sum 'errors?') )) $(grep -c . <<<"$lines" || true)"
}

# --- 1. the base image: minimal Debian 12 with git, make, python3, ca-certificates -----------------
if [ "${FRESH_REBUILD:-0}" = 1 ] || ! podman image exists "$IMAGE"; then
    say "building the base image $IMAGE with debootstrap (log: $LOGS/debootstrap.log)"
    t0=$(date +%s)
    rc=0
    debian_base "$IMAGE" "$MIRROR" "$TMP" "$LOGS/debootstrap.log" "$(cap 1200)" git,make,python3,ca-certificates || rc=$?
    if [ $rc -ne 0 ]; then
        record "base image" $(($(date +%s) - t0)) FAILED "see $LOGS/debootstrap.log"
        say "could not build the base image: see $LOGS/debootstrap.log" >&2
        exit 1
    fi
    record "base image" $(($(date +%s) - t0)) ok "debootstrap + podman import"
else
    record "base image" 0 ok "cached: $IMAGE (FRESH_REBUILD=1 rebuilds it; podman rmi $IMAGE removes it)"
fi

# --- 2. the container ------------------------------------------------------------------------------
# What the container gets from the host, all mounted at run time: a bare clone of the committed
# HEAD (not the working tree), the in-container steps (read-only), the log folder, and, when
# asked, the host's CAs (read-only: they never enter an image).
commit=$(git rev-parse HEAD)
git init -q --bare --initial-branch=main "$TMP/shop.git"
git push -q "$TMP/shop.git" "$commit:refs/heads/main"
mounts=(-v "$TMP/shop.git:/run/fresh/shop.git:ro"
    -v "$ROOT/scripts/fresh/in-container.sh:/run/fresh/in-container.sh:ro"
    -v "$LOGS:/run/fresh/logs")
HOST_CA=$(host_ca_wanted "$HOST_CA")
exec_env=(-e "FRESH_CLONE_DIR=$CLONE_DIR")
if [ "$HOST_CA" = 1 ]; then
    mounts+=(-v /etc/ssl/certs/ca-certificates.crt:/run/fresh/host-ca/ca-certificates.crt:ro)
    [ -d /usr/local/share/ca-certificates ] && mounts+=(-v /usr/local/share/ca-certificates:/run/fresh/host-ca/local:ro)
    # pip brings its own CA list: point it (and requests, and OpenSSL) at the host's bundle.
    for var in PIP_CERT REQUESTS_CA_BUNDLE SSL_CERT_FILE; do
        exec_env+=(-e "$var=/run/fresh/host-ca/ca-certificates.crt")
    done
fi
# Any proxy settings of the host, as they are.
while IFS= read -r var; do exec_env+=(-e "$var"); done < <(proxy_vars)

say "container $CTR from $IMAGE, commit ${commit:0:7}, host CAs: $([ "$HOST_CA" = 1 ] && echo yes || echo no)"
t0=$(date +%s)
# --init: an init process reaps what the stack's processes leave, as on a real machine.
timeout "$(cap 300)" podman run -d --name "$CTR" --hostname shop-fresh --init "${mounts[@]}" \
    "$IMAGE" sleep infinity >/dev/null || { say "podman run failed" >&2; exit 1; }
# The step runner: one in-container step, bounded twice (timeout inside the container kills the
# step's whole process group; the one outside stops podman itself if the container hangs; it stays
# in the foreground so that Ctrl-C reaches podman, and the clean-up runs at once).
step() {
    local limit; limit=$(cap "$1"); shift
    timeout --foreground -k 10 $((limit + 60)) podman exec "${exec_env[@]}" "$CTR" \
        timeout -k 30 "$limit" /run/fresh/in-container.sh "$@"
}
if [ "$HOST_CA" = 1 ]; then
    step 120 trust-host-ca || { say "could not add the host's CAs in the container" >&2; exit 1; }
fi
record "container" $(($(date +%s) - t0)) ok "podman run (default network)"

# --- 3. git clone ----------------------------------------------------------------------------------
t0=$(date +%s)
rc=0
out=$(step 300 clone 2>&1) || rc=$?
if [ $rc -ne 0 ]; then
    record "git clone" $(($(date +%s) - t0)) FAILED "$out"
    failed=1
else
    record "git clone" $(($(date +%s) - t0)) ok "$CLONE_DIR at $out"
fi

# --- 4. make up, "Try it", Ctrl-C ------------------------------------------------------------------
up_ok=0
if [ $failed -eq 0 ]; then
    say "make up (installs with apt-get, makes the venv, starts the stack; log: $LOGS/make-up.log)"
    t0=$(date +%s)
    step 60 up-start || true   # the wait below sees it if make up did not start
    limit=$(cap "$UP_TIMEOUT")
    result=TIMEOUT
    while [ $(($(date +%s) - t0)) -lt "$limit" ]; do
        if grep -q '^\[stack\] up in' "$LOGS/make-up.log" 2>/dev/null; then result=ok; break; fi
        if ! step 30 up-alive; then result=FAILED; break; fi
        sleep 5
    done
    up_in=$(grep -oE '^\[stack\] up in [0-9.]+ s' "$LOGS/make-up.log" 2>/dev/null | sed 's/^\[stack\] //' || true)
    note="apt-get + venv + start${up_in:+; the stack: $up_in}"
    [ $result = ok ] || note="$note; see make-up.log and make-up-var-log/"
    record "make up" $(($(date +%s) - t0)) $result "$note"
    if [ $result = ok ]; then
        up_ok=1
        say "Try it (log: $LOGS/try-it.log)"
        t0=$(date +%s)
        if step 300 try-it >"$LOGS/try-it.log" 2>&1; then
            record "Try it" $(($(date +%s) - t0)) ok "$(tail -n 1 "$LOGS/try-it.log")"
        else
            record "Try it" $(($(date +%s) - t0)) FAILED "see $LOGS/try-it.log"
            failed=1
        fi
    else
        failed=1
        tail -n 20 "$LOGS/make-up.log" | sed 's/^/  | /' >&2 || true
    fi
    say "Ctrl-C (SIGINT) to make up"
    t0=$(date +%s)
    if out=$(step 180 up-stop 120 2>&1); then
        note="stopped; nothing left running"
        grep -q "already ended" <<<"$out" && note="make up had already ended; nothing left running"
        record "Ctrl-C" $(($(date +%s) - t0)) ok "$note"
    else
        record "Ctrl-C" $(($(date +%s) - t0)) FAILED "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
        failed=1
    fi
    step 120 collect-logs var/log make-up-var-log || true
fi

# --- 5. make test, FRESH_RUNS times ----------------------------------------------------------------
total_passed=0 total_failed=0
if [ $up_ok -eq 1 ]; then
    for run in $(seq "$RUNS"); do
        if [ "$(remaining)" -lt 60 ]; then
            record "make test #$run" 0 SKIPPED "total deadline (${DEADLINE_S} s) reached"
            failed=1
            continue
        fi
        log=make-test-$run.log
        say "make test${TEST_ARGS:+ $TEST_ARGS} #$run of $RUNS (log: $LOGS/$log)"
        t0=$(date +%s)
        rc=0
        # shellcheck disable=SC2086  # FRESH_TEST_ARGS holds several words
        step "$TEST_TIMEOUT" test "$log" $TEST_ARGS || rc=$?
        step 120 collect-logs var/test/log "make-test-$run-var-log" || true
        read -r passed nfailed suites < <(pytest_counts "$LOGS/$log")
        total_passed=$((total_passed + passed)) total_failed=$((total_failed + nfailed))
        case $rc in
        0) result=ok ;;
        124 | 137) result=TIMEOUT ;;
        *) result=FAILED ;;
        esac
        [ $result = ok ] || failed=1
        record "make test #$run" $(($(date +%s) - t0)) $result "$passed passed, $nfailed failed ($suites pytest summaries, exit $rc)"
    done
fi

# --- summary ---------------------------------------------------------------------------------------
{
    echo
    echo "test-fresh summary: commit ${commit:0:7} in a clean Debian 12 container (image $IMAGE, kept as a cache)"
    [ -n "$TEST_ARGS" ] && echo "  (development shortcut: make test $TEST_ARGS)"
    [ "$CLONE_DIR" != /root/shop ] && echo "  (clone in $CLONE_DIR, not the default /root/shop)"
    for i in "${!names[@]}"; do
        printf '  %-14s %6s s  %-8s %s\n' "${names[$i]}" "${times[$i]}" "${results[$i]}" "${notes[$i]}"
    done
    printf '  %-14s %6s s\n' "total" $(($(date +%s) - START))
    echo "  logs: $LOGS/"
    (cd "$LOGS" && ls -d -- * | sed 's/^/    /')
    echo "  removing: container $CTR, $TMP (the base image stays)"
    echo "test-fresh: $total_passed passed, $total_failed failed"
} | tee "$LOGS/summary.txt"
exit $failed

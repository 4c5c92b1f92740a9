#!/usr/bin/env bash
# The steps `make test-fresh` runs inside its clean Debian 12 container, one per call:
#   in-container.sh <step> [arguments]
# scripts/test-fresh.sh mounts this file read-only at /run/fresh/in-container.sh, a bare clone of
# the commit under test at /run/fresh/shop.git and its log folder at /run/fresh/logs; it times
# every step and bounds it with `timeout`. Everything here acts on the container only.
set -euo pipefail

CLONE=${FRESH_CLONE_DIR:-/root/shop}
LOGS=/run/fresh/logs
UP_PID=/run/fresh-make-up.pid   # in the container's own file system, not in the mounted log folder

step=${1:?step}
shift

case "$step" in
trust-host-ca)
    # The host reaches the mirrors through a TLS-intercepting proxy whose CA it trusts: trust the
    # same CAs here, for this container only (mounted read-only at run time, never in the image).
    if compgen -G "/run/fresh/host-ca/local/*.crt" >/dev/null; then
        cp /run/fresh/host-ca/local/*.crt /usr/local/share/ca-certificates/
    fi
    out=$(update-ca-certificates 2>&1) || { echo "$out" >&2; exit 1; }
    ;;

clone)
    # A real git clone of the committed tree, as a new user's `git clone` would make it.
    git clone -q /run/fresh/shop.git "$CLONE"
    git -C "$CLONE" log -1 --format='%h %s' | cut -c1-100
    ;;

up-start)
    # `make up` runs in the foreground until Ctrl-C. Start it in the background in a process group
    # of its own (`set -m`: job control), with SIGINT not ignored, exactly as a terminal would run
    # it; `up-stop` then sends SIGINT to that group, as Ctrl-C does.
    cd "$CLONE"
    set -m
    make up </dev/null >"$LOGS/make-up.log" 2>&1 &
    echo $! >"$UP_PID"
    ;;

up-alive)
    # Exit status 0 while `make up` still runs.
    kill -0 "$(cat "$UP_PID")" 2>/dev/null
    ;;

try-it)
    # The README's "Try it" block, as written in the clone, then wait (bounded) for the saga to
    # confirm the order and for its payment, as the README's comments promise.
    cd "$CLONE"
    block=$(sed -n '/^Try it:/,/^```$/p' README.md | sed '1,2d;$d')
    [ -n "$block" ] || { echo "no 'Try it:' block in README.md" >&2; exit 1; }
    printf '%s\n' "$block" >/run/fresh/try-it.sh
    {
        echo "set -x"
        cat /run/fresh/try-it.sh
        cat <<'EOF'
set +x
for _ in $(seq 60); do
    orders=$(curl -s localhost:8080/api/orders/ -H "Authorization: Bearer $TOKEN")
    payments=$(curl -s localhost:8080/api/payments/ -H "Authorization: Bearer $TOKEN")
    if grep -q '"confirmed"' <<<"$orders" && grep -q '"25.00"' <<<"$orders" && grep -q '"succeeded"' <<<"$payments"; then
        echo; echo "order confirmed, total 25.00, payment succeeded"
        exit 0
    fi
    sleep 2
done
echo; echo "the order was not confirmed in 120 s:"; echo "$orders"; echo "$payments"
exit 1
EOF
    } >/run/fresh/try-it-checked.sh
    bash /run/fresh/try-it-checked.sh
    ;;

up-stop)
    # Ctrl-C: SIGINT to `make up`'s process group, then wait (bounded) for it to end, and check
    # that nothing of the stack is left: no supervisord, nothing answering on the gateway.
    wait_s=${1:-120}
    pid=$(cat "$UP_PID")
    if kill -0 "$pid" 2>/dev/null; then
        kill -INT -- "-$pid"
    else
        echo "make up had already ended"
    fi
    for _ in $(seq "$wait_s"); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "make up still runs ${wait_s} s after SIGINT" >&2
        exit 1
    fi
    # (each name bracketed so that this grep's own command line does not match it)
    left=$(for p in /proc/[0-9]*; do tr '\0' ' ' <"$p/cmdline" 2>/dev/null; echo; done \
        | grep -E '[s]upervisord|[g]unicorn|[c]elery|[p]ostgres|[r]edis-server|[n]ginx' || true)
    if [ -n "$left" ]; then
        echo "still running after make up ended:" >&2
        echo "$left" >&2
        exit 1
    fi
    if curl -s -o /dev/null --max-time 5 localhost:8080/; then
        echo "the gateway still answers on :8080" >&2
        exit 1
    fi
    tail -n 3 "$LOGS/make-up.log"
    ;;

test)
    # The README's second command, with its output in the log folder; extra arguments (a
    # development shortcut, FRESH_TEST_ARGS) go to make.
    log=${1:?log name}
    shift
    cd "$CLONE"
    make test "$@" </dev/null >"$LOGS/$log" 2>&1
    ;;

collect-logs)
    # The stack's own logs (var/log of `make up`, var/test/log of the last `make test`), copied
    # out before the container goes.
    src=$CLONE/${1:?folder in the clone}
    [ -d "$src" ] && cp -r "$src" "$LOGS/${2:?destination}"
    true
    ;;

*)
    echo "unknown step: $step" >&2
    exit 2
    ;;
esac

#!/bin/sh
# The official redis image's start: `redis-server ...` (or only its options) runs as the redis user, owning
# /data, with protected mode off (the official image builds it off: only the container network reaches it).
set -eu
case "${1:-}" in -*) set -- redis-server "$@" ;; esac
if [ "${1:-}" = redis-server ]; then
    shift
    # A configuration file, when given, stays the first argument.
    if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
        conf=$1
        shift
        set -- redis-server "$conf" --protected-mode no "$@"
    else
        set -- redis-server --protected-mode no "$@"
    fi
    if [ "$(id -u)" = 0 ]; then
        find . \! -user redis -exec chown redis '{}' +
        exec setpriv --reuid=redis --regid=redis --init-groups "$@"
    fi
fi
exec "$@"

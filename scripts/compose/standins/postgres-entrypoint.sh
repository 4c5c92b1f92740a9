#!/bin/sh
# The official postgres image's first start, as far as docker-compose.yml uses it: as root, own PGDATA and
# go on as the postgres user; when PGDATA is empty, initdb with POSTGRES_USER as superuser (password
# POSTGRES_PASSWORD, scram-sha-256 over TCP from anywhere, trust over the local socket), then create
# POSTGRES_DB (default: POSTGRES_USER). Unlike the official image it never starts a server during the
# initialisation (a single-user backend creates the database), so pg_isready answers only when it is done.
# Not implemented: /docker-entrypoint-initdb.d, POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD, *_FILE.
set -eu
if [ "${1:-}" = postgres ] && [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?is required (as in the official image)}"
    user=${POSTGRES_USER:-postgres}
    db=${POSTGRES_DB:-$user}
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    if [ "$db" != postgres ]; then
        echo "CREATE DATABASE \"$db\" OWNER \"$user\"" | postgres --single -D "$PGDATA" postgres >/dev/null
    fi
    echo "PostgreSQL init process complete; ready for start up."
fi
exec "$@"

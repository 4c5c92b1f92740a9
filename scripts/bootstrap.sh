#!/usr/bin/env bash
# Install what the platform needs on a Debian machine, once: system packages, then a virtual
# environment with the pinned Python packages. Safe to run again; it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v redis-server >/dev/null || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v chromium >/dev/null || missing+=(chromium)
# Prometheus and its promtool (the rules' tests), natively.
command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
# The exporters of Redis, PostgreSQL and nginx, processes of the stack.
for exporter in prometheus-redis-exporter prometheus-postgres-exporter prometheus-nginx-exporter; do
    command -v "$exporter" >/dev/null || missing+=("$exporter")
done
# The README's examples use curl.
command -v curl >/dev/null || missing+=(curl)
# envsubst: tests/test_compose.py fills the Compose gateway's templates as the nginx image does.
command -v envsubst >/dev/null || missing+=(gettext-base)
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
"$PYTHON" -c "import ensurepip, venv" 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    echo "[bootstrap] apt-get install ${missing[*]}"
    if ! command -v apt-get >/dev/null; then
        echo "[bootstrap] cannot install ${missing[*]}: this is not a Debian-like system (no apt-get)." >&2
        echo "[bootstrap] install them with the system's package manager, then run this again." >&2
        exit 1
    fi
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=
    elif command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
        SUDO=sudo  # asks for the password on a terminal
    else
        echo "[bootstrap] cannot install ${missing[*]}: not root, and sudo is not available to $(id -un)." >&2
        echo "[bootstrap] as root: apt-get install ${missing[*]}; then run this again." >&2
        exit 1
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts the packaged servers; the platform runs its own private ones under var/.
fi

stamp=.venv/.installed
sources=(constraints.txt pyproject.toml libs/service_kit/pyproject.toml */pyproject.toml stack/requirements.py)
if [ -f "$stamp" ] && [ -z "$(find "${sources[@]}" -newer "$stamp" 2>/dev/null)" ]; then
    exit 0
fi
echo "[bootstrap] virtual environment .venv"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# Each service's and the repository's own declared dependencies, pinned by constraints.txt.
requirements=$(.venv/bin/python stack/requirements.py --all)
.venv/bin/pip install -q --disable-pip-version-check -c constraints.txt $requirements
.venv/bin/pip install -q --disable-pip-version-check --no-deps -e libs/service_kit
touch "$stamp"

# Shell functions shared by the scripts that run the platform in podman containers (sourced, not run):
# scripts/test-fresh.sh (`make test-fresh`) and scripts/test-compose.sh (`make test-compose`).
# Both run as root on a Debian machine without a Docker engine or a reachable container registry.

# Install, with apt-get, those of the given Debian packages whose program is missing ("program" or
# "program:package"): podman_tools podman debootstrap runc docker-compose
podman_tools() {
    local missing=() item program package
    for item in "$@"; do
        program=${item%%:*} package=${item#*:}
        command -v "$program" >/dev/null || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# podman as installed here fails with its default ulimits and runtime: a containers.conf of the run's
# own (in the folder given), through CONTAINERS_CONF, leaves the host's configuration untouched.
podman_conf() {
    cat >"$1/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF
    export CONTAINERS_CONF=$1/containers.conf
}

# A minimal Debian 12 image, without any registry: debootstrap, then `podman import`.
#   debian_base IMAGE MIRROR WORK_DIR LOG LIMIT_SECONDS [PACKAGES (comma-separated, added to minbase)]
# It keeps Debian's own sources (updates and security too), and no package cache or lists: the first
# `apt-get update` is the image user's, as on a new machine.
debian_base() {
    local image=$1 mirror=$2 work=$3 log=$4 limit=$5 include=${6:-} rc=0 start
    start=$(date +%s)
    timeout "$limit" debootstrap --variant=minbase ${include:+--include="$include"} \
        bookworm "$work/rootfs" "$mirror" >"$log" 2>&1 || rc=$?
    if [ $rc -eq 0 ]; then
        rm -f "$work/rootfs/etc/apt/sources.list" "$work/rootfs/etc/resolv.conf" "$work/rootfs/etc/hostname"
        cat >"$work/rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: ${mirror}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
        tar -C "$work/rootfs" -c . | timeout $((limit - ($(date +%s) - start) + 60)) \
            podman import --change 'CMD ["bash"]' - "$image" >>"$log" 2>&1 || rc=$?
    fi
    rm -rf "$work/rootfs"
    return $rc
}

# Whether to trust the host's CAs in containers and builds: the setting (1 or 0) as given, or for
# "auto", yes when the host trusts CAs of its own (/usr/local/share/ca-certificates/*.crt), as it does
# behind a TLS-intercepting proxy. Prints 1 or 0.
host_ca_wanted() {
    case "$1" in
    auto) compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null && echo 1 || echo 0 ;;
    *) echo "$1" ;;
    esac
}

# The names of the host's proxy variables (http_proxy, HTTPS_PROXY, no_proxy, ...), one per line.
proxy_vars() {
    env | grep -oiE '^[a-z_]*_proxy' || true
}

# The seconds left before the script's deadline END (epoch seconds), and the smaller of a step's own limit
# and that (at least 1 s).
remaining() { echo $((END - $(date +%s))); }
cap() { local left; left=$(remaining); [ "$1" -lt "$left" ] && echo "$1" || echo $((left > 1 ? left : 1)); }

# Root (podman and debootstrap need it here), and one run of `make NAME` at a time on this machine, whatever
# the worktree: each one starts a whole stack. The lock lasts as long as the script (file descriptor 9).
run_alone() {
    [ "$(id -u)" -eq 0 ] || { say "run as root: podman and debootstrap need it here" >&2; exit 1; }
    exec 9>"/run/lock/shop-$1.lock"
    flock -n 9 || { say "another make $1 is running on this machine; try again when it ends" >&2; exit 1; }
}

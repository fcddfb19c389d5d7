# shellcheck shell=bash
# Make sure PostgreSQL, Redis and Debian's chromium are available for the tests, and export
#   FACEGATE_TEST_POSTGRES_URL, FACEGATE_TEST_REDIS_URL, FACEGATE_CHROMIUM.
# Source it (`source tools/ensure_services.sh`): .ci/run and `make test` do.
#
# A server already answering on the default port (PostgreSQL 5432, Redis 6379) is used as is;
# otherwise Debian packages are installed when missing and a throw-away server is started on a free
# port with its files under $FACEGATE_SERVICES_DIR (default /tmp/facegate-services), reused by the
# next run while it is alive. Fails (non-zero) when a service cannot be had, never skips.
#   FACEGATE_FORCE_OWN_SERVICES=1     ignore servers on the default ports (tests the start-our-own path)
#   FACEGATE_ENSURE_SERVICES="..."    subset of "postgres redis chromium" (default: all three)
# `facegate_stop_own_services` stops the servers this script started under FACEGATE_SERVICES_DIR.

_fg_log() { echo "ensure_services: $*" >&2; }

_fg_as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
    else _fg_log "need root to run: $*"; return 1
    fi
}

_fg_apt_install() {
    command -v apt-get >/dev/null 2>&1 || { _fg_log "apt-get not available to install $*"; return 1; }
    if [ -z "${_FG_APT_UPDATED:-}" ]; then
        _fg_as_root env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=600 update >/dev/null \
            || { _fg_log "apt-get update failed"; return 1; }
        _FG_APT_UPDATED=1
    fi
    _fg_log "installing $*"
    _fg_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
        --no-install-recommends "$@" >/dev/null
}

_fg_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

_fg_free_port() {  # a port nothing listens on, from $1 upwards
    local port=$1
    while _fg_port_open "$port"; do port=$((port + 1)); done
    echo "$port"
}

# ---- PostgreSQL --------------------------------------------------------------------------------

_fg_pg_bin() {  # newest installed server binaries directory
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

_fg_pg_works() {  # trust login as postgres on 127.0.0.1:$1
    [ -n "$(_fg_pg_bin)" ] || return 1
    "$(_fg_pg_bin)/psql" -X -q -w -h 127.0.0.1 -p "$1" -U postgres -d postgres -tAc "select 1" >/dev/null 2>&1
}

_fg_postgres() {
    local state=$1 bin port dir run_as=()
    if [ "${FACEGATE_FORCE_OWN_SERVICES:-0}" != 1 ] && _fg_port_open 5432 && _fg_pg_works 5432; then
        export FACEGATE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/postgres"
        echo "postgres: using the server running on 127.0.0.1:5432"
        return 0
    fi
    dir="$state/postgres"
    if [ -f "$dir/port" ] && _fg_pg_works "$(cat "$dir/port")"; then
        port=$(cat "$dir/port")
        export FACEGATE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
        echo "postgres: using our own server on 127.0.0.1:$port (started earlier, $dir)"
        return 0
    fi
    bin=$(_fg_pg_bin) || true
    if [ -z "$bin" ]; then
        _fg_apt_install postgresql || { _fg_log "cannot install postgresql"; return 1; }
        bin=$(_fg_pg_bin) || { _fg_log "postgresql installed but no initdb found"; return 1; }
    fi
    # initdb refuses to run as root: the cluster belongs to the postgres user (the package makes it).
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || { _fg_log "no postgres user to own the cluster"; return 1; }
        run_as=(runuser -u postgres --)
    fi
    [ -f "$dir/data/postmaster.pid" ] && "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$dir" && mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    port=$(_fg_free_port 55432)
    "${run_as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
        || { _fg_log "initdb failed: $(tail -n 5 "$dir/initdb.log")"; return 1; }
    # Durability is pointless for a test cluster; fsync off makes it quick.
    "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || { _fg_log "postgres did not start: $(tail -n 5 "$dir/server.log")"; return 1; }
    echo "$port" >"$dir/port"
    _fg_pg_works "$port" || { _fg_log "postgres started but does not accept logins"; return 1; }
    export FACEGATE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
    echo "postgres: started our own server on 127.0.0.1:$port ($dir, $("$bin/postgres" --version))"
}

# ---- Redis -------------------------------------------------------------------------------------

_fg_redis_works() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; }

_fg_redis() {
    local state=$1 port dir i
    if ! command -v redis-cli >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then
        _fg_apt_install redis-server redis-tools || { _fg_log "cannot install redis-server"; return 1; }
    fi
    if [ "${FACEGATE_FORCE_OWN_SERVICES:-0}" != 1 ] && _fg_redis_works 6379; then
        export FACEGATE_TEST_REDIS_URL="redis://127.0.0.1:6379/15"
        echo "redis: using the server running on 127.0.0.1:6379 (db 15)"
        return 0
    fi
    dir="$state/redis"
    if [ -f "$dir/port" ] && _fg_redis_works "$(cat "$dir/port")"; then
        port=$(cat "$dir/port")
        export FACEGATE_TEST_REDIS_URL="redis://127.0.0.1:$port/15"
        echo "redis: using our own server on 127.0.0.1:$port (started earlier, $dir)"
        return 0
    fi
    mkdir -p "$dir"
    port=$(_fg_free_port 56379)
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
        || { _fg_log "redis-server did not start"; return 1; }
    for i in $(seq 50); do _fg_redis_works "$port" && break; sleep 0.1; done
    _fg_redis_works "$port" || { _fg_log "redis did not answer: $(tail -n 5 "$dir/redis.log")"; return 1; }
    echo "$port" >"$dir/port"
    export FACEGATE_TEST_REDIS_URL="redis://127.0.0.1:$port/15"
    echo "redis: started our own server on 127.0.0.1:$port ($dir)"
}

# ---- Chromium ----------------------------------------------------------------------------------

_fg_chromium() {
    if [ ! -x /usr/bin/chromium ]; then
        _fg_apt_install chromium || { _fg_log "cannot install chromium"; return 1; }
        [ -x /usr/bin/chromium ] || { _fg_log "chromium installed but /usr/bin/chromium is missing"; return 1; }
        echo "chromium: installed Debian's /usr/bin/chromium"
    else
        echo "chromium: using /usr/bin/chromium"
    fi
    # The console's Chinese labels render as empty boxes in screenshots without a CJK font; the
    # tests pass either way, so a failed font install only warns.
    if ! fc-list 2>/dev/null | grep -qiE "wqy|noto.*cjk|droid.*fallback"; then
        _fg_apt_install fonts-wqy-zenhei && echo "chromium: installed a CJK font (fonts-wqy-zenhei)" \
            || _fg_log "warning: no CJK font; Chinese text in screenshots will show as boxes"
    fi
    export FACEGATE_CHROMIUM=/usr/bin/chromium
}

facegate_stop_own_services() {
    local state=${FACEGATE_SERVICES_DIR:-/tmp/facegate-services} bin
    if [ -f "$state/redis/redis.pid" ]; then
        kill "$(cat "$state/redis/redis.pid")" 2>/dev/null
        rm -f "$state/redis/port"
    fi
    if [ -f "$state/postgres/data/postmaster.pid" ] && bin=$(_fg_pg_bin); then
        if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$bin/pg_ctl" -D "$state/postgres/data" -m fast -w stop >/dev/null
        else "$bin/pg_ctl" -D "$state/postgres/data" -m fast -w stop >/dev/null
        fi
        rm -f "$state/postgres/port"
    fi
    return 0
}

_fg_ensure_services() {
    local state=${FACEGATE_SERVICES_DIR:-/tmp/facegate-services} svc
    mkdir -p "$state" && chmod 755 "$state"
    for svc in ${FACEGATE_ENSURE_SERVICES-postgres redis chromium}; do
        case $svc in
            postgres) _fg_postgres "$state" || { _fg_log "FAILED: PostgreSQL is not available"; return 1; } ;;
            redis) _fg_redis "$state" || { _fg_log "FAILED: Redis is not available"; return 1; } ;;
            chromium) _fg_chromium || { _fg_log "FAILED: chromium is not available"; return 1; } ;;
            *) _fg_log "unknown service '$svc'"; return 1 ;;
        esac
    done
}

if (return 0 2>/dev/null); then
    _fg_ensure_services
else
    _fg_log "run this with 'source tools/ensure_services.sh' so that the exports reach your shell"
    _fg_ensure_services
    exit $?
fi

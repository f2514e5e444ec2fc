# Shared shell functions for the developer commands (scripts/test, scripts/run, scripts/bench).
# Sourced, not executed. Everything here installs what is missing and skips what is present.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Tools that are not packages of their own (wasm-opt from npm) live outside the checkout so
# every clone shares them.
TOOLS="${TASKDECK_TOOLS:-$HOME/.cache/taskdeck/tools}"
PG_MAJOR=15
TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Warns (does not stop) when the disk holding DIR has less than NEED_GB free: a full disk
# shows up later as dozens of unrelated-looking failures ("No space left on device").
check_disk() {
  local dir="$1" need_gb="$2" free_kb
  free_kb="$(df -Pk "$dir" 2>/dev/null | awk 'NR == 2 { print $4 }')"
  [ -n "$free_kb" ] || return 0
  if [ "$free_kb" -lt $((need_gb * 1024 * 1024)) ]; then
    printf '\033[1;33mwarning: %s has %s GiB free; this needs about %s GiB (build output and test databases)\033[0m\n' \
      "$dir" "$((free_kb / 1024 / 1024))" "$need_gb" >&2
  fi
}

APT_UPDATED=0
# apt_install PKG... : installs the Debian packages that are not installed yet.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    die "missing packages: ${missing[*]} (install them with apt-get as root, or run this as root on Debian)"
  fi
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# rustc links through the system C compiler: a machine with only rustup has none yet.
ensure_cc() {
  command -v cc >/dev/null || apt_install gcc libc6-dev
}

ensure_postgres() {
  apt_install postgresql-$PG_MAJOR postgresql-$PG_MAJOR-pgtap libtap-parser-sourcehandler-pgtap-perl pgbouncer
  PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
  [ -x "$PG_BIN/postgres" ] || die "PostgreSQL $PG_MAJOR binaries not found in $PG_BIN"
  export PG_BIN
}

ensure_node() {
  command -v npm >/dev/null || apt_install nodejs npm
}

ensure_chromium() {
  apt_install chromium chromium-driver
}

# The wasm toolchain of ../shared/TOOLCHAIN.md: target, trunk, wasm-bindgen-cli at Cargo.lock's
# version, wasm-opt from npm binaryen.
ensure_wasm_tools() {
  ensure_cc
  rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$' \
    || { log "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown \
      || die "the wasm32-unknown-unknown target is missing and rustup could not fetch it: install it (rustup target add wasm32-unknown-unknown) where the network allows"; }
  if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION\$"; then
    log "cargo install trunk $TRUNK_VERSION (about 10 minutes, once)"
    cargo install --locked trunk --version "$TRUNK_VERSION"
  fi
  local wbg
  wbg=$(wasm_bindgen_version)
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg\$"; then
    log "cargo install wasm-bindgen-cli $wbg (about 4 minutes, once)"
    cargo install wasm-bindgen-cli --version "$wbg"
  fi
  ensure_node
  if ! "$TOOLS/binaryen/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
    log "npm install binaryen@$BINARYEN_VERSION"
    mkdir -p "$TOOLS/binaryen"
    (cd "$TOOLS/binaryen" && npm install --silent --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null)
  fi
  export PATH="$TOOLS/binaryen/node_modules/.bin:$PATH"
}

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$ROOT/Cargo.lock"
}

build_spa() {
  ensure_wasm_tools
  # Trunk runs cargo offline: fetch the crates first.
  (cd "$ROOT" && cargo fetch --quiet)
  log "trunk build --release"
  (cd "$ROOT" && TRUNK_OFFLINE=true TRUNK_SKIP_VERSION_CHECK=true trunk build --release)
}

# ---- a PostgreSQL cluster of our own -------------------------------------------------------
# PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` system user.
as_pg_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# pg_start DIR PORT : initialises DIR if empty and starts a server on 127.0.0.1:PORT.
pg_start() {
  local dir="$1" port="$2"
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    as_pg_owner "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  as_pg_owner "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c wal_level=logical -c max_replication_slots=40 -c max_wal_senders=40 -c max_connections=300 -c shared_buffers=128MB" \
    start >/dev/null || { cat "$dir/server.log" >&2; die "PostgreSQL did not start (log above)"; }
}

pg_stop() {
  local dir="$1"
  [ -f "$dir/postmaster.pid" ] && as_pg_owner "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# psql_as_super PORT DB ARGS...
psql_super() {
  local port="$1" db="$2"; shift 2
  PGOPTIONS='--client-min-messages=warning' "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"
}

# apply_schema PORT DB : bootstrap (plain PostgreSQL only) then every migration not yet applied.
apply_schema() {
  local port="$1" db="$2" f version name
  psql_super "$port" "$db" -f "$ROOT/supabase/bootstrap.sql" >/dev/null
  for f in "$ROOT"/migrations/*.sql; do
    version=$(basename "$f" | cut -d_ -f1)
    name=$(basename "$f" .sql | cut -d_ -f2-)
    if [ -z "$(psql_super "$port" "$db" -tAc "select 1 from supabase_migrations.schema_migrations where version = '$version'")" ]; then
      psql_super "$port" "$db" -1 -f "$f" >/dev/null
      psql_super "$port" "$db" -c "insert into supabase_migrations.schema_migrations (version, name) values ('$version', '$name')" >/dev/null
    fi
  done
}

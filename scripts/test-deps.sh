#!/usr/bin/env bash
# Prepares this machine for the integration tests (DESIGN.md §6): checks that
# moto is importable (installs moto[server] with pip if not), that cfn-lint is
# (test/cloudformation.test.ts lints deploy/cloudformation.yaml; pip install
# cfn-lint if not), that Debian's Chromium is at /usr/bin/chromium (the
# dashboard's browser test drives it with playwright-core; apt-get install
# chromium if not, never a browser downloaded by playwright), makes sure a
# PostgreSQL server answers on 127.0.0.1:5432 (installing the Debian package
# and starting a throw-away cluster in /tmp/dormant-pg if needed), and creates
# the role "dormant" and the database "dormant_test" (trust auth).
#
# Idempotent: run it as often as you like. Meant to run as root on Debian 12;
# as another user it skips apt-get and runs PostgreSQL as that user.
# Logs go to stderr; stdout gets only the final export line, so
#   eval "$(bash scripts/test-deps.sh)"
# works.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
PG_DATA=${DORMANT_PG_DATA:-/tmp/dormant-pg}
PG_ROLE=dormant
PG_DB=dormant_test
PG_URL="postgres://${PG_ROLE}@${PG_HOST}:${PG_PORT}/${PG_DB}"

log() { echo "test-deps: $*" >&2; }
die() {
  echo "test-deps: ERROR: $*" >&2
  exit 1
}
is_root() { [ "$(id -u)" -eq 0 ]; }

apt_install() {
  is_root || die "need root to apt-get install $*"
  command -v apt-get >/dev/null || die "apt-get not found; install $* by hand"
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# ----------------------------------------------------------------- moto

ensure_moto() {
  if python3 -c 'import moto, moto.server' 2>/dev/null; then
    log "moto $(python3 -c 'import moto; print(moto.__version__)') is installed"
    return
  fi
  command -v python3 >/dev/null || die "python3 not found; moto needs it (apt-get install python3)"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    apt_install python3-pip || die "could not install pip for python3"
  fi
  log "moto is missing; running pip install 'moto[server]'"
  # Debian's system python refuses plain pip installs (PEP 668); retry with the override.
  if ! python3 -m pip install --quiet 'moto[server]' >&2; then
    python3 -m pip install --quiet --break-system-packages 'moto[server]' >&2 ||
      die "pip install 'moto[server]' failed; install moto for python3 by hand (see DESIGN.md §6)"
  fi
  python3 -c 'import moto, moto.server' ||
    die "moto was installed but 'import moto.server' still fails"
}

# ----------------------------------------------------------------- cfn-lint

ensure_cfn_lint() {
  if python3 -c 'import cfnlint.runner' 2>/dev/null; then
    log "cfn-lint $(python3 -c 'import cfnlint.version as v; print(v.__version__)') is installed"
    return
  fi
  if ! python3 -m pip --version >/dev/null 2>&1; then
    apt_install python3-pip || die "could not install pip for python3 (cfn-lint needs it)"
  fi
  log "cfn-lint is missing; running pip install cfn-lint"
  # Same PEP 668 fallback as for moto.
  if ! python3 -m pip install --quiet cfn-lint >&2; then
    python3 -m pip install --quiet --break-system-packages cfn-lint >&2 ||
      die "pip install cfn-lint failed; test/cloudformation.test.ts lints deploy/cloudformation.yaml with it: install cfn-lint for python3 by hand"
  fi
  python3 -c 'import cfnlint.runner' ||
    die "cfn-lint was installed but 'import cfnlint.runner' still fails"
}

# ----------------------------------------------------------------- Chromium

CHROMIUM=/usr/bin/chromium

ensure_chromium() {
  if [ -x "$CHROMIUM" ]; then
    log "chromium is installed ($("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM"))"
    return
  fi
  log "chromium is missing; test/web-browser.test.ts needs Debian's package"
  apt_install chromium fonts-liberation ||
    die "could not install chromium; install Debian's chromium package by hand (test/web-browser.test.ts runs $CHROMIUM)"
  [ -x "$CHROMIUM" ] || die "chromium was installed but $CHROMIUM is not there"
}

# ----------------------------------------------------------------- PostgreSQL

PG_BIN=""

find_pg_bin() {
  local dir
  PG_BIN=""
  # Newest major version first.
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && [ -x "$dir/initdb" ]; then
      PG_BIN=$dir
      return 0
    fi
  done
  # Non-Debian layouts: take whatever is on PATH.
  if command -v pg_ctl >/dev/null && command -v postgres >/dev/null && command -v initdb >/dev/null; then
    PG_BIN=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
    return 0
  fi
  return 1
}

ensure_pg_binaries() {
  if ! find_pg_bin; then
    apt_install postgresql
    find_pg_bin || die "PostgreSQL binaries not found even after apt-get install postgresql"
  fi
  log "PostgreSQL binaries: $PG_BIN ($("$PG_BIN/postgres" --version))"
}

# Runs a command as the OS user that owns the cluster (postgres refuses root).
as_pg() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

pg_answers() {
  "$PG_BIN/pg_isready" -q -h "$PG_HOST" -p "$PG_PORT" -t 3
}

ensure_postgres_user() {
  is_root || return 0
  if ! id -u postgres >/dev/null 2>&1; then
    log "creating OS user postgres"
    useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
      --shell /usr/sbin/nologin postgres
  fi
}

init_cluster() {
  local owner want have
  want=$("$PG_BIN/postgres" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')
  if [ -f "$PG_DATA/PG_VERSION" ]; then
    have=$(cat "$PG_DATA/PG_VERSION")
    if [ "$have" = "$want" ]; then
      return 0
    fi
    log "$PG_DATA holds a PostgreSQL $have cluster, binaries are $want: recreating it"
  elif [ -e "$PG_DATA" ]; then
    log "$PG_DATA exists but is not a cluster: recreating it"
  fi
  rm -rf "$PG_DATA"
  mkdir -p "$PG_DATA"
  if is_root; then
    owner=postgres
    chown postgres:postgres "$PG_DATA"
  else
    owner=$(id -un)
  fi
  chmod 700 "$PG_DATA"
  log "initdb $PG_DATA (owner $owner, trust auth)"
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync >&2
  # A throw-away test cluster: durability off, speed on.
  cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- dormant test cluster (scripts/test-deps.sh) ---
listen_addresses = '${PG_HOST}'
port = ${PG_PORT}
unix_socket_directories = '${PG_DATA}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
}

start_cluster() {
  ensure_postgres_user
  init_cluster
  log "starting PostgreSQL on ${PG_HOST}:${PG_PORT} (data $PG_DATA, log $PG_DATA/server.log)"
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 start >&2; then
    tail -n 30 "$PG_DATA/server.log" >&2 || true
    die "PostgreSQL did not start (is something else using port ${PG_PORT}?)"
  fi
  pg_answers || die "PostgreSQL started but does not answer on ${PG_HOST}:${PG_PORT}"
}

# Runs SQL as a superuser: over TCP with trust (our cluster), else via the
# postgres OS user's local socket (a distribution-managed cluster).
pg_super() {
  local sql=$1
  if "$PG_BIN/psql" -X -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 -tA -w -c "$sql" 2>/dev/null; then
    return 0
  fi
  if is_root && id -u postgres >/dev/null 2>&1; then
    as_pg "$PG_BIN/psql" -X -q -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 -tA -w -c "$sql"
    return
  fi
  return 1
}

ensure_role_and_db() {
  local exists
  exists=$(pg_super "SELECT 1 FROM pg_roles WHERE rolname = '${PG_ROLE}'") ||
    die "cannot connect to PostgreSQL on ${PG_HOST}:${PG_PORT} as a superuser to create role ${PG_ROLE}"
  if [ "$exists" != "1" ]; then
    log "creating role ${PG_ROLE}"
    pg_super "CREATE ROLE ${PG_ROLE} LOGIN CREATEDB" >/dev/null
  fi
  exists=$(pg_super "SELECT 1 FROM pg_database WHERE datname = '${PG_DB}'")
  if [ "$exists" != "1" ]; then
    log "creating database ${PG_DB}"
    pg_super "CREATE DATABASE ${PG_DB} OWNER ${PG_ROLE}" >/dev/null
  fi
  if ! "$PG_BIN/psql" -X -q -w "$PG_URL" -tA -c 'SELECT 1' >/dev/null 2>&1; then
    die "cannot connect to ${PG_URL} without a password; the server on ${PG_HOST}:${PG_PORT} is not ours (stop it, or allow trust auth for ${PG_ROLE} from ${PG_HOST})"
  fi
}

ensure_postgres() {
  ensure_pg_binaries
  if pg_answers; then
    log "PostgreSQL already answers on ${PG_HOST}:${PG_PORT}"
  else
    start_cluster
  fi
  ensure_role_and_db
  log "PostgreSQL ready: ${PG_URL}"
}

ensure_moto
ensure_cfn_lint
ensure_chromium
ensure_postgres
echo "export DORMANT_TEST_PG_URL=${PG_URL}"

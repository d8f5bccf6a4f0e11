#!/usr/bin/env bash
# THE test command (CI runs it through .ci/run). Installs what is missing, starts the private
# broker, runs every stage that exists, and stops everything it started, whatever happens.
#
# Stages (in order; a stage whose inputs do not exist yet is skipped, not failed):
#   broker            chat-web's broker permissions (scripts/check-broker-permissions.mjs)
#   build             RelWithDebInfo build with -Werror + ctest            (needs CMakeLists.txt)
#   asan, tsan        build-asan (ASan+UBSan) / build-tsan (TSan) + ctest  (SKIP_SANITIZERS=1 skips)
#   install           tests/install/run.sh: cmake --install, find_package consumer vs the broker
#   integration       tests/integration against the real broker with build/chat-relayd
#   integration-asan  the same with build-asan/chat-relayd           (CHATRELAY_FULL=0 skips)
#   web, web-e2e      web/: npm ci, build, unit tests / end-to-end tests in headless Chromium
#   fuzz              tests/fuzz/run.sh
# Options: ONLY=stage[,stage...] (a name above, or group: sanitizers, integration, web)
#          SKIP_SANITIZERS=1, CHATRELAY_FULL=0, CTEST_TIMEOUT (s per test, default 600).
# Ends with one line "N passed, N failed" (stages); exit status 1 when any stage failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"

ONLY="${ONLY:-}"
SKIP_SANITIZERS="${SKIP_SANITIZERS:-0}"
CHATRELAY_FULL="${CHATRELAY_FULL:-1}"
CTEST_TIMEOUT="${CTEST_TIMEOUT:-600}"
JOBS=2   # the machine has 2 cores

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
TSAN_ENV=("TSAN_OPTIONS=suppressions=$ROOT/tests/tsan.supp:second_deadlock_stack=1")

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
skip() { selected "$1" "$2" && summary+=("SKIP  $1 ($3)"); return 0; }   # skip NAME GROUP WHY

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

cmake_build() {   # cmake_build DIR [cmake args...]
  local dir="$1"
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHATRELAY_WERROR=ON "$@"
  cmake --build "$dir" -j"$JOBS"
}

stage_build() {
  cmake_build build
  ctest --test-dir build --output-on-failure --timeout "$CTEST_TIMEOUT"
}

stage_asan() {
  cmake_build build-asan -DCHATRELAY_SANITIZE=address
  env "${ASAN_ENV[@]}" ctest --test-dir build-asan --output-on-failure --timeout "$CTEST_TIMEOUT"
}

stage_tsan() {
  cmake_build build-tsan -DCHATRELAY_SANITIZE=thread
  # unit.embedding runs a real multi-threaded actor_system: Debian's libcaf_core
  # is not built with TSan, so the hand-over of spawn arguments through its
  # lock-free queues is invisible to TSan and reported as ~200 races in CAF's
  # own code paths. Every other suite runs the actors under TSan.
  env "${TSAN_ENV[@]}" ctest --test-dir build-tsan --output-on-failure --timeout "$CTEST_TIMEOUT" \
    -E '^unit\.embedding$'
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

integration_tests() {   # integration_tests RELAY_BIN [env...]
  local bin="$1"
  shift
  npm ci --prefix tests/integration --no-audit --no-fund --loglevel=error
  env "RELAY_BIN=$bin" "$@" npm test --prefix tests/integration
}

stage_integration() {
  ensure_daemon build build
  integration_tests "$ROOT/build/chat-relayd"
}

stage_integration_asan() {
  ensure_daemon build-asan asan -DCHATRELAY_SANITIZE=address
  integration_tests "$ROOT/build-asan/chat-relayd" "${ASAN_ENV[@]}"
}

stage_web() {
  npm ci --prefix web --no-audit --no-fund --loglevel=error
  npm run --prefix web build
  npm test --prefix web
}

stage_web_e2e() {
  ensure_daemon build build
  [[ -d web/dist ]] || npm run --prefix web build
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
fi

# stage install (issue 8)
if [[ -f tests/install/run.sh && -f CMakeLists.txt ]]; then
  run_stage install install stage_install
else
  skip install install "no tests/install/run.sh or CMakeLists.txt"
fi

if [[ -f tests/integration/package.json && -f CMakeLists.txt ]]; then
  run_stage integration integration stage_integration
  if [[ "$CHATRELAY_FULL" == 0 ]]; then
    skip integration-asan integration "CHATRELAY_FULL=0"
  elif [[ "$SKIP_SANITIZERS" == 1 ]]; then
    skip integration-asan integration "SKIP_SANITIZERS=1"
  else
    run_stage integration-asan integration stage_integration_asan
  fi
else
  skip integration integration "no tests/integration/package.json or CMakeLists.txt"
fi

if [[ -f web/package.json ]]; then
  run_stage web web stage_web
  if [[ -f CMakeLists.txt ]]; then run_stage web-e2e web stage_web_e2e; else skip web-e2e web "no daemon"; fi
else
  skip web web "no web/package.json"
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
echo "$passed passed, $failed failed"
((failed == 0))

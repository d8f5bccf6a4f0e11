#!/usr/bin/env bash
# Debian package test: build the project for the prefix /usr, `cpack -G DEB`,
# check the package (dependencies from shlibdeps, files), install it into this
# machine with `dpkg -i`, check the systemd unit (`systemd-analyze verify`),
# run the INSTALLED daemon with the installed config against the broker (no
# systemd here: the binary itself), check /readyz, the web client at `/`,
# /status, JSON and journal log formats, a login + chat round trip, then
# `dpkg --purge` it again (also on failure).
#
# Env: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672),
#      DEB_BUILD_DIR (default build-deb), KEEP_DEB=1 keeps the package installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$PWD"
DEB_BUILD_DIR="${DEB_BUILD_DIR:-build-deb}"
AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672}"
PKG=chat-relay

fail() { echo "deb test: FAIL: $*" >&2; exit 1; }
# shellcheck source=tests/install/lib.sh
source tests/install/lib.sh
step() { printf '\n--- %s\n' "$*"; }

[[ "$(id -u)" == 0 ]] || fail "needs root (dpkg -i)"
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'install ok installed'; then
  fail "$PKG is already installed on this machine; remove it first (dpkg --purge $PKG)"
fi

WORK="$(mktemp -d /tmp/chatrelay-deb.XXXXXX)"
installed=0 relay_pid="" names="" notify_pid=""
delete_names() {   # the relay's queues and exchanges, once it has stopped
  [[ -d "$ROOT/tests/integration/node_modules/amqplib" ]] &&
  (cd "$ROOT" && AMQP_URL="$AMQP_URL" NAMES="$names" node tests/install/roundtrip.mjs cleanup) ||
    echo "(could not delete $names.*)"
  names=""
}
cleanup() {
  local rc=$?
  if [[ -n "$relay_pid" ]] && kill -0 "$relay_pid" 2>/dev/null; then
    kill -TERM "$relay_pid" 2>/dev/null || true
    wait "$relay_pid" 2>/dev/null || true
  fi
  [[ -z "$names" ]] || delete_names
  [[ -z "$notify_pid" ]] || kill "$notify_pid" 2>/dev/null || true
  if ((installed)) && [[ "${KEEP_DEB:-0}" != 1 ]]; then
    echo "--- dpkg --purge $PKG"
    dpkg --purge "$PKG" >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; rc=1; }
  fi
  if ((rc != 0)) && [[ -f "$WORK/relay.log" ]]; then
    echo "--- the installed daemon's log (tail)"; tail -n 40 "$WORK/relay.log"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

step "configure $DEB_BUILD_DIR for the prefix /usr, build, cpack -G DEB"
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$DEB_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHATRELAY_WERROR=ON \
  -DCMAKE_INSTALL_PREFIX=/usr -DCHATRELAY_EXAMPLES=OFF -DCHATRELAY_WEB_CLIENT=ON \
  -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON "${launcher[@]}" >"$WORK/configure.log" ||
  { cat "$WORK/configure.log"; fail "configure"; }
cmake --build "$DEB_BUILD_DIR" -j2 --target chatrelay chat-relayd web-client
rm -f "$DEB_BUILD_DIR"/${PKG}_*.deb
(cd "$DEB_BUILD_DIR" && cpack -G DEB >"$WORK/cpack.log" 2>&1) || { cat "$WORK/cpack.log"; fail "cpack"; }
deb="$(realpath "$DEB_BUILD_DIR"/${PKG}_*.deb)"
echo "ok  $deb ($(du -h "$deb" | cut -f1))"

step "package metadata and contents"
depends="$(dpkg-deb -f "$deb" Depends)"
echo "Depends: $depends"
# shlibdeps: every Debian library the daemon and libchatrelay link against.
for lib in libcaf-core libcaf-io librabbitmq4 libprometheus-cpp-core libsystemd0 libstdc++6 libc6; do
  [[ "$depends" == *"$lib"* ]] || fail "Depends lacks $lib"
done
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$WORK/files"
for f in /usr/bin/chat-relayd /usr/share/chat-relay/web/index.html /etc/chat-relay/chat-relay.ini \
  /lib/systemd/system/chat-relayd.service /usr/share/doc/chat-relay/operations.md \
  /usr/share/doc/chat-relay/grafana/chat-relay.json /usr/include/chatrelay/relay.hpp; do
  grep -qx "$f" "$WORK/files" || fail "the package lacks $f"
  echo "ok  $f"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/chat-relay/chat-relay.ini ||
  fail "/etc/chat-relay/chat-relay.ini is not a conffile"
echo "ok  /etc/chat-relay/chat-relay.ini is a conffile"

step "dpkg -i (dependencies must be installed already: dpkg resolves none)"
installed=1
dpkg -i "$deb"
[[ "$(stat -c %a /etc/chat-relay/chat-relay.ini)" == 640 ]] || fail "config mode is not 0640"
echo "ok  installed; /etc/chat-relay/chat-relay.ini is 0640"

step "the systemd unit"
unit=/lib/systemd/system/chat-relayd.service
grep -q '^Type=notify' "$unit" || fail "unit: not Type=notify"
grep -q '^ExecStart=/usr/bin/chat-relayd ' "$unit" || fail "unit: ExecStart is not /usr/bin/chat-relayd"
if command -v systemd-analyze >/dev/null 2>&1; then
  # Exit 0 and not a word about our unit (a wrong key or value, a missing binary).
  systemd-analyze verify "$unit" >"$WORK/verify.log" 2>&1 || { cat "$WORK/verify.log"; fail "systemd-analyze verify"; }
  if grep 'chat-relayd' "$WORK/verify.log"; then fail "systemd-analyze verify complains about the unit"; fi
  echo "ok  systemd-analyze verify"
  systemd-analyze security --offline=true "$unit" 2>/dev/null | tail -n 1 || true
else
  echo "(no systemd-analyze: unit not verified)"
fi

step "daemon conventions of the installed binary"
cd /   # the daemon must not depend on the working directory
version="$(/usr/bin/chat-relayd --version)"
[[ "$version" == "chat-relayd $(dpkg-deb -f "$deb" Version)"* ]] || fail "--version said: $version"
echo "ok  --version: $version"
out="$(/usr/bin/chat-relayd --config-file=/etc/chat-relay/chat-relay.ini --check-config)" ||
  fail "--check-config on the installed config: $out"
[[ "$out" == *"is valid"* && "$out" == *"web client: /usr/share/chat-relay/web"* ]] ||
  fail "--check-config said: $out"
echo "ok  --check-config (installed config): $(echo "$out" | tr '\n' ' ')"
sed 's/^max-in-flight=.*/max-in-flight="many"/' /etc/chat-relay/chat-relay.ini >"$WORK/bad.ini"
if out="$(/usr/bin/chat-relayd --config-file="$WORK/bad.ini" --check-config 2>&1)"; then
  fail "--check-config accepted a bad value: $out"
fi
[[ "$out" == *"max-in-flight"* ]] || fail "--check-config does not name the bad option: $out"
echo "ok  --check-config (bad value) exits 1: $out"
if out="$(/usr/bin/chat-relayd --relay.log-format=xml --check-config 2>&1)"; then
  fail "--check-config accepted relay.log-format=xml: $out"
fi
[[ "$out" == *"relay.log-format"* ]] || fail "--check-config does not name relay.log-format: $out"
echo "ok  --check-config (daemon option) exits 1: $out"

step "run the installed daemon (installed config + broker flags) from /"
cd "$ROOT"
# The round trip below speaks AMQP with the integration suites' client.
[[ -d tests/integration/node_modules/amqplib ]] ||
  npm ci --prefix tests/integration --no-audit --no-fund --loglevel=error
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
names="it.deb.$$"
relay_broker_flags "$names" || fail "AMQP_URL"
# systemd's notify socket, stood in for: Type=notify readiness without systemd.
python3 tests/install/notify-listen.py "$WORK/notify.sock" "$WORK/notify.log" 60 &
notify_pid=$!
for _ in $(seq 1 50); do [[ -S "$WORK/notify.sock" ]] && break; sleep 0.1; done
cd /   # the daemon must not depend on the working directory
NOTIFY_SOCKET="$WORK/notify.sock" /usr/bin/chat-relayd --config-file=/etc/chat-relay/chat-relay.ini \
  "${relay_flags[@]}" "--relay.http=127.0.0.1:$port" --relay.log-format=json 2>"$WORK/relay.log" &
relay_pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 150); do
  curl -fsS -o /dev/null --max-time 1 "$url/readyz" 2>/dev/null && break
  kill -0 "$relay_pid" 2>/dev/null || fail "the installed daemon exited"
  sleep 0.2
done
curl -fsS "$url/readyz" | grep -q '"ready":true' || fail "/readyz is not ready within 30 s"
echo "ok  /readyz: $(curl -fsS "$url/readyz")"
for _ in $(seq 1 20); do grep -q 'READY=1' "$WORK/notify.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'READY=1.*STATUS=' "$WORK/notify.log" || fail "no READY=1 with a STATUS= on the notify socket"
# Ready once connected (as standby: a relay's first connection waits relay.failover before it
# competes for the consumers); alone on the broker it then becomes active and says so.
for _ in $(seq 1 100); do grep -q 'STATUS=active' "$WORK/notify.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'STATUS=active' "$WORK/notify.log" || fail "no STATUS=active on the notify socket within 10 s"
echo "ok  sd_notify: $(head -n 1 "$WORK/notify.log")"
curl -fsS "$url/" | grep -qi '<div id="root"' || fail "GET / is not the web client"
echo "ok  GET / serves the installed web client"
curl -fsS "$url/status" | grep -q '<title>chat-relayd status</title>' || fail "GET /status"
echo "ok  GET /status"
cd "$ROOT"
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
  for (const l of lines) { const o = JSON.parse(l); if (!o.ts || !o.level || !o.component || !("msg" in o)) throw new Error(l); }
  if (!lines.some((l) => JSON.parse(l).msg === "web client served from /usr/share/chat-relay/web"))
    throw new Error("no log line says where the web client is served from");
  console.log(`ok  ${lines.length} log lines, each a JSON object; the web client is served from /usr/share/chat-relay/web`);
' "$WORK/relay.log" || fail "the JSON log"

AMQP_URL="$AMQP_URL" NAMES="$names" RELAY_URL="$url" node tests/install/roundtrip.mjs ||
  fail "login + chat round trip"
# The Grafana dashboard asks only for metrics the daemon exports.
curl -fsS "$url/metrics" >"$WORK/metrics.txt"
node -e '
  const fs = require("fs");
  const dash = fs.readFileSync(process.argv[1], "utf8");
  const have = fs.readFileSync(process.argv[2], "utf8");
  const wanted = [...new Set(dash.match(/chat_relay_[a-z_]+/g))];
  const missing = wanted.filter((m) => !new RegExp(`^${m}[ {]`, "m").test(have));
  if (!wanted.length || missing.length) throw new Error(`dashboard metrics missing from /metrics: ${missing}`);
  console.log(`ok  the dashboard uses ${wanted.length} metrics, all exported by /metrics`);
' docs/grafana/chat-relay.json "$WORK/metrics.txt" || fail "docs/grafana/chat-relay.json"

kill -TERM "$relay_pid"
rc=0
timeout 10 tail --pid="$relay_pid" -f /dev/null || fail "the daemon did not stop within 10 s of SIGTERM"
wait "$relay_pid" || rc=$?
relay_pid=""
((rc == 0)) || fail "the daemon exited $rc on SIGTERM"
echo "ok  SIGTERM: exit 0"
wait "$notify_pid" || true
grep -q 'STOPPING=1' "$WORK/notify.log" || fail "no STOPPING=1 on the notify socket"
echo "ok  sd_notify on SIGTERM: $(tail -n 1 "$WORK/notify.log")"
delete_names

step "journal format: with JOURNAL_STREAM naming its stderr, priorities instead of timestamps"
: >"$WORK/journal.log"
JOURNAL_STREAM="$(stat -c '%d:%i' "$WORK/journal.log")" \
  timeout -s TERM 2 /usr/bin/chat-relayd --relay.amqp-port=1 --relay.http="127.0.0.1:$port" \
  2>>"$WORK/journal.log" || true
head -n 3 "$WORK/journal.log"
grep -q '^<6>main: chat-relayd ' "$WORK/journal.log" || fail "no journal priority prefix"
if grep -Eq '^<[0-7]>[0-9]{4}-' "$WORK/journal.log"; then fail "timestamps under the journal"; fi
echo "ok  <N>component: message, no timestamp"
# A JOURNAL_STREAM inherited by a process whose stderr goes elsewhere is not the journal.
JOURNAL_STREAM=1:1 timeout -s TERM 1 /usr/bin/chat-relayd --relay.amqp-port=1 --relay.http="127.0.0.1:$port" \
  2>"$WORK/not-journal.log" || true
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z INFO  main: chat-relayd ' "$WORK/not-journal.log" ||
  fail "stderr not the journal, yet no timestamps: $(head -n 1 "$WORK/not-journal.log")"
echo "ok  JOURNAL_STREAM naming another stream: timestamps as usual"

step "dpkg --purge"
installed=0
dpkg --purge "$PKG"
[[ ! -e /usr/bin/chat-relayd && ! -e /etc/chat-relay && ! -e "$unit" ]] || fail "files left after purge"
echo "ok  purged: no /usr/bin/chat-relayd, /etc/chat-relay, unit"

echo
echo "deb test: PASS"

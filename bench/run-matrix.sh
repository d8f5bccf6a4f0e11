#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The fixed benchmark matrix: relay vs the broker's own ceiling (direct fan-out), see bench/README.md.
#
#   bench/run-matrix.sh            # writes bench/results/<date>/ and bench/results/LATEST.md
#
# Starts the private broker with scripts/broker.sh if it is not running (and stops it at the end only
# then), starts build/chat-relayd on its own HTTP port (log in the results directory, stopped by PID),
# runs every point in both modes alternately (direct, then relay), then writes report.md, results.json
# and plot.png. Environment (defaults):
#   RELAY=build/chat-relayd  BENCH=build-bench/chat-bench (built if missing)
#   BENCH_HTTP=127.0.0.1:18089 (relay's HTTP address)  SENDERS=2 (flat-out senders)
#   M10=70000 M100=7000 M1000=600 (messages per flat-out point, ~5-10 s each on 2 cores)
#   LOGIN_USERS=10000  RATE_MSGS=2000 (the 200 msg/s point: 10 s)  TIMEOUT=120
#   RMQ_* as for scripts/broker.sh (RMQ_NODE, RMQ_AMQP_PORT, ...)  PURGE=1: purge stale messages of
#   the queues login and chat first even on a broker this script did not start
#   BATCH_RUNS=0 (1: each flat-out point also runs the relay with batching consumers, chat-bench --batch)
#   LOGIN_TRANSIENT=0 (1: the login point again on a relay with relay.deliveries=transient)
#   OUT="" (results directory; default bench/results/<date>)  LATEST=1 (0: leave LATEST.md alone)
# Before the runs it deletes leftover chat.user.bench.* queues of earlier bench runs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
RELAY="${RELAY:-$root/build/chat-relayd}"
BENCH="${BENCH:-$root/build-bench/chat-bench}"
BENCH_HTTP="${BENCH_HTTP:-127.0.0.1:18089}"
SENDERS="${SENDERS:-2}"
M10="${M10:-70000}"
M100="${M100:-7000}"
M1000="${M1000:-600}"
LOGIN_USERS="${LOGIN_USERS:-10000}"
RATE_MSGS="${RATE_MSGS:-2000}"
TIMEOUT="${TIMEOUT:-120}"
BATCH_RUNS="${BATCH_RUNS:-0}"
LOGIN_TRANSIENT="${LOGIN_TRANSIENT:-0}"

# shellcheck source=../scripts/lib/rabbitmq.sh
. "$root/scripts/lib/rabbitmq.sh"
rmq_defaults
# shellcheck source=lib.sh
. "$root/bench/lib.sh"
AMQP="127.0.0.1:$RMQ_AMQP_PORT"

log() { printf '[run-matrix %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -x "$RELAY" ]] || die "relay binary $RELAY missing: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2"
if [[ ! -x "$BENCH" ]]; then
  log "building chat-bench"
  cmake -S "$root/bench" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build-bench" -j2 >/dev/null
fi
if grep -q '^CMAKE_BUILD_TYPE:STRING=Debug' "$(dirname "$RELAY")/CMakeCache.txt" 2>/dev/null; then
  log "WARNING: $RELAY is a Debug build; numbers will not be representative"
fi

stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"
out="${OUT:-$root/bench/results/$stamp}"
mkdir -p "$out/raw"
log "results in $out"

# --- broker ---------------------------------------------------------------------------------
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_start_broker 0
log "broker $RMQ_NODE beam.smp pid $broker_pid, amqp $AMQP"

# Leftovers of earlier (failed or interrupted) runs would skew this one: user queues of bench users
# the relay never welcomed stay bound to the room and durable queues survive a broker restart.
delete_bench_queues() {
  local purged
  purged="$(rmq_ctl eval 'length([rabbit_amqqueue:delete(Q, false, false, <<"run-matrix">>) || Q <- rabbit_amqqueue:list(), case amqqueue:get_name(Q) of {resource, _, queue, <<"chat.user.bench.", _/binary>>} -> true; {resource, _, queue, <<"bench.", _/binary>>} -> true; _ -> false end]).' 2>/dev/null | tr -dc '0-9')"
  [[ "${purged:-0}" == 0 ]] || log "deleted $purged leftover bench queues"
}
delete_bench_queues
for q in login chat; do
  n="$(rmq_ctl list_queues -q name messages 2>/dev/null | awk -v q="$q" '$1 == q {print $2}')"
  if [[ -n "$n" && "$n" != 0 ]]; then
    if [[ "$started_broker" == 1 || "${PURGE:-0}" == 1 ]]; then
      rmq_ctl purge_queue -q "$q" >/dev/null && log "purged $n stale messages from queue $q"
    else
      log "WARNING: queue $q holds $n messages (set PURGE=1 to purge them first)"
    fi
  fi
done

# --- relay ----------------------------------------------------------------------------------
# the 10,000 users of the login point must not time out while logged in; users a failed run could not
# log out (no welcome, no token) are dropped by the relay after this
# flat out at N = 1000 the broker's confirms queue behind ~10-25 s of deliveries (p99 above): past the
# default confirm-timeout (5 s) the relay takes a confirm for lost and publishes again (duplicates by id,
# which clients drop): the bench measures throughput, not that recovery
bench_relay_ini "$out/relay.ini" bench info "keepalive-timeout=120s" "confirm-timeout=60s"
start_relay() { bench_start_relay "$out/relay.ini" "$out/relay.log"; }
start_relay

# wait (up to 60 s) until the relay has processed the logouts of the last run
settle() {
  local online=""
  for _ in $(seq 600); do
    online="$(curl -sf "http://$BENCH_HTTP/metrics" 2>/dev/null | awk '$1 == "chat_relay_users_online" {print $2}')"
    [[ "$online" == 0 ]] && return 0
    sleep 0.1
  done
  log "  relay still has ${online:-?} users online after 60 s"
}

# --- runs -----------------------------------------------------------------------------------
# run NAME MODE ARGS...: writes raw/NAME.json (+ .err), never fails the script
run() {
  local name="$1" mode="$2"
  shift 2
  local extra=(--cpu-pid "broker:$broker_pid")
  if [[ "$mode" != direct ]]; then extra+=(--cpu-pid "relay:$relay_pid"); fi
  log "run $name: --mode $mode $*"
  local rc=0 load_before load_after
  load_before="$(cut -d' ' -f1 /proc/loadavg)"
  "$BENCH" --mode "$mode" --amqp "$AMQP" --json --progress "${extra[@]}" "$@" \
    >"$out/raw/$name.json" 2>"$out/raw/$name.err" || rc=$?
  [[ -s "$out/raw/$name.json" ]] || echo '{"ok":false,"notes":["no output"]}' >"$out/raw/$name.json"
  load_after="$(cut -d' ' -f1 /proc/loadavg)"
  jq -c --arg name "$name" --argjson rc "$rc" --argjson lb "$load_before" --argjson la "$load_after" \
    '. + {name:$name, exit_code:$rc, loadavg_1m:{before:$lb, after:$la}}' "$out/raw/$name.json" >"$out/raw/$name.tmp"
  mv "$out/raw/$name.tmp" "$out/raw/$name.json"
  log "  -> $(jq -r '"ok=\(.ok) deliveries/s=\(.deliveries_per_s // "-") p99=\(.latency_ms.p99 // "-") logins/s=\(.login.logins_per_s // "-")"' "$out/raw/$name.json")"
  if [[ "$mode" != direct ]]; then settle; fi
  sleep 2   # let the broker finish deleting queues
}

for n in 10 100 1000; do
  m_var="M$n"
  m="${!m_var}"
  run "direct-n$n" direct --users "$n" --senders "$SENDERS" --messages "$m" --timeout "$TIMEOUT"
  run "relay-n$n" relay --users "$n" --senders "$SENDERS" --messages "$m" --timeout "$TIMEOUT"
  if [[ "$BATCH_RUNS" == 1 ]]; then
    run "relaybatch-n$n" relay --batch --users "$n" --senders "$SENDERS" --messages "$m" --timeout "$TIMEOUT"
  fi
done
run direct-rate200-n100 direct --users 100 --senders 10 --messages "$RATE_MSGS" --rate 200 --timeout "$TIMEOUT"
run relay-rate200-n100 relay --users 100 --senders 10 --messages "$RATE_MSGS" --rate 200 --timeout "$TIMEOUT"
# the login point last (users it cannot log out would receive every later message) on a fresh relay
# process (cleanest RSS per user)
bench_stop_relay
start_relay
run login-$LOGIN_USERS login --users "$LOGIN_USERS" --rss-pid "$relay_pid" --timeout 120
if [[ "$LOGIN_TRANSIENT" == 1 ]]; then
  # the same with non-durable user queues (relay.deliveries=transient): what durability costs the broker
  bench_stop_relay
  # the durable point's queues whose deletion the stopped relay had not sent yet (thousands): with them
  # this point meets the broker's memory alarm
  delete_bench_queues
  bench_start_relay "$out/relay.ini" "$out/relay.log" --relay.deliveries=transient
  run "transientlogin-$LOGIN_USERS" login --users "$LOGIN_USERS" --rss-pid "$relay_pid" --timeout 120
fi

relay_alive=yes
kill -0 "$relay_pid" 2>/dev/null || relay_alive=no
jq -s . "$out"/raw/*.json >"$out/results.json"

# --- report ---------------------------------------------------------------------------------
relay_version="$("$RELAY" --version 2>/dev/null | head -1 || true)"
git_rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo 'no commit')"
python3 - "$out" "$stamp" "$git_rev" "$relay_alive" "$SENDERS" "$root/bench" <<'PY'
import json, sys, os
out, stamp, rev, alive, senders, bench_dir = sys.argv[1:7]
sys.path.insert(0, bench_dir)
from reportlib import g, f
runs = {r["name"]: r for r in json.load(open(os.path.join(out, "results.json")))}

def cpu100k(r, who):
    return g(r, "cpu", who, "cpu_s_per_100k_deliveries")

def integrity(r):
    if r is None:
        return "not run"
    s = f"{g(r,'missing',default='?')}/{g(r,'duplicates',default='?')}/{g(r,'reordered',default='?')}"
    if g(r, "timeout"):
        s += " timeout"
    return s

L = []
L.append(f"# chat-bench matrix {stamp}\n")
L.append(f"Project revision `{rev}`; relay alive at the end: **{alive}**. Machine: {os.cpu_count()} cores, "
         f"broker and relay and bench on one host (loopback). Flat-out points use {senders} senders; "
         "every delivery is persistent to durable queues, consumers auto-ack. Raw data: `results.json`, "
         "`raw/*.json`, `raw/*.err` (progress), relay log `relay.log`, config `relay.ini`.\n")
loads = [x for r in runs.values() for x in (g(r, "loadavg_1m", "before"), g(r, "loadavg_1m", "after")) if x is not None]
if loads:
    busy = max(loads) > os.cpu_count() * 1.25
    L.append(f"1-minute load average around the runs: {min(loads):.2f} .. {max(loads):.2f} on {os.cpu_count()} cores"
             + (" — **the machine was busy with other work: treat absolute numbers and ratios as noisy**" if busy else "") + ".\n")
L.append("## Matrix (direct = broker's own fan-out, relay = through chat-relayd)\n")
L.append("| point | direct deliveries/s | relay deliveries/s | relay/direct | direct p99 ms | relay p99 ms | relay p50 ms "
         "| relay missing/dup/reordered | relay publish msg/s | relay CPU s/100k | broker CPU s/100k (relay run) | broker CPU s/100k (direct run) | relay logins/s (N users) |")
L.append("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
points = [("N=10 flat out", "n10"), ("N=100 flat out", "n100"), ("N=1000 flat out", "n1000"),
          ("N=100, 200 msg/s", "rate200-n100")]
plot = []
for label, key in points:
    d, r = runs.get("direct-" + key), runs.get("relay-" + key)
    dd, rd = g(d, "deliveries_per_s"), g(r, "deliveries_per_s")
    ratio = rd / dd if dd and rd is not None else None
    L.append(f"| {label} | {f(dd)} | {f(rd)} | {f(ratio,'{:.2f}x')} | {f(g(d,'latency_ms','p99'),'{:.2f}')} "
             f"| {f(g(r,'latency_ms','p99'),'{:.2f}')} | {f(g(r,'latency_ms','p50'),'{:.2f}')} | {integrity(r)} "
             f"| {f(g(r,'publish_rate'))} | {f(cpu100k(r,'relay'),'{:.3f}')} | {f(cpu100k(r,'broker'),'{:.3f}')} "
             f"| {f(cpu100k(d,'broker'),'{:.3f}')} | {f(g(r,'login','logins_per_s'))} |")
    if key.startswith("n"):
        plot.append((int(key[1:]), dd or 0, rd or 0, g(d, "latency_ms", "p99") or 0, g(r, "latency_ms", "p99") or 0))
batch_rows = [(label, key) for label, key in points if runs.get("relaybatch-" + key)]
if batch_rows:
    L.append("\n### Relay with batching consumers (chat-bench --batch: logins ask for `\"batch\": true`)\n")
    L.append("| point | direct deliveries/s | relay batch deliveries/s | batch/direct | relay seed/direct | msgs/frame "
             "| p99 ms | missing/dup/reordered | relay CPU s/100k | broker CPU s/100k |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for label, key in batch_rows:
        d, b, r = runs.get("direct-" + key), runs.get("relaybatch-" + key), runs.get("relay-" + key)
        dd, bd, rd = g(d, "deliveries_per_s"), g(b, "deliveries_per_s"), g(r, "deliveries_per_s")
        frames = g(b, "batch_frames")
        L.append(f"| {label} | {f(dd)} | {f(bd)} | {f(bd/dd if dd and bd is not None else None,'{:.2f}x')} "
                 f"| {f(rd/dd if dd and rd is not None else None,'{:.2f}x')} "
                 f"| {f(g(b,'deliveries')/frames if frames else None,'{:.1f}')} | {f(g(b,'latency_ms','p99'),'{:.0f}')} "
                 f"| {integrity(b)} | {f(cpu100k(b,'relay'),'{:.3f}')} | {f(cpu100k(b,'broker'),'{:.3f}')} |")
direct_integrity = [integrity(runs.get("direct-" + k)) for _, k in points]
L.append(f"\nDirect runs missing/dup/reordered: {', '.join(direct_integrity)} (the bench's own check).\n")

lg = next((v for k, v in sorted(runs.items()) if k.startswith("login-")), None)
L.append("## Logins\n")
if lg:
    bpu = g(lg, "rss", "bytes_per_user")
    L.append("| users | welcomes | logins/s (to last welcome) | welcome p50 ms | welcome p99 ms | relay RSS before | relay RSS after | bytes/user | relay CPU s | broker CPU s | joins received |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    L.append(f"| {f(g(lg,'users'))} | {f(g(lg,'login','welcomes'))} | {f(g(lg,'login','logins_per_s'))} "
             f"| {f(g(lg,'login','welcome_latency_ms','p50'),'{:.1f}')} | {f(g(lg,'login','welcome_latency_ms','p99'),'{:.1f}')} "
             f"| {f(g(lg,'rss','before'))} | {f(g(lg,'rss','after'))} | {f(bpu)} "
             f"| {f(g(lg,'cpu','relay','cpu_s'),'{:.2f}')} | {f(g(lg,'cpu','broker','cpu_s'),'{:.2f}')} | {f(g(lg,'joins'))} |")
else:
    L.append("not run")

def verdict(ok):
    return "n/a" if ok is None else ("**PASS**" if ok else "**FAIL**")

L.append("\n## Targets\n")
L.append("| target | measured | verdict |")
L.append("|---|---|---|")
for label, key in points[:3]:
    d, r = runs.get("direct-" + key), runs.get("relay-" + key)
    dd, rd = g(d, "deliveries_per_s"), g(r, "deliveries_per_s")
    ok = None if not dd or rd is None else (rd >= 0.9 * dd and bool(g(r, "ok")))
    L.append(f"| deliveries ≥ 0.9x direct, {label} (and nothing lost/duplicated/reordered) "
             f"| {f(rd)} vs {f(dd)} = {f(rd/dd if dd and rd is not None else None,'{:.2f}x')}, {integrity(r)} | {verdict(ok)} |")
d, r = runs.get("direct-rate200-n100"), runs.get("relay-rate200-n100")
dp, rp = g(d, "latency_ms", "p99"), g(r, "latency_ms", "p99")
ok = None if dp is None or rp is None else (rp <= dp + 1.0 and bool(g(r, "ok")))
L.append(f"| p99 ≤ direct p99 + 1 ms at 200 msg/s x 100 users | {f(rp,'{:.2f}')} ms vs {f(dp,'{:.2f}')} ms | {verdict(ok)} |")
if lg:
    bpu = g(lg, "rss", "bytes_per_user")
    L.append(f"| ≤ 4 KiB relay RSS per user at {f(g(lg,'users'))} users | {f(bpu)} B/user | {verdict(None if bpu is None else bpu <= 4096)} |")
    lps = g(lg, "login", "logins_per_s")
    L.append(f"| ≥ 1000 logins/s at {f(g(lg,'users'))} users | {f(lps)} /s | {verdict(None if lps is None else (lps >= 1000 and bool(g(lg,'ok'))))} |")
for label, key in points:
    r = runs.get("relay-" + key)
    rc, bc = cpu100k(r, "relay"), cpu100k(r, "broker")
    L.append(f"| relay CPU per 100k deliveries < broker's, {label} | relay {f(rc,'{:.3f}')} s vs broker {f(bc,'{:.3f}')} s "
             f"| {verdict(None if rc is None or bc is None else rc < bc)} |")

notes = [(k, n) for k, v in sorted(runs.items()) for n in (v.get("notes") or [])]
errs = [(k, v.get("errors")) for k, v in sorted(runs.items()) if v.get("errors")]
if notes or errs:
    L.append("\n## Notes from the runs\n")
    for k, n in notes:
        L.append(f"- `{k}`: {n}")
    for k, e in errs:
        L.append(f"- `{k}`: error deliveries from the relay: {json.dumps(e)}")
L.append("\n## Plot\n\n![deliveries/s and p99 against N](plot.png)\n")
L.append("Columns: deliveries/s = unique deliveries / (last delivery - first send); p50/p99 = receive time - send "
         "time (CLOCK_REALTIME stamped in the message text), flat-out points measure queueing under "
         "saturation, the 200 msg/s point measures the relay's added latency; CPU = utime+stime from "
         "/proc/PID/stat between the first send and the last delivery.")
open(os.path.join(out, "report.md"), "w").write("\n".join(L) + "\n")
with open(os.path.join(out, "plot.dat"), "w") as fp:
    fp.write("# N direct_dps relay_dps direct_p99_ms relay_p99_ms\n")
    for row in plot:
        fp.write(" ".join(str(x) for x in row) + "\n")
PY

gnuplot <<EOF || log "gnuplot failed"
set terminal pngcairo size 1200,480 font "sans,10"
set output "$out/plot.png"
set multiplot layout 1,2 title "chat-bench $stamp (flat out, $SENDERS senders)"
set logscale x
set xlabel "users N"
set grid
set key top right
set xrange [5:2000]
set ylabel "deliveries/s"
set yrange [0:*]
plot "$out/plot.dat" using 1:2 with linespoints lw 2 title "direct (broker)", \
     "" using 1:3 with linespoints lw 2 title "relay"
set ylabel "p99 latency ms (saturated)"
set logscale y
set yrange [*:*]
plot "$out/plot.dat" using 1:4 with linespoints lw 2 title "direct (broker)", \
     "" using 1:5 with linespoints lw 2 title "relay"
unset multiplot
EOF

if [[ "${LATEST:-1}" != 1 ]]; then
  log "report: $out/report.md"
  exit 0
fi
# the sections of run-browser.sh and run-scheduler.sh stay, between their markers
browser_block="$(sed -n '/^<!-- [a-z-]*:begin -->$/,/^<!-- [a-z-]*:end -->$/p' "$root/bench/results/LATEST.md" 2>/dev/null || true)"
{
  echo "Latest matrix: [$stamp]($stamp/report.md) — copy below (image and raw files are in \`$stamp/\`)."
  echo
  sed "s#](plot.png)#]($stamp/plot.png)#" "$out/report.md"
  if [[ -n "$browser_block" ]]; then
    echo
    echo "$browser_block"
  fi
} >"$root/bench/results/LATEST.md"
log "report: $out/report.md"
cat "$out/report.md"

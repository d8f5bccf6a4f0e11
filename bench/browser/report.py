#!/usr/bin/env python3
"""Report of a browser-path run (bench/run-browser.sh).

  report.py OUT STAMP REV RELAY_ALIVE NPROC RELAY_ARGS   writes OUT/report.md, OUT/plot.dat, OUT/plot.gp
  report.py --latest LATEST.md OUT DIRNAME [KEY TITLE]   puts OUT/report.md into LATEST.md between the
                                                         markers <!-- KEY:begin/end --> (default browser-path),
                                                         keeping everything else (the AMQP matrix)
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from reportlib import f, g  # noqa: E402

LABEL = {"relay": "chat-relayd (web-stomp, relay)", "topic": "web-stomp `/topic`, no relay", "sio": "Socket.IO 4 on Node"}


def cpu(p, who, key="us_per_delivery"):
    return g(p, "cpu", who, key)


def integrity(p):
    if p is None:
        return "-"
    s = f"{p['missing']}/{p['duplicates']}/{p['reordered']}"
    if p["missing"] and p.get("drain") == "deadline":
        s += " (still arriving at the drain deadline)"
    return s


def per_frame(p):
    """Chat messages per received frame (1 without batching; a batch frame carries several)."""
    fr = p.get("frames")
    return p["deliveries"] / fr if fr else None


def server_of(target):
    return {"relay": "relay", "sio": "sio-server"}.get(target)


def write_report(out, stamp, rev, alive, nproc, relay_args):
    res = json.load(open(os.path.join(out, "results.json")))
    targets = {t["target"]: t for t in res["targets"]}
    limit = res["p99_limit_ms"]
    pts = [p for t in res["targets"] for p in t["points"] + ([t["flat"]] if t.get("flat") else [])]
    loads = [x for p in pts for x in (g(p, "loadavg_1m", "before"), g(p, "loadavg_1m", "after")) if x is not None]
    sched = ""
    sp = os.path.join(out, "scheduler.txt")
    if os.path.exists(sp):
        sched = " ".join(l.strip() for l in open(sp) if "=" in l)
    L = [f"# Browser path {stamp}\n"]
    L.append(f"Project revision `{rev}`; relay alive at the end: **{alive}**; relay flags: `{relay_args or '(defaults)'}`"
             + (f"; relay scheduler: `{sched}`" if sched else "") + ". "
             f"{res['users']} users in one room, {res['senders']} of them send (open loop: message k of a sender is due at "
             f"k/rate whatever the answers), {res['workers']} client threads; every SEND asks for a receipt (Socket.IO: an ack), "
             "as the web client does. "
             + ("Relay logins ask for `\"batch\": true` (messages inside a batch frame are counted one by one). " if res.get("batch") else "")
             + "Broker, relay, Socket.IO server and load client share one "
             f"{nproc}-core machine (loopback). Raw data: `results.json`, `bench.log`, `relay.log`.\n")
    if loads:
        busy = max(loads) > int(nproc) * 1.25
        L.append(f"1-minute load average during the run: {min(loads):.2f} .. {max(loads):.2f} on {nproc} cores"
                 + (" — **the machine was busy with other work: compare the targets with each other (same run), not with other runs**" if busy else "")
                 + ".\n")
    L.append(f"## Summary: highest rate with p99 <= {limit:g} ms and nothing lost, and flat out\n")
    L.append("| target | sustained msg/s | p99 there ms | flat-out deliveries/s | vs Socket.IO | flat p99 ms | flat missing/dup/reordered | broker µs/delivery (flat) | server µs/delivery (flat) | server µs/chat at the sustained rate |")
    L.append("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    sio_flat = g(targets.get("sio"), "flat", "deliveries_per_s")
    plot_rows = []
    for name in ("relay", "topic", "sio"):
        t = targets.get(name)
        if not t:
            continue
        best = next((p for p in t["points"] if p.get("pass") and p["rate"] == t.get("sustained_rate")), None)
        fl = t.get("flat")
        fd = g(fl, "deliveries_per_s")
        srv = server_of(name)
        L.append(f"| {LABEL[name]} | {f(t.get('sustained_rate') or None)}{'' if t.get('setup', {}).get('ok') else ' (setup failed)'} "
                 f"| {f(g(best, 'latency_ms', 'p99'), '{:.1f}')} | {f(fd)} | {f(fd / sio_flat if fd and sio_flat else None, '{:.2f}x')} "
                 f"| {f(g(fl, 'latency_ms', 'p99'), '{:.0f}')} | {integrity(fl)} | {f(cpu(fl, 'broker'), '{:.1f}')} "
                 f"| {f(cpu(fl, srv) if srv else None, '{:.1f}')} | {f(cpu(best, srv, 'us_per_chat') if srv else None, '{:.0f}')} |")
        for p in t["points"]:
            plot_rows.append((name, p["rate"], g(p, "latency_ms", "p99"), p["deliveries_per_s"]))
    L.append("\n`server` = the relay for the relay path, the Socket.IO server for Socket.IO (the `/topic` path has none: "
             "the broker is its server). CPU from `/proc/PID/stat` (utime+stime, 10 ms ticks) over the point, divided by "
             "unique deliveries (or chat messages sent).\n")

    L.append("## Targets (issue 13)\n")
    L.append("| target | measured | verdict |")
    L.append("|---|---|---|")
    r = targets.get("relay")
    if r and sio_flat:
        rf = g(r, "flat", "deliveries_per_s")
        ok = rf is not None and rf >= sio_flat
        L.append(f"| browser path, 100 clients flat out: deliveries/s >= 1.0x Socket.IO (same run) | {f(rf)} vs {f(sio_flat)} = {f(rf / sio_flat if rf else None, '{:.2f}x')} | {'**PASS**' if ok else '**FAIL**'} |")
    if r:
        sr = r.get("sustained_rate") or 0
        L.append(f"| browser path, highest rate a 100-user room sustains with p99 <= 50 ms: >= 1,000 msg/s | {f(sr)} msg/s | {'**PASS**' if sr >= 1000 else '**FAIL**'} |")

    L.append("\n## Sweep\n")
    L.append("| target | rate msg/s | sent msg/s | deliveries/s | msgs/frame | p50 ms | p99 ms | max ms | missing/dup/reordered | receipts missing | sender lag ms | broker µs/delivery | server µs/chat | client cores | load 1m | verdict |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for name in ("relay", "topic", "sio"):
        t = targets.get(name)
        if not t:
            continue
        srv = server_of(name)
        for p in t["points"] + ([t["flat"]] if t.get("flat") else []):
            verdict = "flat out" if p["rate"] == "flat" else ("pass" if p.get("pass") else "**fail**")
            L.append(f"| {name} | {p['rate']} | {f(p['send_rate'])} | {f(p['deliveries_per_s'])} | {f(per_frame(p), '{:.2f}')} | {f(g(p, 'latency_ms', 'p50'), '{:.2f}')} "
                     f"| {f(g(p, 'latency_ms', 'p99'), '{:.2f}')} | {f(g(p, 'latency_ms', 'max'), '{:.1f}')} | {integrity(p)} | {p['receipts_missing']} "
                     f"| {f(p['sender_max_lag_ms'], '{:.1f}')} | {f(cpu(p, 'broker'), '{:.1f}')} | {f(cpu(p, srv, 'us_per_chat') if srv else None, '{:.0f}')} "
                     f"| {f(g(p, 'cpu', 'client', 'core_share'), '{:.2f}')} | {f(g(p, 'loadavg_1m', 'after'), '{:.2f}')} | {verdict} |")
    notes = []
    for name, t in targets.items():
        for p in t["points"] + ([t["flat"]] if t.get("flat") else []):
            if (p.get("quiesce_ms") or 0) > 2000:
                notes.append(f"- `{name}` at {p['rate']}: started after {p['quiesce_ms'] / 1000:.1f} s of waiting for the previous point's backlog to drain")
            if p.get("errors"):
                notes.append(f"- `{name}` at {p['rate']}: error events {json.dumps(p['errors'])}")
            if p.get("reconnects"):
                notes.append(f"- `{name}` at {p['rate']}: {p['reconnects']} connections lost and re-established since the setup")
        if g(t, "setup", "subscribe_retries"):
            notes.append(f"- `{name}`: setup {g(t, 'setup', 'ms')} ms, {g(t, 'setup', 'subscribe_retries')} SUBSCRIBEs retried "
                         "(the user queue did not exist yet: the broker closes the connection, the client reconnects)")
        if not g(t, "setup", "ok"):
            notes.append(f"- `{name}`: {g(t, 'setup', 'not_ready')} users never got ready")
    if notes:
        L.append("\n## Notes from the run\n")
        L.extend(notes)
    L.append("\n## Plot\n\n![p99 against send rate, per target](plot.png)\n")
    L.append("Columns: rate = the senders' schedule, sent = what they achieved; deliveries/s = unique deliveries / (last "
             "delivery - first send); msgs/frame = deliveries / chat frames received (above 1 only when the relay sends "
             "batches); latency = receive time - send time (one monotonic clock, stamped in the message "
             "text), per delivery; missing = per receiver and sender, chats sent but never received (the drain waits until "
             "all arrived, nothing new for 2 s, or 10 s); sender lag = how late the client itself was on its schedule "
             "(large values mean the load client, not the server, was the bottleneck); flat out = each sender keeps "
             "`--window` chats without receipt in flight.")
    open(os.path.join(out, "report.md"), "w").write("\n".join(L) + "\n")
    with open(os.path.join(out, "plot.dat"), "w") as fp:
        for name in ("relay", "topic", "sio"):
            rows = [x for x in plot_rows if x[0] == name]
            fp.write(f"# {name}: rate p99_ms deliveries_per_s\n")
            for _, rate, p99, dps in rows:
                fp.write(f"{rate} {p99 if p99 is not None else 'NaN'} {dps or 0}\n")
            fp.write("\n\n")
    flat = [(LABEL[n].split(" (")[0].replace("`", ""), g(targets.get(n), "flat", "deliveries_per_s") or 0) for n in ("relay", "topic", "sio") if n in targets]
    with open(os.path.join(out, "flat.dat"), "w") as fp:
        for i, (name, v) in enumerate(flat):
            fp.write(f'{i} "{name}" {v}\n')
    names = [n for n in ("relay", "topic", "sio") if n in targets]
    xmax = 2 * max([r[1] for r in plot_rows] + [100])
    plots = ", ".join(f'"{out}/plot.dat" index {i} using 1:2 with linespoints lw 2 title "{n}"' for i, n in enumerate(names))
    open(os.path.join(out, "plot.gp"), "w").write(f"""set terminal pngcairo size 1200,480 font "sans,10"
set output "{out}/plot.png"
set multiplot layout 1,2 title "browser path {stamp}: {res['users']} users, one room"
set grid
set logscale xy
set xrange [50:{xmax}]
set xlabel "send rate msg/s (open loop)"
set ylabel "p99 latency ms"
set key top left
plot {plots}, {limit} with lines dt 2 lc rgb "black" title "{limit:g} ms"
unset logscale
set logscale y
set style fill solid 0.6
set boxwidth 0.6
set xlabel ""
set ylabel "flat-out deliveries/s"
set xrange [-0.5:{len(flat) - 0.5}]
set yrange [100:*]
plot "{out}/flat.dat" using 1:3:xtic(2) with boxes notitle
unset multiplot
""")


def update_latest(latest, out, dirname, key="browser-path", title="Browser path (bench/run-browser.sh)"):
    """Puts OUT/report.md into LATEST.md between <!-- KEY:begin --> and <!-- KEY:end -->, keeping the rest."""
    begin, end = f"<!-- {key}:begin -->", f"<!-- {key}:end -->"
    rep = open(os.path.join(out, "report.md")).read()
    rep = rep.replace("](plot.png)", f"]({dirname}/plot.png)")
    lines = rep.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]  # this section's own heading replaces it
    body = "\n".join(("#" + l if l.startswith("#") else l) for l in lines)
    block = f"{begin}\n## {title}\n\nLatest run: [{dirname}]({dirname}/report.md) — copy below.\n\n{body}\n{end}\n"
    old = open(latest).read() if os.path.exists(latest) else ""
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        new = head + block + tail
    else:
        new = old.rstrip("\n") + "\n\n" + block
    open(latest, "w").write(new)


if __name__ == "__main__":
    if sys.argv[1] == "--latest":
        update_latest(*sys.argv[2:])
    else:
        write_report(*sys.argv[1:7])

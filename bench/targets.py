#!/usr/bin/env python3
"""Issue 13's targets table of one bench/run-report.sh run.

  targets.py OUT STAMP REV                    writes OUT/report.md from OUT/{run.json,cpu,browser,amqp}
  targets.py --latest LATEST.md OUT DIRNAME   puts OUT/report.md into LATEST.md between the `report` markers
"""
import glob
import importlib.util
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from reportlib import f, g  # noqa: E402


def load(path):
    try:
        return json.load(open(path))
    except (OSError, ValueError):
        return None


def run_json(out):
    """run.json is written in pieces by the shell script: a JSON object once the run ended."""
    try:
        return json.loads(open(os.path.join(out, "run.json")).read())
    except (OSError, ValueError):
        return {}


def verdict(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def ratio(a, b):
    return a / b if a is not None and b else None


def first_fail(t):
    return next((p for p in (t or {}).get("points", []) if not p.get("pass")), None)


def cores(p, who):
    return g(p, "cpu", who, "core_share")


def browser_rows(b):
    targets = {t["target"]: t for t in (b or {}).get("targets", [])}
    relay, sio, topic = targets.get("relay"), targets.get("sio"), targets.get("topic")
    rows = []
    fd = lambda t: g(t, "flat", "deliveries_per_s")  # noqa: E731
    rf, sf, tf = fd(relay), fd(sio), fd(topic)
    fl = g(relay, "flat")
    rows.append(("browser path, 100 clients flat out: deliveries/s vs Socket.IO (same run), >= 1.0x",
                 f"{f(rf)}/s, {f(g(fl, 'deliveries') / g(fl, 'frames') if g(fl, 'frames') else None, '{:.1f}')} msgs/frame",
                 f"Socket.IO {f(sf)}/s; /topic {f(tf)}/s",
                 f"{f(ratio(rf, sf), '{:.2f}x')} (/topic {f(ratio(tf, sf), '{:.2f}x')})",
                 verdict(None if rf is None or not sf else rf >= sf and not (fl["missing"] or fl["duplicates"] or fl["reordered"])),
                 f"flat out: broker {f(cores(fl, 'broker'), '{:.2f}')} cores, relay {f(cores(fl, 'relay'), '{:.2f}')}, "
                 f"load client {f(cores(fl, 'client'), '{:.2f}')}"))
    sr = lambda t: (t or {}).get("sustained_rate") or 0  # noqa: E731
    ff = first_fail(relay)
    bound = "-"
    if ff:
        bound = (f"first failing point {ff['rate']} msg/s: p99 {f(g(ff, 'latency_ms', 'p99'), '{:.0f}')} ms, "
                 f"{f(ff['deliveries'] / ff['frames'] if ff.get('frames') else None, '{:.1f}')} msgs/frame; CPU there: "
                 f"broker {f(cores(ff, 'broker'), '{:.2f}')} cores ({f(g(ff, 'cpu', 'broker', 'us_per_delivery'), '{:.1f}')} µs/delivery), "
                 f"relay {f(cores(ff, 'relay'), '{:.2f}')}, load client {f(cores(ff, 'client'), '{:.2f}')}; "
                 f"sender lag {f(ff.get('sender_max_lag_ms'), '{:.0f}')} ms; load 1m {f(g(ff, 'loadavg_1m', 'after'), '{:.1f}')}")
    rows.append(("browser path, highest rate a 100-user room sustains with p99 <= 50 ms (nothing lost), >= 1,000 msg/s",
                 f"{f(sr(relay))} msg/s", f"Socket.IO {f(sr(sio))}; /topic {f(sr(topic))}",
                 f"{f(ratio(sr(relay), sr(sio)), '{:.2f}x')} of Socket.IO", verdict(None if relay is None else sr(relay) >= 1000), bound))
    return rows


def amqp_rows(runs):
    rows = []
    for n in (10, 100, 1000):
        d, b, s = runs.get(f"direct-n{n}"), runs.get(f"relaybatch-n{n}"), runs.get(f"relay-n{n}")
        dd, bd, sd = g(d, "deliveries_per_s"), g(b, "deliveries_per_s"), g(s, "deliveries_per_s")
        for label, r, v, target in (("batching consumers", b, bd, 1.5), ("seed consumers (single messages)", s, sd, 0.9)):
            x = ratio(v, dd)
            frames = g(r, "batch_frames")
            per_frame = f", {g(r, 'deliveries') / frames:.1f} msgs/frame" if frames else ""
            rows.append((f"AMQP path, {label}, N = {n}: deliveries/s vs the broker's own fan-out, >= {target}x",
                         f"{f(v)}/s{per_frame}, {integ(r)}", f"direct {f(dd)}/s", f(x, "{:.2f}x"),
                         verdict(None if x is None else x >= target and bool(g(r, "ok"))),
                         f"broker CPU s/100k deliveries: {f(g(r, 'cpu', 'broker', 'cpu_s_per_100k_deliveries'), '{:.2f}')} "
                         f"(direct {f(g(d, 'cpu', 'broker', 'cpu_s_per_100k_deliveries'), '{:.2f}')}), relay "
                         f"{f(g(r, 'cpu', 'relay', 'cpu_s_per_100k_deliveries'), '{:.2f}')}"))
    d, r = runs.get("direct-rate200-n100"), runs.get("relay-rate200-n100")
    dp, rp = g(d, "latency_ms", "p99"), g(r, "latency_ms", "p99")
    add = rp - dp if rp is not None and dp is not None else None
    rows.append(("relay-added p99 at 200 msg/s x 100 users (AMQP, seed consumers), <= 1 ms",
                 f"relay p99 {f(rp, '{:.2f}')} ms (p50 {f(g(r, 'latency_ms', 'p50'), '{:.2f}')}), {integ(r)}",
                 f"direct p99 {f(dp, '{:.2f}')} ms", f"+{f(add, '{:.2f}')} ms",
                 verdict(None if add is None else add <= 1.0 and bool(g(r, "ok"))),
                 f"relay {f(g(r, 'cpu', 'relay', 'cpu_s'), '{:.2f}')} s CPU for {f(g(r, 'messages'))} chats"))
    lg = next((v for k, v in sorted(runs.items()) if k.startswith("login-")), None)
    tl = next((v for k, v in sorted(runs.items()) if k.startswith("transientlogin-")), None)
    lps, tps = g(lg, "login", "logins_per_s"), g(tl, "login", "logins_per_s")
    anchor = f"relay.deliveries=transient (non-durable queues): {f(tps)}/s, {login_cpu(tl)}" if tl else "-"
    rows.append((f"logins/s, {f(g(lg, 'users'))} users, one broker node, >= 1,000",
                 f"{f(lps)}/s ({f(g(lg, 'login', 'welcomes'))} welcomes in {f(g(lg, 'login', 'elapsed_s'), '{:.1f}')} s)",
                 anchor, f(ratio(tps, lps), "{:.2f}x transient/durable") if tl else "-",
                 verdict(None if lps is None else lps >= 1000 and bool(g(lg, "ok"))), login_cpu(lg)))
    return rows


def login_cpu(lg):
    """Broker and relay CPU over a login point: cores used and CPU per login."""
    el, users = g(lg, "login", "elapsed_s"), g(lg, "users")
    parts = []
    for who in ("broker", "relay"):
        c = g(lg, "cpu", who, "cpu_s")
        parts.append(f"{who} {f(ratio(c, el), '{:.2f}')} cores, {f(c * 1000 / users if c and users else None, '{:.2f}')} ms CPU per login")
    return "; ".join(parts)


def integ(r):
    if r is None:
        return "not run"
    return f"{g(r, 'missing', default='?')}/{g(r, 'duplicates', default='?')}/{g(r, 'reordered', default='?')} missing/dup/reordered"


def cpu_rows(out, runs):
    idle = load(os.path.join(out, "cpu", "idle.json"))
    pts = {p["name"]: p for p in (load(x) for x in glob.glob(os.path.join(out, "cpu", "*.json"))) if p and "name" in p}
    rows = [("relay CPU idle, < 1% of a core", f"{f(g(idle, 'idle_pct_of_core'), '{:.2f}')}% over {f(g(idle, 'seconds'))} s",
             "-", "-", verdict(None if idle is None else idle["idle_pct_of_core"] < 1.0), "-")]
    r = runs.get("relay-rate200-n100")
    matrix = g(r, "cpu", "relay", "cpu_s")
    for name, label in (("amqp-seed", "AMQP seed clients"), ("browser-batch", "browser clients, batching")):
        p, pp = pts.get(name), pts.get(name + "-profiled")
        us = g(p, "us_per_chat")
        extra = f"; matrix 200 msg/s point {matrix * 1e6 / g(r, 'messages'):.0f} µs" if name == "amqp-seed" and matrix and g(r, "messages") else ""
        top = profile_line(os.path.join(out, "cpu", f"profile-{name}-profiled.txt"))
        rows.append((f"relay CPU per chat message at 200 msg/s x 100 users ({label}), < 25 µs",
                     f"{f(us, '{:.0f}')} µs ({f(g(p, 'core_share'), '{:.3f}')} cores){extra}", "-", "-",
                     verdict(None if us is None else us < 25),
                     f"{f(g(p, 'switches_per_chat'))} context switches per chat ({g(p, 'switches_by_thread', default='-')}); "
                     f"profile `cpu/profile-{name}-profiled.txt`: {top}"))
    return rows


def profile_line(path):
    """The profile's first category lines (where the relay's CPU goes)."""
    try:
        lines = open(path).read().split("By category:")[1].strip().splitlines()[:3]
    except (OSError, IndexError):
        return "-"
    return "; ".join(" ".join(x.split()) for x in lines)


def write(out, stamp, rev):
    run = run_json(out)
    b = load(os.path.join(out, "browser", "results.json"))
    runs = {r["name"]: r for r in (load(os.path.join(out, "amqp", "results.json")) or [])}
    rows = browser_rows(b) + amqp_rows(runs) + cpu_rows(out, runs)
    L = [f"# Issue 13 targets in one run, {stamp}\n"]
    L.append(f"Project revision `{rev}`; one invocation of `bench/run-report.sh`, {f(g(run, 'end', 'seconds'))} s; "
             f"load average (1, 5, 15 min) at the start {g(run, 'start', 'loadavg', default='?')}, at the end "
             f"{g(run, 'end', 'loadavg', default='?')} on {os.cpu_count()} cores (broker, relay, load clients and "
             "reference servers share them; other work on the machine adds to it). Sections: `cpu/` (relay CPU idle and "
             "per chat, profiles), [browser/](browser/report.md) (bench/run-browser.sh, batching logins), "
             "[amqp/](amqp/report.md) (bench/run-matrix.sh with batching consumers).\n")
    L.append("| target (issue 13) | measured | anchor, same run | ratio | verdict | what the run shows about the bound |")
    L.append("|---|---|---|---:|---|---|")
    for row in rows:
        L.append("| " + " | ".join(str(x).replace("|", "/") for x in row) + " |")
    L.append("\nEvery point checks nothing lost, duplicated or reordered (a point that loses anything fails its row). "
             "Plots: [browser](browser/plot.png), [AMQP](amqp/plot.png).\n")
    L.append("## Relay CPU profiles (perf record -g, 999 Hz)\n")
    for p in sorted(glob.glob(os.path.join(out, "cpu", "profile-*.txt"))):
        L.append(f"### {os.path.basename(p)}\n\n```")
        L.extend(open(p).read().split("\n# perf report")[0].rstrip().splitlines()[:45])
        L.append("```\n")
    open(os.path.join(out, "report.md"), "w").write("\n".join(L) + "\n")


def latest(latest_md, out, dirname):
    spec = importlib.util.spec_from_file_location("browser_report", os.path.join(here, "browser", "report.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rep = open(os.path.join(out, "report.md")).read()
    for sub in ("browser/", "amqp/", "cpu/"):
        rep = rep.replace(f"]({sub}", f"]({dirname}/{sub}").replace(f"`{sub}", f"`{dirname}/{sub}")
    rep = rep.replace("](../", "](")  # other runs' directories, relative to bench/results
    tmp = os.path.join(out, "latest-section.md")
    open(os.path.join(tmp), "w").write(rep)
    # update_latest reads OUT/report.md: give it the copy with links relative to bench/results
    os.replace(os.path.join(out, "report.md"), os.path.join(out, "report.md.orig"))
    os.replace(tmp, os.path.join(out, "report.md"))
    try:
        mod.update_latest(latest_md, out, dirname, "report", "Issue 13 targets in one run (bench/run-report.sh)")
    finally:
        os.replace(os.path.join(out, "report.md"), tmp)
        os.replace(os.path.join(out, "report.md.orig"), os.path.join(out, "report.md"))
        os.remove(tmp)


if __name__ == "__main__":
    if sys.argv[1] == "--latest":
        latest(*sys.argv[2:5])
    else:
        write(*sys.argv[1:4])

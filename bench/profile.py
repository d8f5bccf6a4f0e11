#!/usr/bin/env python3
"""Summary of a `perf record -g` profile of one process (bench/run-report.sh).

  profile.py PERF_DATA [TOP]   prints: samples per thread with each thread's first user-space frames,
                               samples by category (what the CPU time was spent on), the TOP leaf symbols

Categories are decided by the leaf frame and its stack: time in the kernel putting a thread to sleep or
waking one (futex, poll, the context switch itself: on a VM without a PMU, cpu-clock samples that land
while interrupts were off are accounted to finish_task_switch / _raw_spin_unlock_irqrestore), socket I/O,
and user space by library.
"""
import collections
import re
import subprocess
import sys

FRAME = re.compile(r"\s+([0-9a-f]+)\s+(.*)\s+\((.*)\)$")


def samples(data):
    out = subprocess.run(["perf", "script", "-i", data, "-F", "tid,comm,ip,sym,dso"],
                         capture_output=True, text=True, check=True).stdout
    cur = None
    for line in out.split("\n"):
        if not line.strip():
            if cur:
                yield cur
            cur = None
        elif not line.startswith(("\t", " ")):
            p = line.split()
            cur = {"comm": p[0], "tid": p[1], "stack": []}
        elif cur is not None and (m := FRAME.match(line)):
            cur["stack"].append((re.sub(r"\+0x[0-9a-f]+$", "", m.group(2)), m.group(3)))
    if cur:
        yield cur


def category(s):
    if not s["stack"]:
        return "?"
    sym, dso = s["stack"][0]
    stack = " ".join(f[0] for f in s["stack"])
    if "kernel" in dso:
        io = any(k in stack for k in ("tcp", "sendto", "recvfrom", "sock", "eventfd", "ksys_write", "ksys_read"))
        if not io and any(k in stack for k in ("futex", "poll", "schedule", "try_to_wake_up")):
            return "kernel: thread sleep/wake-up (futex, poll, context switch)"
        return "kernel: socket/eventfd I/O" if io else "kernel: other"
    if any(k in sym for k in ("futex", "lll_lock", "pthread_cond", "pthread_mutex", "condvar")):
        return "libc: mutex/condvar"
    if any(k in sym for k in ("malloc", "free", "_int_", "operator new", "operator delete")):
        return "allocator"
    if "nlohmann" in sym:
        return "JSON (nlohmann)"
    if "amqp" in sym or "rabbitmq" in dso:
        return "rabbitmq-c"
    if "chatrelay" in sym:
        return "relay code"
    if "caf" in sym or "caf" in dso:
        return "CAF runtime"
    return "other user space (libc, libstdc++)"


def main():
    data = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    ss = list(samples(data))
    tot = len(ss) or 1
    pct = lambda n: f"{100 * n / tot:5.1f}%"  # noqa: E731
    print(f"{len(ss)} samples\n\nBy category:")
    for name, n in collections.Counter(category(s) for s in ss).most_common():
        print(f"  {pct(n)}  {name}")
    print("\nBy thread (CAF 0.17 names its scheduler workers caf.multiplexer; caf.actor = detached actors and the "
          "AMQP thread they start), with each thread's first user-space frames:")
    threads = collections.defaultdict(list)
    for s in ss:
        threads[(s["tid"], s["comm"])].append(s)
    for (tid, comm), v in sorted(threads.items(), key=lambda kv: -len(kv[1])):
        print(f"  {pct(len(v))}  {comm} {tid}")
        first = collections.Counter()
        for s in v:
            user = [f for f in s["stack"] if "kernel" not in f[1]]
            first[(user[0][0][:100] + " [" + user[0][1].split("/")[-1] + "]") if user else "(kernel only)"] += 1
        for name, n in first.most_common(4):
            print(f"      {pct(n)}  {name}")
    print(f"\nTop {top} leaf symbols:")
    for name, n in collections.Counter(s["stack"][0][0][:110] if s["stack"] else "?" for s in ss).most_common(top):
        print(f"  {pct(n)}  {name}")


if __name__ == "__main__":
    main()

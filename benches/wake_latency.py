#!/usr/bin/env python3
"""How late a thread that sleeps 1 ms wakes, and how long a fixed piece of work then
takes, repeated: p50, p99, p99.9 and the maximum of each, in microseconds.

On a virtual machine a CPU with nothing to run halts, and the host may give its core to
someone else; waking it again then waits for the host. Run beside idle-priority busy
loops (which keep the CPUs from halting and yield to this thread at once) and alone,
it tells how much of a request's tail on an unloaded machine is that wait:
    python3 benches/wake_latency.py [iterations]
    chrt --idle 0 sh -c 'while :; do :; done' &   (one per CPU), then the same
"""
import sys
import time

iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 5000


def work():
    # A fixed piece of arithmetic (about 0.4 ms on this machine).
    x = 0
    for i in range(4000):
        x = (x * 31 + i) & 0xFFFFFFFF
    return x


late, spent = [], []
for _ in range(iterations):
    start = time.perf_counter_ns()
    time.sleep(0.001)
    woke = time.perf_counter_ns()
    late.append(woke - start - 1_000_000)
    work()
    spent.append(time.perf_counter_ns() - woke)


def line(name, values):
    values.sort()
    at = lambda q: values[min(len(values) - 1, int(len(values) * q))] / 1000
    return f"{name} p50 {at(0.5):.0f} p99 {at(0.99):.0f} p99.9 {at(0.999):.0f} max {values[-1] / 1000:.0f} us"


print(f"{line('woke late by', late)}; {line('work took', spent)}")

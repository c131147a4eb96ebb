#!/usr/bin/env python3
"""An open-loop password sign-in load at a fixed rate, to run beside another load:
sign-in N starts at N / RATE seconds whatever the earlier ones are doing (wrk cannot
hold a fixed rate). Uses the environment benches/setup.py prints.

Usage: signin_rate.py BASE_URL RATE SECONDS
"""
import http.client
import os
import sys
import threading
import time
import urllib.parse

BASE, RATE, SECONDS = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
host = urllib.parse.urlsplit(BASE)
headers = {"Content-Type": "application/x-www-form-urlencoded",
           "Cookie": os.environ["SIGNIN_COOKIE"]}
path, body = os.environ["SIGNIN_PATH"], os.environ["SIGNIN_BODY"]
total = int(RATE * SECONDS)
start = time.monotonic() + 0.2
lock = threading.Lock()
next_index = 0
latencies, failures = [], 0


def worker():
    global next_index, failures
    conn = http.client.HTTPConnection(host.hostname, host.port)
    while True:
        with lock:
            i = next_index
            next_index += 1
        if i >= total:
            return
        delay = start + i / RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t0 = time.monotonic()
        try:
            conn.request("POST", path, body, headers)
            r = conn.getresponse()
            r.read()
            ok = r.status in (302, 303)
        except OSError:
            conn = http.client.HTTPConnection(host.hostname, host.port)
            ok = False
        with lock:
            latencies.append(time.monotonic() - t0)
            failures += not ok


workers = [threading.Thread(target=worker) for _ in range(16)]
for w in workers:
    w.start()
for w in workers:
    w.join()
elapsed = time.monotonic() - start
latencies.sort()
pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
print(f"sign-ins: {len(latencies)} in {elapsed:.1f} s ({len(latencies) / elapsed:.1f}/s, "
      f"target {RATE:g}/s), failed: {failures}, p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms")

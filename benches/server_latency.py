"""What the server itself timed for one route over a measurement: the difference of two
scrapes of /metrics (tessera_http_request_duration_seconds, from the request's arrival
at the router to its answer), as the share of requests within each bucket's bound.
Beside wrk's figures, it tells time spent in the handler from time spent before it
(the connection's task waiting for a core or a turn, the kernel, the load generator).
    python3 benches/server_latency.py BEFORE AFTER ROUTE_SUBSTRING
"""
import re
import sys

LINE = re.compile(r'^tessera_http_request_duration_seconds_bucket\{(.*)\} (\d+)')


def buckets(path, route):
    counts = {}
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            if route not in labels.get("route", "") or labels.get("status") != "200":
                continue
            le = labels["le"]
            counts[le] = counts.get(le, 0) + int(m.group(2))
    return counts


before, after = buckets(sys.argv[1], sys.argv[3]), buckets(sys.argv[2], sys.argv[3])
total = after.get("+Inf", 0) - before.get("+Inf", 0)
if total <= 0:
    print("server-side: no requests timed")
    sys.exit(0)
shares = []
for le in sorted((k for k in after if k != "+Inf"), key=float):
    n = after[le] - before.get(le, 0)
    if float(le) <= 0.01:
        shares.append(f"<= {float(le) * 1000:g} ms {100 * n / total:.2f} %")
print(f"server-side: {total} requests; " + ", ".join(shares))

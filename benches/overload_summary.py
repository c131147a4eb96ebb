"""One line per output file of benches/overload.sh: the p50 / p99 of each measurement
(client credentials, refresh) unloaded and under each flood the run had, and each p99
over the same run's unloaded one, and the host's steal during it where the file has it
(`steal 12.3%`). For comparing runs, which on a shared two-core machine vary from one
to the next.
    python3 benches/overload_summary.py benches/results/<folder>/*.txt
"""

import re
import sys

LABEL = re.compile(r"^== (.+): (client_credentials|refresh rotations)$")
PERCENTILE = re.compile(r"^ +(50|99)%\s+([\d.]+)(us|ms)$")
STEAL = re.compile(r"^steal: ([\d.]+) % of the CPU time$")


def millis(value, unit):
    return float(value) / 1000 if unit == "us" else float(value)


def measurements(path):
    """{(condition, grant): {"50": ms, "99": ms, "steal": %}} in the order the file has
    them."""
    found, current = {}, None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            m = LABEL.match(line)
            if m:
                current = (m.group(1), "cc" if m.group(2) == "client_credentials" else "refresh")
                found[current] = {}
                continue
            m = PERCENTILE.match(line)
            if m and current is not None:
                found[current][m.group(1)] = millis(m.group(2), m.group(3))
            m = STEAL.match(line)
            if m and current is not None:
                found[current]["steal"] = float(m.group(1))
    return found


for path in sys.argv[1:]:
    found = measurements(path)
    parts = []
    for (condition, grant), p in found.items():
        if "50" not in p or "99" not in p:
            continue
        base = found.get(("unloaded", grant), {}).get("99")
        ratio = f" ({p['99'] / base:.2f}x)" if base and condition != "unloaded" else ""
        steal = f" steal {p['steal']:.1f}%" if "steal" in p else ""
        parts.append(f"{condition} {grant} {p['50']:.3f}/{p['99']:.2f}{ratio}{steal}")
    print(f"{path.rsplit('/', 1)[-1]}: " + "; ".join(parts))

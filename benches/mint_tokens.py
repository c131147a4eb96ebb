#!/usr/bin/env python3
"""Mints COUNT distinct access tokens for benches/introspect_many.lua: client_credentials
grants (client_secret_basic, CLIENT_BASIC and SCOPE from the environment, as
benches/client_credentials.lua sends them) against a running Tessera with
benches/tenant.json imported. WORKERS processes (default 4), each on one keep-alive
connection; stdlib only. Writes one token a line to FILE, checks that every token is
different, and prints one line: how many, and how long it took.

Usage: mint_tokens.py BASE_URL COUNT FILE
"""
import http.client
import json
import multiprocessing
import os
import sys
import time
import urllib.parse

TOKEN_PATH = "/bench/oauth2/token"


def mint(job):
    base, count = job
    host = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(host.hostname, host.port)
    body = "grant_type=client_credentials&scope=" + os.environ["SCOPE"]
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Authorization": "Basic " + os.environ["CLIENT_BASIC"]}
    tokens = []
    for _ in range(count):
        conn.request("POST", TOKEN_PATH, body, headers)
        r = conn.getresponse()
        answer = r.read()
        if r.status != 200:
            sys.exit(f"token answered {r.status}: {answer[:300]!r}")
        tokens.append(json.loads(answer)["access_token"])
    conn.close()
    return tokens


def main():
    base, count, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    workers = max(1, int(os.environ.get("WORKERS", "4")))
    shares = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    started = time.monotonic()
    with multiprocessing.Pool(workers) as pool:
        tokens = [t for part in pool.map(mint, [(base, n) for n in shares if n]) for t in part]
    took = time.monotonic() - started
    if len(set(tokens)) != count:
        sys.exit(f"{count} grants gave {len(set(tokens))} distinct tokens")
    with open(path, "w") as out:
        out.write("\n".join(tokens) + "\n")
    print(f"minted {count} distinct access tokens in {took:.1f} s "
          f"({count / took:.0f}/s, {workers} processes)")


if __name__ == "__main__":
    main()

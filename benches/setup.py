#!/usr/bin/env python3
"""Prepares the stateful loads of benches/run.sh against a running Tessera with
benches/tenant.json imported, through the real pages and endpoints (stdlib only):

- signs alice in once through the sign-in page: the SSO session the code-flow load
  reuses, and the CSRF cookie and form the password load replays;
- seeds refresh tokens for the rotation load, one authorization code flow each.

Usage: setup.py BASE_URL SEEDS SEED_FILE   (prints `export NAME=value` lines)
"""
import base64
import html
import http.client
import json
import re
import sys
import urllib.parse

BASE, SEEDS, SEED_FILE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
TENANT = "bench"
REDIRECT = "http://127.0.0.1:9/cb"
WEB_BASIC = base64.b64encode(b"web:bench-web-secret-0123456789abcdef").decode()
host = urllib.parse.urlsplit(BASE)
conn = http.client.HTTPConnection(host.hostname, host.port)


def send(method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r, r.read().decode()


def cookie(response, name):
    for header in response.headers.get_all("Set-Cookie") or []:
        if header.startswith(name + "="):
            return header.split(";", 1)[0]
    sys.exit(f"no {name} cookie: {response.status}")


def authorize_path(scope):
    query = urllib.parse.urlencode({
        "client_id": "web", "response_type": "code", "redirect_uri": REDIRECT,
        "scope": scope, "state": "bench",
    })
    return f"/{TENANT}/oauth2/authorize?{query}"


def code_of(response):
    location = response.getheader("Location") or ""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    if "code" not in query:
        sys.exit(f"no code: {response.status} {location}")
    return query["code"][0]


def hidden(page, name):
    m = re.search(r'name="%s" value="([^"]*)"' % name, page)
    if not m:
        sys.exit(f"no {name} in the sign-in page")
    return html.unescape(m.group(1))


# The sign-in page, then the password form.
r, page = send("GET", authorize_path("openid"))
if r.status != 200:
    sys.exit(f"authorize answered {r.status}: {page[:300]}")
csrf_cookie = cookie(r, "tessera_csrf")
signin_body = urllib.parse.urlencode({
    "csrf_token": hidden(page, "csrf_token"), "request": hidden(page, "request"),
    "username": "alice", "password": "bench-password-1",
})
signin_path = f"/{TENANT}/signin/password"
form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": csrf_cookie}
r, _ = send("POST", signin_path, signin_body, form)
if r.status not in (302, 303):
    sys.exit(f"sign-in answered {r.status}")
session_cookie = cookie(r, "tessera_session")
code_of(r)

# Refresh tokens, each from its own code flow in the session above.
token = {"Content-Type": "application/x-www-form-urlencoded",
         "Authorization": "Basic " + WEB_BASIC}
with open(SEED_FILE, "w") as out:
    for _ in range(SEEDS):
        r, body = send("GET", authorize_path("openid offline_access"),
                       headers={"Cookie": session_cookie})
        code = code_of(r)
        grant = urllib.parse.urlencode({
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        })
        r, body = send("POST", f"/{TENANT}/oauth2/token", grant, token)
        if r.status != 200:
            sys.exit(f"token answered {r.status}: {body[:300]}")
        out.write(json.loads(body)["refresh_token"] + "\n")

for name, value in {
    "SESSION_COOKIE": session_cookie, "SIGNIN_COOKIE": csrf_cookie,
    "SIGNIN_BODY": signin_body, "SIGNIN_PATH": signin_path,
    "AUTHORIZE_PATH": authorize_path("openid"), "TOKEN_PATH": f"/{TENANT}/oauth2/token",
    "REDIRECT_URI": urllib.parse.quote(REDIRECT, safe=""), "WEB_BASIC": WEB_BASIC,
    "REFRESH_SEEDS": SEED_FILE,
}.items():
    print(f"export {name}='{value}'")

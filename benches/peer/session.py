"""Signs one user in to the peer through oidc-provider's built-in interaction pages
(DEV_INTERACTIONS=1: any login name is accepted), consents for client "web", and prints
the environment that ../code_flow.lua needs, as shell exports: the authorization path
and the session cookie then give a code without any page, like Tessera's SSO session.
Usage: python3 session.py http://127.0.0.1:3100 WEB_BASIC"""

import http.cookiejar
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

base, web_basic = sys.argv[1], sys.argv[2]
REDIRECT = "http://127.0.0.1/callback"
AUTHORIZE = "/auth?" + urllib.parse.urlencode({
    "client_id": "web", "response_type": "code", "redirect_uri": REDIRECT,
    "scope": "openid", "state": "bench",
})


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)


def send(url, form=None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        r = opener.open(urllib.request.Request(url, data=data))
        return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


status, headers, body = send(base + AUTHORIZE)
for _ in range(8):
    location = headers.get("Location", "")
    if location.startswith(REDIRECT):
        break
    if status not in (302, 303) or not location:
        sys.exit(f"unexpected answer {status}: {body[:300]}")
    url = urllib.parse.urljoin(base + "/", location)
    if "/interaction/" in url:
        status, headers, page = send(url)
        if 'name="login"' in page:
            status, headers, body = send(url, {"prompt": "login", "login": "bench-user", "password": "x"})
        else:
            status, headers, body = send(url, {"prompt": "consent"})
    else:
        status, headers, body = send(url)
else:
    sys.exit("no code after eight redirects")
if not re.search(r"[?&]code=", headers.get("Location", "")):
    sys.exit(f"no code in {headers.get('Location')}")
session = "; ".join(f"{c.name}={c.value}" for c in jar if c.name.startswith("_session"))
if not session:
    sys.exit("no session cookie")
exports = {
    "AUTHORIZE_PATH": AUTHORIZE, "SESSION_COOKIE": session, "TOKEN_PATH": "/token",
    "REDIRECT_URI": urllib.parse.quote(REDIRECT, safe=""), "WEB_BASIC": web_basic,
}
for name, value in exports.items():
    print(f"export {name}='{value}'")

"""MSAL Python, unchanged, against a Tessera tenant over HTTPS (a `tessera dev-cert`
certificate): client credentials from the cache, the auth code flow with PKCE and
form_post, a silent refresh, the device flow, on-behalf-of, and an MFA requirement
surfacing as MSAL's interaction-required error.

Run by the Rust test `msal_clients`, which starts Tessera with tests/msal/tenant.json and
sets TESSERA_AUTHORITY (https://host:port/fabrikam), TESSERA_ADMIN_TOKEN (its bootstrap
admin credential) and REQUESTS_CA_BUNDLE (the dev CA).
The sign-in pages are filled in over HTTP by `requests`, as a browser would, and once by
Chromium (selenium), whose form_post page delivers the answer to the app by itself.
"""

import hashlib
import html
import os
import re
import threading
import time
import urllib.parse

import msal
import requests

AUTHORITY = os.environ["TESSERA_AUTHORITY"]
CA = os.environ["REQUESTS_CA_BUNDLE"]
BASE = AUTHORITY.rsplit("/", 1)[0]
PASSWORD = "correct horse battery staple"
REDIRECT = "http://localhost:8400/cb"
SECRETS = {
    "daemon": "daemon-secret-0123456789abcdefghijklmnopqrstu",
    "webapp": "webapp-secret-0123456789abcdefghijklmnopqrstu",
    "middle-app": "middle-secret-0123456789abcdefghijklmnopqrstu",
    "payroll": "payroll-secret-0123456789abcdefghijklmnopqrstu",
    "ledger": "ledger-secret-0123456789abcdefghijklmnopqrstu",
}
ADMIN_TOKEN = os.environ["TESSERA_ADMIN_TOKEN"]


def confidential(client_id):
    # Entra ID mode (the v2.0 paths); instance discovery asks Microsoft about the
    # host, which a Tessera host is not.
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=SECRETS[client_id],
        authority=AUTHORITY,
        instance_discovery=False,
    )


def hidden_fields(page):
    return {
        html.unescape(n): html.unescape(v)
        for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    }


def action_of(page):
    return html.unescape(re.search(r'<form method="post" action="([^"]+)"', page).group(1))


class Browser:
    """A cookie-keeping stand-in for a browser that fills in Tessera's pages."""

    def __init__(self):
        self.http = requests.Session()
        self.http.verify = CA

    def post_form(self, page, extra):
        fields = hidden_fields(page)
        fields.update(extra)
        url = urllib.parse.urljoin(BASE, action_of(page))
        return self.http.post(url, data=fields, allow_redirects=False)

    def authorize(self, auth_uri):
        """Follows the pages to the app's answer: the form_post fields, or a redirect's
        query."""
        r = self.http.get(auth_uri, allow_redirects=False)
        for _ in range(5):
            if r.status_code in (302, 303):
                query = urllib.parse.urlparse(r.headers["location"]).query
                return dict(urllib.parse.parse_qsl(query))
            assert r.status_code == 200, r.text
            page = r.text
            if 'id="form-post"' in page:
                return hidden_fields(page)
            if 'name="password"' in page:
                r = self.post_form(page, {"username": "alice", "password": PASSWORD})
            elif 'name="decision"' in page:
                r = self.post_form(page, {"decision": "allow"})
            else:
                raise AssertionError("an unexpected page: " + page)
        raise AssertionError("too many pages")


def test_client_credentials_come_from_the_cache_the_second_time():
    app = confidential("daemon")
    first = app.acquire_token_for_client(scopes=["api://orders/.default"])
    assert "access_token" in first, first
    assert first["token_type"] == "Bearer"
    assert first.get("token_source") == "identity_provider"
    second = app.acquire_token_for_client(scopes=["api://orders/.default"])
    assert second["access_token"] == first["access_token"]
    assert second.get("token_source") == "cache"


def test_an_invalid_client_secret_is_entras_error_shape():
    app = msal.ConfidentialClientApplication(
        "daemon", client_credential="wrong", authority=AUTHORITY, instance_discovery=False
    )
    result = app.acquire_token_for_client(scopes=["api://orders/.default"])
    assert result["error"] == "invalid_client", result
    assert result["error_codes"] and result["trace_id"] and result["correlation_id"]


def test_auth_code_with_pkce_and_form_post_then_a_silent_refresh():
    app = confidential("webapp")
    flow = app.initiate_auth_code_flow(
        ["api://orders/read"], redirect_uri=REDIRECT, response_mode="form_post"
    )
    assert "code_challenge=" in flow["auth_uri"]
    answer = Browser().authorize(flow["auth_uri"])
    result = app.acquire_token_by_auth_code_flow(flow, answer)
    assert "access_token" in result, result
    claims = result["id_token_claims"]
    assert claims["preferred_username"] == "alice"
    # MSAL sends the SHA-256 of its nonce, and checks the ID token's against it too.
    assert claims["nonce"] == hashlib.sha256(flow["nonce"].encode()).hexdigest()
    accounts = app.get_accounts()
    assert [a["username"] for a in accounts] == ["alice"]
    cached = app.acquire_token_silent(["api://orders/read"], account=accounts[0])
    assert cached["access_token"] == result["access_token"]
    assert cached.get("token_source") == "cache"
    refreshed = app.acquire_token_silent(
        ["api://orders/read"], account=accounts[0], force_refresh=True
    )
    assert refreshed and "access_token" in refreshed, refreshed
    assert refreshed.get("token_source") == "identity_provider"
    assert refreshed["access_token"] != result["access_token"]


def test_the_device_flow():
    app = msal.PublicClientApplication("tv", authority=AUTHORITY, instance_discovery=False)
    flow = app.initiate_device_flow(scopes=["api://orders/read"])
    assert "user_code" in flow, flow

    def approve():
        time.sleep(1.5)
        browser = Browser()
        page = browser.http.get(flow["verification_uri"]).text
        r = browser.post_form(page, {"user_code": flow["user_code"]})
        r = browser.post_form(r.text, {"username": "alice", "password": PASSWORD})
        r = browser.post_form(r.text, {"decision": "allow"})
        assert r.status_code == 200, r.text

    helper = threading.Thread(target=approve)
    helper.start()
    result = app.acquire_token_by_device_flow(flow)
    helper.join()
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == "alice"


def test_on_behalf_of():
    web = confidential("webapp")
    flow = web.initiate_auth_code_flow(["api://middle/access"], redirect_uri=REDIRECT)
    user = web.acquire_token_by_auth_code_flow(flow, Browser().authorize(flow["auth_uri"]))
    assert "access_token" in user, user
    middle = confidential("middle-app")
    result = middle.acquire_token_on_behalf_of(user["access_token"], ["api://orders/read"])
    assert "access_token" in result, result


def test_an_mfa_requirement_is_interaction_required():
    browser = Browser()
    web = confidential("webapp")
    flow = web.initiate_auth_code_flow(["api://orders/read"], redirect_uri=REDIRECT)
    assert "access_token" in web.acquire_token_by_auth_code_flow(
        flow, browser.authorize(flow["auth_uri"])
    )
    # Payroll requires a second factor, which alice's session lacks; a silent request
    # cannot ask for one.
    payroll = confidential("payroll")
    flow = payroll.initiate_auth_code_flow([], redirect_uri=REDIRECT, prompt="none")
    result = payroll.acquire_token_by_auth_code_flow(flow, browser.authorize(flow["auth_uri"]))
    assert result["error"] == "interaction_required", result
    assert result["error_description"].startswith("TS40004"), result


def test_a_refresh_after_mfa_became_required_asks_for_interaction():
    app = confidential("ledger")
    flow = app.initiate_auth_code_flow([], redirect_uri=REDIRECT, response_mode="form_post")
    assert "access_token" in app.acquire_token_by_auth_code_flow(
        flow, Browser().authorize(flow["auth_uri"])
    )
    # The administrator requires a second factor for Ledger from now on.
    r = requests.patch(
        BASE + "/admin/api/v1/tenants/fabrikam/apps/ledger",
        json={"mfa_required": True},
        headers={"Authorization": "Bearer " + ADMIN_TOKEN},
        verify=CA,
    )
    assert r.status_code == 200, r.text
    account = app.get_accounts()[0]
    result = app.acquire_token_silent_with_error([], account=account, force_refresh=True)
    assert result["error"] == "invalid_grant", result
    assert result["suberror"] == "basic_action", result
    assert result["error_description"].startswith("TS40004"), result


def test_auth_code_with_form_post_in_a_real_browser():
    """Chromium signs in and its form_post page hands the answer to the app's redirect
    URI by itself; MSAL redeems what arrived there."""
    import http.server
    import json
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    received = {}

    class Callback(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            received.update(urllib.parse.parse_qsl(body))
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<!DOCTYPE html><title>done</title><p id=done>signed in</p>")

        def log_message(self, *args):
            pass

    app_server = http.server.HTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=app_server.serve_forever, daemon=True).start()
    # A loopback redirect URI of the registered kind, on the port this test got.
    redirect = "http://localhost:%d/cb" % app_server.server_address[1]
    r = requests.patch(
        BASE + "/admin/api/v1/tenants/fabrikam/apps/webapp",
        data=json.dumps({"redirect_uris": {"web": [REDIRECT, redirect]}}),
        headers={"Authorization": "Bearer " + ADMIN_TOKEN, "Content-Type": "application/json"},
        verify=CA,
    )
    assert r.status_code == 200, r.text

    app = confidential("webapp")
    flow = app.initiate_auth_code_flow(
        ["api://orders/read"], redirect_uri=redirect, response_mode="form_post"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                # The dev CA is the test's, not the machine's.
                "--ignore-certificate-errors"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        browser.get(flow["auth_uri"])
        browser.find_element(By.ID, "username").send_keys("alice")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "sign-in").click()
        WebDriverWait(browser, 15).until(lambda b: b.find_elements(By.ID, "done"))
    finally:
        browser.quit()
        app_server.shutdown()
    assert "code" in received, received
    result = app.acquire_token_by_auth_code_flow(flow, received)
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == "alice"

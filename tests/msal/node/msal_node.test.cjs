// MSAL Node, unchanged, against a Tessera tenant over HTTPS (a `tessera dev-cert`
// certificate): client credentials from the cache, the auth code flow with PKCE and
// form_post, a silent refresh, the device flow, on-behalf-of, and a second factor
// required after sign-in surfacing as MSAL's InteractionRequiredAuthError at the next
// refresh (MSAL Node leaves a web app's authorization errors to the app).
//
// Run with `node --test` by the Rust test `msal_clients`, which starts Tessera with
// tests/msal/tenant.json and sets TESSERA_AUTHORITY (https://host:port/fabrikam),
// TESSERA_ADMIN_TOKEN (its bootstrap admin credential), NODE_EXTRA_CA_CERTS (the dev CA)
// and MSAL_NODE (where @azure/msal-node is installed).
// The sign-in pages are filled in over HTTP by fetch, as a browser would.

const test = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const msal = require(process.env.MSAL_NODE);

const AUTHORITY = process.env.TESSERA_AUTHORITY;
const BASE = new URL(AUTHORITY).origin;
const HOST = new URL(AUTHORITY).host;
const PASSWORD = "correct horse battery staple";
const REDIRECT = "http://localhost:8400/cb";
const SECRETS = {
  daemon: "daemon-secret-0123456789abcdefghijklmnopqrstu",
  webapp: "webapp-secret-0123456789abcdefghijklmnopqrstu",
  "middle-app": "middle-secret-0123456789abcdefghijklmnopqrstu",
  payroll: "payroll-secret-0123456789abcdefghijklmnopqrstu",
  ledger: "ledger-secret-0123456789abcdefghijklmnopqrstu",
};
const ADMIN_TOKEN = process.env.TESSERA_ADMIN_TOKEN;

// Entra ID mode; the host is named as known so MSAL does not ask Microsoft about it.
function confidential(clientId) {
  return new msal.ConfidentialClientApplication({
    auth: { clientId, clientSecret: SECRETS[clientId], authority: AUTHORITY, knownAuthorities: [HOST] },
  });
}

function unescape(s) {
  return s
    .replaceAll("&quot;", '"')
    .replaceAll("&#x27;", "'")
    .replaceAll("&#x2f;", "/")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

function hiddenFields(page) {
  const fields = {};
  for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[unescape(m[1])] = unescape(m[2]);
  }
  return fields;
}

// A cookie-keeping stand-in for a browser that fills in Tessera's pages.
class Browser {
  constructor() {
    this.cookies = new Map();
  }
  async fetch(url, init = {}) {
    const headers = { ...(init.headers || {}) };
    if (this.cookies.size) {
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    }
    const r = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const at = pair.indexOf("=");
      this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return r;
  }
  async postForm(page, extra) {
    const action = unescape(page.match(/<form method="post" action="([^"]+)"/)[1]);
    const body = new URLSearchParams({ ...hiddenFields(page), ...extra });
    return this.fetch(new URL(action, BASE), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
  }
  // Follows the pages to the app's answer: the form_post fields, or a redirect's query.
  async authorize(authUri) {
    let r = await this.fetch(authUri);
    for (let i = 0; i < 5; i++) {
      if (r.status === 302 || r.status === 303) {
        return Object.fromEntries(new URL(r.headers.get("location")).searchParams);
      }
      const page = await r.text();
      assert.equal(r.status, 200, page);
      if (page.includes('id="form-post"')) return hiddenFields(page);
      if (page.includes('name="password"')) {
        r = await this.postForm(page, { username: "alice", password: PASSWORD });
      } else if (page.includes('name="decision"')) {
        r = await this.postForm(page, { decision: "allow" });
      } else {
        assert.fail("an unexpected page: " + page);
      }
    }
    assert.fail("too many pages");
  }
}

function pkce() {
  const verifier = crypto.randomBytes(32).toString("base64url");
  const challenge = crypto.createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

async function signIn(app, browser, scopes, extra = {}) {
  const { verifier, challenge } = pkce();
  const state = crypto.randomUUID();
  const url = await app.getAuthCodeUrl({
    scopes,
    redirectUri: REDIRECT,
    codeChallenge: challenge,
    codeChallengeMethod: "S256",
    responseMode: "form_post",
    state,
    ...extra,
  });
  const answer = await browser.authorize(url);
  return app.acquireTokenByCode(
    { code: answer.code, scopes, redirectUri: REDIRECT, codeVerifier: verifier, state },
    answer,
  );
}

test("client credentials come from the cache the second time", async () => {
  const app = confidential("daemon");
  const first = await app.acquireTokenByClientCredential({ scopes: ["api://orders/.default"] });
  assert.equal(first.tokenType, "Bearer");
  assert.equal(first.fromCache, false);
  const second = await app.acquireTokenByClientCredential({ scopes: ["api://orders/.default"] });
  assert.equal(second.fromCache, true);
  assert.equal(second.accessToken, first.accessToken);
});

test("auth code with PKCE and form_post, then a silent refresh", async () => {
  const app = confidential("webapp");
  const result = await signIn(app, new Browser(), ["api://orders/read"]);
  assert.ok(result.accessToken);
  assert.equal(result.account.username, "alice");
  assert.equal(result.idTokenClaims.preferred_username, "alice");
  const cached = await app.acquireTokenSilent({ account: result.account, scopes: ["api://orders/read"] });
  assert.equal(cached.fromCache, true);
  const refreshed = await app.acquireTokenSilent({
    account: result.account,
    scopes: ["api://orders/read"],
    forceRefresh: true,
  });
  assert.equal(refreshed.fromCache, false);
  assert.notEqual(refreshed.accessToken, result.accessToken);
});

test("the device flow", async () => {
  const app = new msal.PublicClientApplication({
    auth: { clientId: "tv", authority: AUTHORITY, knownAuthorities: [HOST] },
  });
  let approving;
  const result = await app.acquireTokenByDeviceCode({
    scopes: ["api://orders/read"],
    deviceCodeCallback: (response) => {
      approving = (async () => {
        const browser = new Browser();
        let r = await browser.fetch(response.verificationUri);
        r = await browser.postForm(await r.text(), { user_code: response.userCode });
        r = await browser.postForm(await r.text(), { username: "alice", password: PASSWORD });
        r = await browser.postForm(await r.text(), { decision: "allow" });
        assert.equal(r.status, 200);
      })();
    },
  });
  await approving;
  assert.ok(result.accessToken);
  assert.equal(result.account.username, "alice");
});

test("on-behalf-of", async () => {
  const user = await signIn(confidential("webapp"), new Browser(), ["api://middle/access"]);
  const result = await confidential("middle-app").acquireTokenOnBehalfOf({
    oboAssertion: user.accessToken,
    scopes: ["api://orders/read"],
  });
  assert.ok(result.accessToken);
});

test("a refresh after MFA became required is InteractionRequiredAuthError", async () => {
  const app = confidential("ledger");
  const signedIn = await signIn(app, new Browser(), ["openid"]);
  // The administrator requires a second factor for Ledger from now on.
  const r = await fetch(`${BASE}/admin/api/v1/tenants/fabrikam/apps/ledger`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ mfa_required: true }),
  });
  assert.equal(r.status, 200, await r.text());
  await assert.rejects(
    app.acquireTokenSilent({ account: signedIn.account, scopes: ["openid"], forceRefresh: true }),
    (e) =>
      e instanceof msal.InteractionRequiredAuthError &&
      e.subError === "basic_action" &&
      e.errorMessage.startsWith("TS40004"),
  );
});

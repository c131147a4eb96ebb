//! Writes the committed seed corpus, `fuzz/corpus/<target>/`: the requests, tokens,
//! files and bodies the test suite sends, one file each, named by what they are. The
//! sealed values and signed tokens are made here, under the fuzz targets' master key
//! and signing keys, so that they open and verify in the targets.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds` (from the repository).

use std::path::Path;
use tessera_core::ids::ObjectId;
use tessera_core::oauth::jose::Signer;
use tessera_core::oauth::records::{AuthCode, RefreshToken};
use tessera_core::rng::SequenceRng;
use tessera_fuzz::server::{PASSWORD, SECRET};
use tessera_fuzz::{master, signing_keys, tenant_id};

fn write(target: &str, name: &str, bytes: impl AsRef<[u8]>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    std::fs::create_dir_all(&dir).expect("the corpus directory");
    std::fs::write(dir.join(name), bytes).expect("a seed");
}

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn authorize_requests() -> Vec<(&'static str, String)> {
    let cb = "https%3A%2F%2Fapp.test%2Fcb";
    vec![
        ("code_pkce", format!("response_type=code&client_id=web-app&redirect_uri={cb}&scope=openid%20profile%20offline_access&state=s&nonce=n&code_challenge={CHALLENGE}&code_challenge_method=S256")),
        ("implicit", format!("response_type=id_token%20token&client_id=web-app&redirect_uri={cb}&scope=openid&nonce=n&response_mode=form_post")),
        ("prompt_none", format!("response_type=code&client_id=web-app&redirect_uri={cb}&scope=openid&prompt=none&max_age=0&login_hint=alice")),
        ("claims", format!("response_type=code&client_id=web-app&redirect_uri={cb}&scope=openid&claims=%7B%22id_token%22%3A%7B%22email%22%3Anull%7D%7D")),
        ("api_scope", format!("response_type=code&client_id=web-app&redirect_uri={cb}&scope=https%3A%2F%2Fapi.test%2Fread&resource=https%3A%2F%2Fapi.test")),
        ("spa", "response_type=code&client_id=web-app&redirect_uri=https%3A%2F%2Fspa.test%2Fcb&scope=openid&code_challenge=abc&code_challenge_method=plain".to_owned()),
        ("loopback", "response_type=code&client_id=web-app&redirect_uri=http%3A%2F%2F127.0.0.1%3A53100%2Fcb&scope=openid".to_owned()),
        ("repeated", "client_id=a&client_id=b".to_owned()),
        ("bad_escape", "scope=%zz&state=%E2%82".to_owned()),
    ]
}

fn token_requests(assertion: &str) -> Vec<(&'static str, String)> {
    let cb = "https%3A%2F%2Fapp.test%2Fcb";
    vec![
        ("code", format!("grant_type=authorization_code&code=abc&redirect_uri={cb}&client_id=web-app&client_secret={SECRET}&code_verifier={VERIFIER}")),
        ("refresh", format!("grant_type=refresh_token&refresh_token=abc&scope=openid&client_id=web-app&client_secret={SECRET}")),
        ("client_credentials", format!("grant_type=client_credentials&scope=https%3A%2F%2Fapi.fuzz.test%2F.default&client_id=web-app&client_secret={SECRET}")),
        ("device_code", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=abc&client_id=native-app".to_owned()),
        ("device_code_entra", "grant_type=device_code&code=abc&client_id=native-app".to_owned()),
        ("token_exchange", format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token={assertion}&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token&scope=openid&client_id=web-app&client_secret={SECRET}")),
        ("on_behalf_of", format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&requested_token_use=on_behalf_of&assertion={assertion}&scope=openid&client_id=web-app&client_secret={SECRET}")),
        ("private_key_jwt", format!("grant_type=client_credentials&scope=https%3A%2F%2Fapi.fuzz.test%2F.default&client_id=key-app&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}")),
    ]
}

fn main() {
    let (master, tenant) = (master(), tenant_id());
    let rng = SequenceRng::new(1);

    // Signed tokens: an access token, an ID token, and a client assertion of key-app
    // (whose registered key set is the fuzz keys' public half) for each key.
    let now = 1_800_000_000i64;
    let mut assertions = Vec::new();
    for key in signing_keys() {
        let signer = Signer::open(key, tenant, master).expect("the fixture key opens");
        let alg = key.alg.as_str();
        let access = serde_json::json!({ "iss": "http://fuzz.test/fuzz", "sub": "alice",
            "aud": "https://api.fuzz.test", "exp": now + 600, "iat": now, "scp": "read",
            "client_id": "web-app", "jti": "j1" });
        let assertion = serde_json::json!({ "iss": "key-app", "sub": "key-app",
            "aud": "http://fuzz.test/fuzz/oauth2/token", "exp": now + 300, "iat": now,
            "jti": format!("a-{alg}") });
        let access = signer.sign("at+jwt", &access).expect("signed");
        let assertion = signer.sign("JWT", &assertion).expect("signed");
        write("jwt", &format!("access_{alg}"), &access);
        write("jwt", &format!("assertion_{alg}"), &assertion);
        assertions.push(assertion);
    }
    write("jwt", "none_alg", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.");
    write("jwt", "two_parts", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0");
    let jwks = serde_json::json!({ "keys": tessera_fuzz::public_jwks() });
    write("jwks", "fixture", jwks.to_string());
    write("jwks", "empty", r#"{"keys":[]}"#);
    write(
        "jwks",
        "rsa_only",
        serde_json::json!({ "keys": [tessera_fuzz::public_jwks()[0]] }).to_string(),
    );

    // Forms and requests.
    for (name, query) in authorize_requests() {
        write("authorize", name, &query);
        write("form", &format!("authorize_{name}"), &query);
        write(
            "pages",
            &format!("authorize_{name}"),
            format!("\0\n{query}"),
        );
    }
    for (name, body) in token_requests(&assertions[0]) {
        write("token_request", name, &body);
        write("form", &format!("token_{name}"), &body);
        write("token_endpoint", name, format!("\n{body}"));
    }
    let basic = format!(
        "Basic d2ViLWFwcDp3ZWItYXBwLXNlY3JldC0wMTIzNDU2Nzg5\ngrant_type=client_credentials&scope=https%3A%2F%2Fapi.fuzz.test%2F.default"
    );
    write("token_endpoint", "basic", basic);
    write(
        "token_endpoint",
        "bearer",
        "Bearer abc\ngrant_type=refresh_token&refresh_token=x",
    );

    // Pages: a CSRF cookie and its token (the target fills in `CSRF`), and the forms.
    let cookie = "tessera_csrf=c00kie; tessera_session=s3ss10n";
    let forms: [(u8, &str, String); 8] = [
        (
            1,
            "password",
            format!(
                "csrf_token=CSRF&username=alice&password={}&request=response_type%3Dcode%26client_id%3Dweb-app%26redirect_uri%3Dhttps%253A%252F%252Fapp.test%252Fcb%26scope%3Dopenid",
                PASSWORD.replace(' ', "+")
            ),
        ),
        (
            2,
            "consent",
            "csrf_token=CSRF&decision=allow&request=client_id%3Dweb-app".to_owned(),
        ),
        (
            3,
            "select",
            "csrf_token=CSRF&sid=abc&request=client_id%3Dweb-app".to_owned(),
        ),
        (
            4,
            "second_factor",
            "csrf_token=CSRF&code=123456&pending=abc".to_owned(),
        ),
        (
            8,
            "device_sign_in",
            format!(
                "csrf_token=CSRF&user_code=ABCD-EFGH&username=alice&password={}",
                PASSWORD.replace(' ', "+")
            ),
        ),
        (
            11,
            "account_sign_in",
            format!(
                "csrf_token=CSRF&username=alice&password={}",
                PASSWORD.replace(' ', "+")
            ),
        ),
        (
            14,
            "account_password",
            "csrf_token=CSRF&current=a&new=b&confirm=b".to_owned(),
        ),
        (
            6,
            "logout_confirm",
            "csrf_token=CSRF&decision=yes&state=s".to_owned(),
        ),
    ];
    for (pick, name, body) in forms {
        let mut seed = vec![pick];
        seed.extend_from_slice(format!("{cookie}\n{body}").as_bytes());
        write("pages", name, seed);
    }
    write(
        "pages",
        "csrf_mismatch",
        "\u{1}tessera_csrf=a\ncsrf_token=b&username=alice",
    );

    // Sealed values: a code, a refresh token and a device code of the tenant.
    let record: AuthCode = serde_json::from_value(serde_json::json!({
        "client_id": "web-app", "redirect_uri": "https://app.test/cb", "platform": "web",
        "challenge": null, "nonce": "n", "scopes": ["openid"], "audience": null,
        "user": "alice", "user_id": "00000000-0000-0000-0000-000000000003", "sid": "s",
        "auth_time": "2026-01-01T00:00:00Z", "amr": ["pwd"],
        "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-01T00:10:00Z"
    }))
    .expect("a code record");
    write("sealed", "code", record.seal(master, &rng, tenant));
    let refresh: RefreshToken = serde_json::from_value(serde_json::json!({
        "client_id": "web-app", "user": "alice",
        "user_id": "00000000-0000-0000-0000-000000000003", "scopes": ["openid"],
        "audience": null, "sid": "s", "family": "f", "platform": "web", "amr": ["pwd"],
        "auth_time": "2026-01-01T00:00:00Z", "issued_at": "2026-01-01T00:00:00Z",
        "expires_at": "2026-02-01T00:00:00Z", "family_expires_at": "2026-03-01T00:00:00Z",
        "revoked": null
    }))
    .expect("a refresh record");
    let id = ObjectId::from_uuid(uuid::Uuid::from_u128(9));
    write(
        "sealed",
        "refresh_token",
        refresh.seal(id, master, &rng, tenant),
    );
    write(
        "sealed",
        "device_code",
        tessera_core::oauth::device::seal_device_code(master, &rng, tenant, id),
    );
    write(
        "sealed",
        "not_sealed",
        "AAAAAAAAAAAAAAAAAAAAAA~bm90IHNlYWxlZA",
    );

    // Files: the test suite's tenant file, the fuzz tenant, TOML, and config files.
    let contoso = include_str!("../../crates/tessera-server/tests/fixtures/contoso.json");
    write("tenant_file", "contoso.json", contoso);
    write(
        "tenant_file",
        "fuzz.json",
        tessera_fuzz::server::tenant_file().to_string(),
    );
    write(
        "tenant_file",
        "minimal.toml",
        "[[tenants]]\nslug = \"acme\"\ndisplay_name = \"Acme\"\n\n[[tenants.users]]\nusername = \"alice\"\npassword = \"correct horse battery staple\"\n",
    );
    write(
        "config_file",
        "full.toml",
        "listen = \"127.0.0.1:8080\"\ndatabase_url = \"sqlite://tessera-data/tessera.db\"\npublic_url = \"https://id.example.test/\"\nlog_format = \"json\"\nmax_body_bytes = 65536\ntrusted_proxies = \"10.0.0.0/8,2001:db8::/32\"\nstore_timeout_ms = 5000\nrequest_header_timeout_ms = 10000\nrequest_body_timeout_ms = 10000\npassword_memory_kib = 19456\npassword_iterations = 2\npassword_parallelism = 1\n",
    );
    write(
        "config_file",
        "postgres.toml",
        "database_url = \"postgres://tessera:secret@db:5432/tessera?sslmode=disable\"\nlisten = \"[::1]:443\"\n",
    );
    write(
        "config_file",
        "bad.toml",
        "listen = \"127.0.0.1:1\"\nthis is not toml\n",
    );

    // Tenant create bodies (admin_tenant: the body alone).
    write(
        "admin_tenant",
        "tenant",
        serde_json::json!({ "slug": "other", "display_name": "Other" }).to_string(),
    );
    write(
        "admin_tenant",
        "tenant_policy",
        serde_json::json!({ "slug": "consumers-x", "kind": "consumers",
            "policy": { "lockout_threshold": 3, "lockout_seconds": 60, "mfa_max_age_seconds": 3600,
                        "code_lifetime_seconds": 60, "blocked_ip_ranges": ["10.0.0.0/8"],
                        "mfa_required": true, "refresh_token_retry_seconds": 0 } })
        .to_string(),
    );

    // Admin API bodies (first byte: the route, as in the target).
    let admin: [(u8, &str, serde_json::Value); 10] = [
        (
            0,
            "tenant_patch",
            serde_json::json!({ "display_name": "F", "policy": { "lockout_threshold": 3, "mfa_required": false } }),
        ),
        (
            1,
            "user",
            serde_json::json!({ "username": "carol", "password": PASSWORD, "email": "c@fuzz.test", "groups": ["staff"] }),
        ),
        (
            2,
            "user_patch",
            serde_json::json!({ "enabled": false, "name": "Alice" }),
        ),
        (
            3,
            "password",
            serde_json::json!({ "password": PASSWORD, "temporary": false }),
        ),
        (
            4,
            "app",
            serde_json::json!({ "client_id": "new-app", "name": "New", "redirect_uris": { "web": ["https://new.test/cb"] }, "grant_types": ["authorization_code"] }),
        ),
        (
            5,
            "app_patch",
            serde_json::json!({ "redirect_uris": { "spa": ["https://s.test/"] }, "implicit": { "id_token": true } }),
        ),
        (
            6,
            "secret",
            serde_json::json!({ "expires_at": "2030-01-01T00:00:00Z" }),
        ),
        (8, "group", serde_json::json!({ "name": "admins" })),
        (
            9,
            "api",
            serde_json::json!({ "identifier": "https://api2.fuzz.test", "name": "API 2", "scopes": ["read"] }),
        ),
        (
            10,
            "api_patch",
            serde_json::json!({ "scopes": [{ "name": "write", "admin_consent_required": true }] }),
        ),
    ];
    for (pick, name, body) in admin {
        let mut seed = vec![pick];
        seed.extend_from_slice(body.to_string().as_bytes());
        write("admin_api", name, seed);
    }
    let mut keys = vec![7u8];
    keys.extend_from_slice(jwks.to_string().as_bytes());
    write("admin_api", "app_keys", keys);
    println!("seeds written under fuzz/corpus/");
}

//! docs/getting-started.md, followed as written: its `tessera` command lines run with
//! this build's binary in one fresh directory, its tenant file is the file imported,
//! and it ends with tokens from real clients: the daemon's client credentials, and
//! alice's sign-in through the pages with the code redeemed by openidconnect-rs. When
//! the guide changes, this follows it; when the binary changes under it, this fails.

use crate::oidc::{
    PASSWORD, TENANT, WEB_CB, WEB_SECRET, authorize_through_pages, browser, location_params, param,
    rp_http,
};
use crate::support::{Process, TempDir};
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, IssuerUrl, OAuth2TokenResponse, RedirectUrl,
    TokenResponse,
};
use std::process::Output;

const GUIDE: &str = include_str!("../../../../docs/getting-started.md");

/// The fenced blocks of `language` in the guide, in order.
fn blocks(language: &str) -> Vec<String> {
    crate::docs_examples::fenced(GUIDE, language)
}

/// One command line of the guide, run in `dir`: `tessera ARGS`, or `printf 'TEXT\n' |
/// tessera ARGS` with TEXT on standard input. Arguments hold no quotes or spaces.
fn run(dir: &TempDir, line: &str) -> Output {
    let (stdin, command) = match line.split_once(" | ") {
        Some((printf, command)) => {
            let text = printf
                .strip_prefix("printf '")
                .and_then(|t| t.strip_suffix('\''))
                .unwrap_or_else(|| panic!("an unexpected pipe: {line}"))
                .replace("\\n", "\n");
            (Some(text), command)
        }
        None => (None, line),
    };
    let mut words = command.split_whitespace();
    assert_eq!(words.next(), Some("tessera"), "{line}");
    crate::support::run_in(dir, words, stdin.as_deref())
}

fn succeeded(line: &str, o: &Output) -> String {
    assert!(
        o.status.success(),
        "`{line}` exited {:?}: {}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn the_getting_started_guide_works_as_written() {
    let commands: Vec<String> = blocks("sh")
        .iter()
        .flat_map(|b| b.lines().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    let file = blocks("json");
    assert_eq!(file.len(), 1, "one tenant file in the guide");
    let file: serde_json::Value = serde_json::from_str(&file[0]).expect("the file is JSON");
    assert_eq!(
        file["tenants"][0]["slug"], TENANT,
        "the fixture's helpers sign in there"
    );
    assert_eq!(file["tenants"][0]["users"][0]["password"], PASSWORD);

    // Step 1 starts the server; the steps after it run beside it, on one store.
    let dir = TempDir::new("guide");
    std::fs::write(dir.path().join("fabrikam.json"), file.to_string()).unwrap();
    let serve = commands
        .iter()
        .position(|c| c.starts_with("tessera serve"))
        .expect("the guide starts the server");
    // At an address of its own rather than the guide's port 8080.
    let server = Process::serve_in(&dir, &[]);
    let base = server.base.clone();
    let mut printed = Vec::new();
    for line in commands.iter().skip(serve + 1) {
        if line.starts_with("tessera ") || line.starts_with("printf ") {
            printed.push((line.clone(), succeeded(line, &run(&dir, line))));
        }
    }
    let said = |prefix: &str| -> &str {
        &printed
            .iter()
            .find(|(line, _)| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("the guide runs `{prefix}`"))
            .1
    };
    assert!(said("tessera admin add-tenant").starts_with("created tenant contoso"));
    assert!(said("tessera admin add-secret --tenant contoso").contains("shown once"));
    assert!(said("tessera import").contains("fabrikam: created app daemon"));
    // The new bootstrap credential of step 6 works on the admin API.
    let bootstrap = said("tessera admin add-secret --tenant admin")
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();

    let tenants = rp_http()
        .get(format!("{base}/admin/api/v1/tenants"))
        .bearer_auth(&bootstrap)
        .send()
        .await
        .unwrap();
    assert_eq!(tenants.status(), 200);

    // Step 4: the daemon's request, as the guide's curl sends it.
    let curl = commands
        .iter()
        .find(|c| c.starts_with("curl -u daemon:"))
        .expect("the guide's client-credentials request");
    let secret = curl
        .split_whitespace()
        .nth(2)
        .and_then(|u| u.strip_prefix("daemon:"))
        .unwrap();
    let token = rp_http()
        .post(format!("{base}/{TENANT}/oauth2/token"))
        .basic_auth("daemon", Some(secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "api://orders/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    let body: serde_json::Value = token.json().await.unwrap();
    let claims =
        tessera_core::oauth::jose::unverified_claims(body["access_token"].as_str().unwrap())
            .unwrap();
    assert_eq!(claims["roles"], serde_json::json!(["Orders.Admin"]));
    assert_eq!(claims["aud"], "api://orders");

    // Alice through web-app: the pages, then openidconnect-rs redeems the code.
    let issuer = IssuerUrl::new(format!("{base}/{TENANT}")).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &rp_http())
        .await
        .unwrap();
    assert_eq!(
        file["tenants"][0]["apps"][0]["secrets"][0]["value"],
        WEB_SECRET
    );
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("web-app".into()),
        Some(ClientSecret::new(WEB_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(WEB_CB.into()).unwrap());
    let redirect = authorize_through_pages(
        &browser(),
        &base,
        &[
            ("client_id", "web-app"),
            ("redirect_uri", WEB_CB),
            ("response_type", "code"),
            ("scope", "openid offline_access api://orders/read"),
            ("state", "st"),
            ("nonce", "n"),
        ],
        "alice",
    )
    .await;
    let (_, query) = location_params(&redirect);
    let tokens = client
        .exchange_code(AuthorizationCode::new(
            param(&query, "code").unwrap().into(),
        ))
        .unwrap()
        .request_async(&rp_http())
        .await
        .unwrap();
    assert!(tokens.id_token().is_some());
    assert!(tokens.refresh_token().is_some());
}

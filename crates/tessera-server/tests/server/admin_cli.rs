//! `tessera admin …`: the everyday tasks, through the admin API in process, with
//! summaries or `--json`, catalogued errors with exit 2, and `cli` in the audit log.

use crate::support::{TempDir, tessera};
use std::process::Output;

fn admin(dir: &TempDir, args: &[&str], stdin: Option<&str>) -> Output {
    crate::support::run_in(dir, std::iter::once(&"admin").chain(args), stdin)
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn everyday_tasks_from_the_command_line() {
    let dir = TempDir::new("admin-cli");
    assert!(
        ok(&admin(&dir, &["add-tenant", "--slug", "contoso"], None))
            .starts_with("created tenant contoso")
    );
    let user = ok(&admin(
        &dir,
        &[
            "add-user",
            "--tenant",
            "contoso",
            "--username",
            "alice",
            "--password-stdin",
            "--json",
        ],
        Some("correct horse battery\n"),
    ));
    let v: serde_json::Value = serde_json::from_str(&user).unwrap();
    assert_eq!(
        (v["username"].as_str(), v["has_password"].as_bool()),
        (Some("alice"), Some(true))
    );
    assert!(
        ok(&admin(
            &dir,
            &[
                "reset-password",
                "--tenant",
                "contoso",
                "--username",
                "alice"
            ],
            Some("another long passphrase\n")
        ))
        .contains("new password for alice")
    );
    ok(&admin(
        &dir,
        &[
            "add-app",
            "--tenant",
            "contoso",
            "--client-id",
            "web",
            "--name",
            "Web",
            "--redirect-uri",
            "https://app.test/cb",
        ],
        None,
    ));
    let secret: serde_json::Value = serde_json::from_str(&ok(&admin(
        &dir,
        &[
            "add-secret",
            "--tenant",
            "contoso",
            "--client-id",
            "web",
            "--json",
        ],
        None,
    )))
    .unwrap();
    assert!(secret["value"].as_str().is_some_and(|s| s.len() >= 43));
    assert!(ok(&admin(&dir, &["rotate-keys", "--tenant", "contoso"], None)).contains("rotated"));
    assert_eq!(
        ok(&admin(
            &dir,
            &[
                "revoke-sessions",
                "--tenant",
                "contoso",
                "--username",
                "alice"
            ],
            None
        ))
        .trim(),
        "revoked 0 session(s) and 0 refresh token(s) of alice"
    );
    assert_eq!(
        ok(&admin(
            &dir,
            &["unlock-user", "--tenant", "contoso", "--username", "alice"],
            None
        ))
        .trim(),
        "unlocked alice"
    );
    assert!(
        ok(&admin(
            &dir,
            &["reset-mfa", "--tenant", "contoso", "--username", "alice"],
            None
        ))
        .starts_with("reset the second factor of alice")
    );
    assert_eq!(
        ok(&admin(
            &dir,
            &["trace", "0123456789abcdef0123456789abcdef"],
            None
        ))
        .trim(),
        "no sign-in event with the trace id 0123456789abcdef0123456789abcdef"
    );

    let bad = admin(
        &dir,
        &[
            "add-user",
            "--tenant",
            "contoso",
            "--username",
            "bob",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("TS80001") && err.contains("/password"),
        "{err}"
    );
    let missing = admin(
        &dir,
        &["add-user", "--tenant", "nowhere", "--username", "bob"],
        None,
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("TS80002"));

    let url = tessera_store::DatabaseUrl::Sqlite(dir.path().join("tessera-data/tessera.db"));
    let store = tessera_store::open(&url).await.unwrap();
    let t = store
        .tenant(&tessera_core::tenant::TenantSlug::parse("contoso").unwrap())
        .await
        .unwrap()
        .unwrap();
    let q = tessera_core::audit::AuditQuery {
        actor: Some("cli".into()),
        since: None,
        until: None,
        limit: 100,
    };
    let actions: Vec<String> = store
        .audit(t.id, &q)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "user.revoke_sessions",
            "keys.rotate",
            "app.secret.add",
            "app.create",
            "user.password.reset",
            "user.create",
            "tenant.create"
        ]
    );
}

/// `tessera admin master-key` shows the ring and what each key sealed; with `--reseal`
/// after a new key was put first, everything at rest moves under it.
#[test]
fn the_master_key_ring_from_the_command_line() {
    let dir = TempDir::new("admin-cli-ring");
    ok(&admin(&dir, &["add-tenant", "--slug", "contoso"], None));
    let old = std::fs::read_to_string(dir.path().join("tessera-data/master.key")).unwrap();
    let old_id = tessera_core::crypto::MasterKey::parse(&old)
        .unwrap()
        .primary_id()
        .to_string();
    let shown = ok(&admin(&dir, &["master-key"], None));
    assert!(
        shown.starts_with(&format!("ring (the first seals): {old_id}\n")),
        "{shown}"
    );
    assert!(shown.contains("to re-seal: 0;"), "{shown}");

    let new = tessera_core::crypto::MasterKey::generate_file_content(
        &tessera_core::rng::SequenceRng::new(5),
    );
    let new_id = tessera_core::crypto::MasterKey::parse(&new)
        .unwrap()
        .primary_id()
        .to_string();
    let ring = dir.path().join("ring.key");
    std::fs::write(&ring, format!("{new}{old}")).unwrap();
    let ring = ring.display().to_string();
    let shown = ok(&admin(
        &dir,
        &["master-key", "--master-key-file", &ring],
        None,
    ));
    // Two tenants' signing keys (an active and a next key of three algorithms each)
    // and the key-ring record.
    assert!(shown.contains(&format!("{old_id}: 13")), "{shown}");
    assert!(shown.contains("to re-seal: 13;"), "{shown}");
    let moved = ok(&admin(
        &dir,
        &["master-key", "--reseal", "--master-key-file", &ring],
        None,
    ));
    assert!(
        moved.contains(&format!("by sealing key: {new_id}: 13\n")),
        "{moved}"
    );
    assert!(moved.contains("to re-seal: 0;"), "{moved}");
    assert!(
        moved.contains(&format!("under {new_id}; refresh tokens")),
        "{moved}"
    );
}

/// `add-tenant` names the issuer only when it knows the public URL; without one the
/// server takes its issuers from the address it binds, which the command cannot know.
#[test]
fn add_tenant_names_the_issuer_only_under_a_known_public_url() {
    let dir = TempDir::new("admin-cli-issuer");
    let without = ok(&admin(&dir, &["add-tenant", "--slug", "contoso"], None));
    assert!(
        without.contains("the server's public URL followed by /contoso"),
        "{without}"
    );
    assert!(!without.contains("8080"), "{without}");
    let with = tessera()
        .args(["admin", "add-tenant", "--slug", "fabrikam"])
        .current_dir(dir.path())
        .env_remove("TESSERA_DATABASE_URL")
        .env("TESSERA_PUBLIC_URL", "https://id.example.com")
        .output()
        .unwrap();
    assert_eq!(
        ok(&with).trim(),
        "created tenant fabrikam (issuer https://id.example.com/fabrikam)"
    );
}

/// `delete-tenant` needs the slug twice; then the tenant is gone.
#[test]
fn delete_tenant_from_the_command_line() {
    let dir = TempDir::new("admin-cli-delete");
    ok(&admin(&dir, &["add-tenant", "--slug", "contoso"], None));
    let refused = admin(
        &dir,
        &[
            "delete-tenant",
            "--tenant",
            "contoso",
            "--confirm",
            "fabrikam",
        ],
        None,
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("/confirm"));
    assert_eq!(
        ok(&admin(
            &dir,
            &[
                "delete-tenant",
                "--tenant",
                "contoso",
                "--confirm",
                "contoso"
            ],
            None
        ))
        .trim(),
        "deleted tenant contoso and everything it held"
    );
    // Created anew: the slug is free.
    assert!(ok(&admin(&dir, &["add-tenant", "--slug", "contoso"], None)).starts_with("created"));
}

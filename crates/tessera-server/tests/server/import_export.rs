//! `tessera import` / `tessera export` on both backends: idempotent, atomic, every
//! invalid field named, unknown fields refused, never a secret in an export, and
//! export → import into an empty store reproduces the tenant.

use crate::support::{TempDir, tessera};
use std::process::Output;
use tessera_store::testing::{TestDatabase, postgres_or_skip};

const FIXTURE: &str = include_str!("../fixtures/contoso.json");

/// A store to run commands against: a SQLite directory, or a PostgreSQL database.
struct Target {
    dir: TempDir,
    url: Option<String>,
    _db: Option<TestDatabase>,
}

impl Target {
    fn sqlite() -> Self {
        Self {
            dir: TempDir::new("import"),
            url: None,
            _db: None,
        }
    }

    async fn postgres(test: &str) -> Option<Self> {
        let db = postgres_or_skip(test).await?;
        Some(Self {
            dir: TempDir::new("import-pg"),
            url: Some(db.url.clone()),
            _db: Some(db),
        })
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = tessera();
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("TESSERA_DATABASE_URL")
            .env_remove("TESSERA_MASTER_KEY_FILE");
        if let Some(url) = &self.url {
            cmd.env("TESSERA_DATABASE_URL", url);
        }
        cmd.output().unwrap()
    }

    fn write(&self, name: &str, content: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    }

    fn import(&self, content: &str, name: &str) -> Output {
        let path = self.write(name, content);
        self.run(&["import", &path])
    }

    fn export(&self, slug: &str) -> Output {
        self.run(&["export", "--tenant", slug])
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

async fn import_is_idempotent_and_export_hides_secrets(t: Target) {
    let first = ok(&t.import(FIXTURE, "contoso.json"));
    for line in [
        "contoso: created tenant",
        "contoso: created user alice",
        "contoso: created user Bob",
        "contoso: created group admins",
        "contoso: created api https://api.contoso.test",
        "contoso: created app contoso-web",
    ] {
        assert!(
            first.lines().any(|l| l == line),
            "{line:?} missing from:\n{first}"
        );
    }
    assert_eq!(ok(&t.import(FIXTURE, "contoso.json")).trim(), "no changes");

    let exported = ok(&t.export("contoso"));
    for secret in [
        "correct horse",
        "another long password",
        "s3cr3t-from-the-vault",
        "JBSWY3DP",
        "$argon2",
        // Members, not the policy's password_min_length.
        "\"password\"",
        "\"password_hash\"",
        "totp",
    ] {
        assert!(
            !exported.contains(secret),
            "export leaks {secret:?}:\n{exported}"
        );
    }
    let v: serde_json::Value = serde_json::from_str(&exported).unwrap();
    let tenant = &v["tenants"][0];
    assert_eq!(tenant["slug"], "contoso");
    assert_eq!(tenant["policy"]["blocked_ip_ranges"][0], "203.0.113.0/24");
    assert_eq!(tenant["apps"][0]["client_id"], "contoso-spa");
    assert!(tenant["apps"][1].get("secrets").is_none());
    assert_eq!(tenant["assignments"].as_array().unwrap().len(), 2);
    assert_eq!(tenant["groups"][0]["app_roles"][0]["role"], "Writer");
    assert_eq!(tenant["apis"][0]["client_id"], "contoso-web");
    let bob = tenant["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "Bob")
        .unwrap();
    assert_eq!(bob["app_roles"][0]["api"], "https://api.contoso.test");

    // The export imports cleanly into the same store (nothing to do) ...
    assert_eq!(
        ok(&t.import(&exported, "exported.json")).trim(),
        "no changes"
    );
    // ... and into an empty store, where it reproduces the tenant.
    let fresh = Target {
        dir: TempDir::new("reimport"),
        url: None,
        _db: None,
    };
    ok(&fresh.import(&exported, "exported.json"));
    assert_eq!(ok(&fresh.export("contoso")), exported);
}

async fn one_bad_field_anywhere_writes_nothing(t: Target) {
    let bad = FIXTURE
        .replace("https://app.contoso.test/cb", "http://app.contoso.test/cb")
        .replace("\"Bob\"", "\"B o b\"")
        .replace("\"role\": \"Writer\" } ] }", "\"role\": \"Boss\" } ] }");
    let o = t.import(&bad, "bad.json");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("/tenants/0/apps/0/redirect_uris/web/0: must use https"),
        "{err}"
    );
    assert!(err.contains("/tenants/0/users/1/username"), "{err}");
    // The renamed user also breaks the assignment that names bob, and the unknown role
    // appears on a user and a group: five fields in all.
    assert!(err.contains("/tenants/0/assignments/1/user"), "{err}");
    assert!(
        err.starts_with("error: 5 invalid field(s); nothing was imported"),
        "{err}"
    );
    assert!(
        err.contains("/tenants/0/users/1/app_roles/0/role: the API https://api.contoso.test has no app role Boss"),
        "{err}"
    );
    let missing = t.export("contoso");
    assert_eq!(missing.status.code(), Some(2), "the tenant was not created");
    assert!(stderr(&missing).contains("no tenant has the slug 'contoso'"));

    let unknown = t.import(
        &FIXTURE.replace(
            "\"admin_consented\": true",
            "\"admin_consented\": true, \"colour\": \"red\"",
        ),
        "u.json",
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("/tenants/0/apps/0/colour")
            && stderr(&unknown).contains("unknown field `colour`"),
        "{}",
        stderr(&unknown)
    );
}

async fn changes_are_reported_and_applied(t: Target) {
    ok(&t.import(FIXTURE, "contoso.json"));
    let changed = FIXTURE
        .replace("\"Alice Example\"", "\"Alice Renamed\"")
        .replace("\"lockout_threshold\": 5", "\"lockout_threshold\": 7");
    let report = ok(&t.import(&changed, "contoso.json"));
    assert_eq!(
        report.lines().collect::<Vec<_>>(),
        ["contoso: updated tenant", "contoso: updated user alice"],
        "{report}"
    );
    let exported: serde_json::Value = serde_json::from_str(&ok(&t.export("contoso"))).unwrap();
    assert_eq!(exported["tenants"][0]["policy"]["lockout_threshold"], 7);
    assert_eq!(exported["tenants"][0]["users"][0]["name"], "Alice Renamed");
}

#[tokio::test]
async fn sqlite_import_is_idempotent_and_export_hides_secrets() {
    import_is_idempotent_and_export_hides_secrets(Target::sqlite()).await;
}

#[tokio::test]
async fn postgres_import_is_idempotent_and_export_hides_secrets() {
    if let Some(t) = Target::postgres("server::import_export::postgres_idempotent").await {
        import_is_idempotent_and_export_hides_secrets(t).await;
    }
}

#[tokio::test]
async fn sqlite_one_bad_field_anywhere_writes_nothing() {
    one_bad_field_anywhere_writes_nothing(Target::sqlite()).await;
}

#[tokio::test]
async fn postgres_one_bad_field_anywhere_writes_nothing() {
    if let Some(t) = Target::postgres("server::import_export::postgres_bad_field").await {
        one_bad_field_anywhere_writes_nothing(t).await;
    }
}

#[tokio::test]
async fn sqlite_changes_are_reported_and_applied() {
    changes_are_reported_and_applied(Target::sqlite()).await;
}

#[tokio::test]
async fn postgres_changes_are_reported_and_applied() {
    if let Some(t) = Target::postgres("server::import_export::postgres_changes").await {
        changes_are_reported_and_applied(t).await;
    }
}

#[test]
fn toml_files_import_like_json() {
    let t = Target::sqlite();
    let json_path = t.write("c.json", FIXTURE);
    ok(&t.run(&["import", &json_path]));
    let toml_text = ok(&t.run(&["export", "--tenant", "contoso", "--format", "toml"]));
    assert!(toml_text.contains("[[tenants]]"), "{toml_text}");
    let other = Target::sqlite();
    let path = other.write("c.toml", &toml_text);
    ok(&other.run(&["import", &path]));
    assert_eq!(ok(&other.export("contoso")), ok(&t.export("contoso")));
}

#[test]
fn the_master_key_is_generated_once_with_owner_only_permissions() {
    let t = Target::sqlite();
    ok(&t.import(FIXTURE, "contoso.json"));
    let key = t.dir.path().join("tessera-data/master.key");
    let first = std::fs::read_to_string(&key).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Same key next time: the secret's keyed hash still matches, so nothing changes.
    assert_eq!(ok(&t.import(FIXTURE, "contoso.json")).trim(), "no changes");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), first);
    // A configured key file that is not a key is bad input.
    let bad = t.write("bad.key", "not a key");
    let o = t.run(&[
        "import",
        "--master-key-file",
        &bad,
        &t.write("c.json", FIXTURE),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--master-key-file"), "{}", stderr(&o));
    // A real key, but not the store's: `serve` refuses to start (it would report ready
    // and fail at the first sign-in) with the catalogued error, naming both keys.
    let store_key = tessera_core::crypto::MasterKey::parse(&first).unwrap();
    let other_text = tessera_core::crypto::MasterKey::generate_file_content(
        &tessera_core::rng::SequenceRng::new(99),
    );
    let other = tessera_core::crypto::MasterKey::parse(&other_text).unwrap();
    let other_path = t.write("other.key", &other_text);
    let o = t.run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--master-key-file",
        &other_path,
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("TS90004 MasterKeyMismatch"), "{err}");
    assert!(err.contains(&store_key.primary_id().to_string()), "{err}");
    assert!(err.contains(&other.primary_id().to_string()), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    // The store's key on the second line of a ring: it fits (a rotation's first step).
    let ring = t.write("ring.key", &format!("{other_text}{first}"));
    let o = t.run(&[
        "import",
        "--master-key-file",
        &ring,
        &t.write("d.json", FIXTURE),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A new tenant gets an active signing key of each algorithm, private parts sealed.
#[tokio::test]
async fn new_tenants_get_sealed_signing_keys() {
    use tessera_core::keys::{KeyState, SigningKey};
    use tessera_core::store::object::ObjectKind;
    let t = Target::sqlite();
    let report = ok(&t.import(FIXTURE, "contoso.json"));
    assert!(
        report.contains("contoso: created signing keys (EdDSA, ES256, RS256)"),
        "{report}"
    );
    let url = tessera_store::DatabaseUrl::Sqlite(t.dir.path().join("tessera-data/tessera.db"));
    let store = tessera_store::open(&url).await.unwrap();
    for slug in ["contoso", "admin"] {
        let tenant = store
            .tenant(&tessera_core::tenant::TenantSlug::parse_path(slug).unwrap())
            .await
            .unwrap()
            .unwrap();
        let keys: Vec<SigningKey> = store
            .objects(tenant.id, ObjectKind::SigningKey)
            .await
            .unwrap()
            .iter()
            .map(|o| o.decode().unwrap())
            .collect();
        let mut algs: Vec<(&str, KeyState)> =
            keys.iter().map(|k| (k.alg.as_str(), k.state)).collect();
        algs.sort_unstable_by_key(|(alg, state)| (*alg, *state == KeyState::Next));
        // An active key of each algorithm, and the next one, published from the start.
        assert_eq!(
            algs,
            [
                ("ES256", KeyState::Active),
                ("ES256", KeyState::Next),
                ("EdDSA", KeyState::Active),
                ("EdDSA", KeyState::Next),
                ("RS256", KeyState::Active),
                ("RS256", KeyState::Next)
            ],
            "{slug}"
        );
        for k in &keys {
            assert!(k.private_sealed.starts_with("v1."), "sealed, not clear");
            assert!(k.public_jwk.get("d").is_none());
        }
    }
    let exported = ok(&t.export("contoso"));
    assert!(
        !exported.contains("private_sealed") && !exported.contains("public_jwk"),
        "keys are not exported"
    );

    // Every object the import created is in the audit log, by the `import` actor.
    let contoso = store
        .tenant(&tessera_core::tenant::TenantSlug::parse("contoso").unwrap())
        .await
        .unwrap()
        .unwrap();
    let all = tessera_core::audit::AuditQuery {
        actor: Some("import".into()),
        since: None,
        until: None,
        limit: 1000,
    };
    let log = store.audit(contoso.id, &all).await.unwrap();
    let actions: Vec<String> = log
        .iter()
        .map(|e| format!("{} {}", e.action, e.target))
        .collect();
    for expected in [
        "tenant.create tenant:contoso",
        "user.create user:alice",
        "app.create app:contoso-web",
        "group.create group:staff",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} missing from {actions:?}"
        );
    }
    let user = log.iter().find(|e| e.target == "user:alice").unwrap();
    assert!(
        user.changes.contains(&"password_hash".to_owned()),
        "{:?}",
        user.changes
    );
    // A second import changes nothing and logs nothing.
    drop(store);
    assert_eq!(ok(&t.import(FIXTURE, "contoso.json")).trim(), "no changes");
    let store = tessera_store::open(&url).await.unwrap();
    assert_eq!(
        store.audit(contoso.id, &all).await.unwrap().len(),
        log.len()
    );
}

/// The tenant file's reference and JSON Schema are generated from the importer's own
/// types; this fails when the committed ones are out of date. Regenerate with
/// `cargo run -q -- import --schema > docs/tenant-file.schema.json` and
/// `cargo run -q -- import --schema --markdown > docs/tenant-file.md`.
#[test]
fn the_committed_tenant_file_reference_is_current() {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    for (file, args) in [
        ("tenant-file.schema.json", &["import", "--schema"][..]),
        ("tenant-file.md", &["import", "--schema", "--markdown"][..]),
    ] {
        let committed = std::fs::read_to_string(docs.join(file)).unwrap();
        let out = tessera().args(args).output().unwrap();
        assert!(out.status.success());
        assert!(
            committed == String::from_utf8(out.stdout).unwrap(),
            "docs/{file} is stale: run `cargo run -q -- {} > docs/{file}`",
            args.join(" ")
        );
    }
}

/// Every member of every tenant file the repository ships (the getting-started guide's,
/// the benchmark's, this suite's fixture) is one the schema names, at its place: a
/// schema that left a field out, or a file using one the importer dropped, fails here.
#[test]
fn the_shipped_tenant_files_use_only_what_the_schema_names() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../docs/tenant-file.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    fn resolve<'a>(
        schema: &'a serde_json::Value,
        node: &'a serde_json::Value,
    ) -> &'a serde_json::Value {
        match node.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => &schema["$defs"][r.rsplit('/').next().unwrap()],
            None => node,
        }
    }
    fn walk(
        schema: &serde_json::Value,
        node: &serde_json::Value,
        value: &serde_json::Value,
        at: &str,
    ) {
        let node = resolve(schema, node);
        if let Some(options) = node
            .get("anyOf")
            .or_else(|| node.get("oneOf"))
            .and_then(|o| o.as_array())
        {
            // A value fits one of the options (a scope is a name or a table).
            let fits = |o: &serde_json::Value| {
                let o = resolve(schema, o);
                match value {
                    serde_json::Value::Object(_) => o.get("properties").is_some(),
                    _ => o.get("properties").is_none(),
                }
            };
            if let Some(option) = options.iter().find(|o| fits(o)) {
                walk(schema, option, value, at);
            }
            return;
        }
        match value {
            serde_json::Value::Object(members) if node.get("properties").is_some() => {
                for (name, member) in members {
                    let property = node["properties"]
                        .get(name)
                        .unwrap_or_else(|| panic!("{at}/{name} is not in the schema"));
                    walk(schema, property, member, &format!("{at}/{name}"));
                }
            }
            serde_json::Value::Array(items) => {
                if let Some(item) = node.get("items") {
                    for (i, v) in items.iter().enumerate() {
                        walk(schema, item, v, &format!("{at}/{i}"));
                    }
                }
            }
            _ => {}
        }
    }
    let guide = include_str!("../../../../docs/getting-started.md");
    let guide_file = guide
        .split("```json\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap();
    let bench = include_str!("../../../../benches/tenant.json");
    for (name, text) in [
        ("the guide's", guide_file.to_owned()),
        ("the benchmark's", bench.to_owned()),
        ("the fixture", crate::oidc::tenant_file().to_string()),
    ] {
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        walk(&schema, &schema, &value, name);
    }
}

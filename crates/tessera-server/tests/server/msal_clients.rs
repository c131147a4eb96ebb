//! Microsoft's own client libraries against Tessera: the MSAL Python suite
//! (tests/msal/python, pytest) and the MSAL Node suite (tests/msal/node, `node --test`),
//! each against a `tessera serve` process of its own that serves HTTPS with a
//! `tessera dev-cert` certificate and holds tests/msal/tenant.json. Skipped visibly
//! without Python's `msal`, `pytest` and `selenium` (which drives Chromium through one
//! sign-in) or without `@azure/msal-node` (in `MSAL_NODE`, by default where `.ci/run`
//! installs it); a failure under TESSERA_TEST_REQUIRE_ALL=1.

use super::support::{Process, TempDir, run_in};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where `.ci/run` installs MSAL Node.
const MSAL_NODE: &str = "/opt/msal-node/node_modules/@azure/msal-node";

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A Tessera process serving HTTPS with tests/msal/tenant.json, its directory (which
/// holds the CA at `certs/tessera-dev-ca.pem`), its authority for the tenant and the
/// bootstrap admin credential it printed (the suites change an app's policy with it).
fn tessera_over_https() -> (TempDir, Process, String, String) {
    let dir = TempDir::new("msal");
    let made = run_in(&dir, ["dev-cert", "--dir", "certs"], None);
    assert!(made.status.success(), "{made:?}");
    let tenant = repository().join("tests/msal/tenant.json");
    let imported = run_in(&dir, ["import", tenant.to_str().unwrap()], None);
    assert!(imported.status.success(), "{imported:?}");
    let server = Process::serve_in(
        &dir,
        &[
            "--tls-cert",
            "certs/tessera-dev-cert.pem",
            "--tls-key",
            "certs/tessera-dev-key.pem",
        ],
    );
    let authority = format!("{}/fabrikam", server.base);
    let mut server = server;
    let credential = server.admin_credential();
    (dir, server, authority, credential)
}

/// Runs `command` to its end; its output is the assertion's message when it fails.
fn passes(mut command: Command, what: &str) {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn msal_python_works_unchanged() {
    let found = Command::new("python3")
        .args(["-c", "import msal, pytest, selenium"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        tessera_store::testing::skip(
            "msal_clients::msal_python",
            "python3 with msal, pytest and selenium is not installed (pip install msal pytest selenium)",
        );
        return;
    }
    let (dir, _server, authority, credential) = tessera_over_https();
    let mut pytest = Command::new("python3");
    pytest
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(repository().join("tests/msal/python"))
        .env("TESSERA_AUTHORITY", &authority)
        .env("TESSERA_ADMIN_TOKEN", &credential)
        .env(
            "REQUESTS_CA_BUNDLE",
            dir.path().join("certs/tessera-dev-ca.pem"),
        );
    passes(pytest, "the MSAL Python suite");
}

#[test]
fn msal_node_works_unchanged() {
    let module = std::env::var("MSAL_NODE").unwrap_or_else(|_| MSAL_NODE.to_owned());
    let node = Command::new("node").arg("--version").output();
    if !Path::new(&module).exists() || !node.is_ok_and(|o| o.status.success()) {
        tessera_store::testing::skip(
            "msal_clients::msal_node",
            "node or @azure/msal-node is not installed (npm install --prefix /opt/msal-node @azure/msal-node)",
        );
        return;
    }
    let (dir, _server, authority, credential) = tessera_over_https();
    let mut suite = Command::new("node");
    suite
        .arg("--test")
        .arg(repository().join("tests/msal/node/msal_node.test.cjs"))
        .env("TESSERA_AUTHORITY", &authority)
        .env("TESSERA_ADMIN_TOKEN", &credential)
        .env("MSAL_NODE", &module)
        .env(
            "NODE_EXTRA_CA_CERTS",
            dir.path().join("certs/tessera-dev-ca.pem"),
        );
    passes(suite, "the MSAL Node suite");
}

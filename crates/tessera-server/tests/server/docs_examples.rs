//! The shell examples in README.md and docs/, run: every command a reader is shown is
//! either run here against a real `tessera` (curl requests sent as written, `$CREDENTIAL`
//! and `127.0.0.1:8080` standing for this server's), or is the test command this suite
//! is (README's and configuration.md's `cargo test`). A new kind of command in a
//! document fails `every_shell_command_in_the_docs_is_run_somewhere` until a test runs
//! it. docs/getting-started.md has its own test (`getting_started.rs`).

use crate::support::{Process, TempDir, tessera};
use serde_json::Value;

fn docs_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(docs_dir().join(relative)).unwrap()
}

/// The first line of `out` that contains `needle`, among its first 50.
fn line_with(out: impl std::io::Read, needle: &str) -> String {
    let mut out = std::io::BufReader::new(out);
    for _ in 0..50 {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut out, &mut line).unwrap_or(0) == 0 {
            break;
        }
        if line.contains(needle) {
            return line;
        }
    }
    String::new()
}

/// The fenced blocks of `language` in `text`, in order.
pub fn fenced(text: &str, language: &str) -> Vec<String> {
    let fence = format!("```{language}\n");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&fence) {
        let body = &rest[start + fence.len()..];
        let end = body.find("```").expect("a closed block");
        out.push(body[..end].to_owned());
        rest = &body[end + 3..];
    }
    out
}

/// The commands of a shell block: a newline outside quotes ends one (a backslash before
/// it continues the line), and `#` after a blank outside quotes starts a comment.
fn commands(block: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut chars = block.chars().peekable();
    while let Some(c) = chars.next() {
        if comment {
            if c == '\n' {
                comment = false;
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                current.push(c);
            }
            (None, '\\') if chars.peek() == Some(&'\n') => {
                chars.next();
                current.push(' ');
            }
            (None, '#') if current.is_empty() || current.ends_with(char::is_whitespace) => {
                comment = true;
            }
            (None, '\n') => out.push(std::mem::take(&mut current)),
            (None, c) => current.push(c),
        }
    }
    out.push(current);
    out.into_iter()
        .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|c| !c.is_empty())
        .collect()
}

/// Shell words: single and double quotes, no expansion but `$CREDENTIAL`.
fn words(command: &str, credential: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started {
                    out.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(word);
    }
    out.into_iter()
        .map(|w| w.replace("$CREDENTIAL", credential))
        .collect()
}

/// A curl command line sent with reqwest to `base` (in place of 127.0.0.1:8080):
/// `-H`, `-d` (form fields, or the body when a JSON content type is set), `-u`.
async fn curl(command: &str, base: &str, credential: &str) -> (u16, Value) {
    let words = words(command, credential);
    assert_eq!(words[0], "curl", "{command}");
    let (mut headers, mut data, mut user, mut url) = (Vec::new(), Vec::new(), None, None);
    let mut i = 1;
    while i < words.len() {
        match words[i].as_str() {
            "-H" => headers.push(words[i + 1].clone()),
            "-d" => data.push(words[i + 1].clone()),
            "-u" => user = Some(words[i + 1].clone()),
            w if w.starts_with("http://127.0.0.1:8080") => {
                url = Some(w.replacen("http://127.0.0.1:8080", base, 1));
                i += 1;
                continue;
            }
            other => panic!("an option this runner does not know: {other} in {command}"),
        }
        i += 2;
    }
    let url = url.unwrap_or_else(|| panic!("no URL in {command}"));
    let client = super::support::http_client().build().unwrap();
    let mut request = if data.is_empty() {
        client.get(&url)
    } else {
        client.post(&url)
    };
    let json = headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("content-type: application/json"));
    for h in &headers {
        let (k, v) = h.split_once(':').unwrap();
        request = request.header(k.trim(), v.trim());
    }
    if let Some(user) = user {
        let (id, secret) = user.split_once(':').unwrap();
        request = request.basic_auth(id, Some(secret));
    }
    if !data.is_empty() {
        request = if json {
            request.body(data.join(""))
        } else {
            request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    data.iter()
                        .map(|d| match d.split_once('=') {
                            Some((k, v)) => format!(
                                "{}={}",
                                k,
                                url::form_urlencoded::byte_serialize(v.as_bytes())
                                    .collect::<String>()
                            ),
                            None => d.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join("&"),
                )
        };
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A new bootstrap credential of a server's store (docs/getting-started.md, step 6).
fn credential(dir: &TempDir) -> String {
    let out = crate::support::run_in(
        dir,
        [
            "admin",
            "add-secret",
            "--tenant",
            "admin",
            "--client-id",
            "tessera-bootstrap",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned()
}

/// Each shell command of README.md and docs/ is of a kind a test here (or
/// getting_started.rs) runs.
#[test]
fn every_shell_command_in_the_docs_is_run_somewhere() {
    let mut files: Vec<(String, String)> = std::fs::read_dir(docs_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    files.push((
        "README.md".into(),
        std::fs::read_to_string(docs_dir().join("../README.md")).unwrap(),
    ));
    for (name, text) in files {
        for block in fenced(&text, "sh") {
            for command in commands(&block) {
                let run_here = match name.as_str() {
                    "getting-started.md" => true,
                    "README.md" => {
                        command == "cargo run --release -- serve"
                            || command.ends_with("cargo test --workspace")
                    }
                    "configuration.md" => {
                        command.starts_with("curl ")
                            || command.starts_with("tessera --config ")
                            || command.ends_with("cargo test --workspace")
                    }
                    "grants.md" => command.starts_with("curl "),
                    _ => false,
                };
                assert!(run_here, "{name}: no test runs `{command}`");
            }
        }
    }
}

/// README: `cargo run --release -- serve` is the binary's `serve` with no configuration.
#[tokio::test]
async fn the_readme_runs_tessera_with_no_configuration() {
    let readme = std::fs::read_to_string(docs_dir().join("../README.md")).unwrap();
    let run = fenced(&readme, "sh")
        .into_iter()
        .flat_map(|b| commands(&b))
        .find(|c| c.starts_with("cargo run"))
        .unwrap();
    let args: Vec<&str> = run
        .split(" -- ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(args, ["serve"]);
    let server = Process::serve(&[]);
    assert!(server.dir.path().join("tessera-data/tessera.db").exists());
    // The request the README suggests next, and the page it names.
    assert!(
        readme.contains("curl -H 'Accept: application/json' 127.0.0.1:8080/errors/InvalidScope")
    );
    let entry: Value = super::support::http_client()
        .build()
        .unwrap()
        .get(format!("{}/errors/InvalidScope", server.base))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(entry["name"], "InvalidScope");
}

/// configuration.md: the config file example is read as written (with the TESSERA_*
/// variables that the page says win over it pointing the store and key at a scratch
/// directory), and its admin API requests succeed with the bootstrap credential.
#[tokio::test]
async fn the_configuration_examples_run() {
    let page = read("configuration.md");
    let config = fenced(&page, "toml").remove(0);
    let dir = TempDir::new("docs-config");
    let path = dir.path().join("tessera.toml");
    std::fs::write(&path, &config).unwrap();
    let command = fenced(&page, "sh")
        .into_iter()
        .flat_map(|b| commands(&b))
        .find(|c| c.starts_with("tessera --config "))
        .unwrap();
    let args: Vec<String> = command
        .split_whitespace()
        .skip(1)
        .map(|w| w.replace("/etc/tessera/tessera.toml", &path.display().to_string()))
        .collect();
    std::fs::write(
        dir.path().join("master.key"),
        tessera_core::crypto::MasterKey::generate_file_content(&tessera_core::rng::OsRng),
    )
    .unwrap();
    let mut child = tessera()
        .args(&args)
        .current_dir(dir.path())
        .env("TESSERA_DATABASE_URL", "sqlite://data/tessera.db")
        .env("TESSERA_MASTER_KEY_FILE", dir.path().join("master.key"))
        .env("TESSERA_LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The file's other settings hold: JSON logs, and its public URL in the ready line.
    let ready = line_with(child.stdout.take().unwrap(), "ready on http://");
    let _ = child.kill();
    let _ = child.wait();
    assert!(ready.starts_with('{'), "JSON logs: {ready}");
    assert!(ready.contains("https://login.example.com"), "{ready}");

    // The bootstrap line the page shows is the one the first start prints on stderr.
    let shown = page
        .split("```\n")
        .find(|b| b.starts_with("bootstrap admin credential"))
        .expect("the page shows the bootstrap line");
    let shown = shown.trim_end().trim_end_matches('…');
    let scratch = TempDir::new("docs-bootstrap");
    let mut first = tessera()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(scratch.path())
        .env_remove("TESSERA_DATABASE_URL")
        .env_remove("TESSERA_MASTER_KEY_FILE")
        .env_remove("TESSERA_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let printed = line_with(first.stderr.take().unwrap(), "bootstrap admin credential");
    let _ = first.kill();
    let _ = first.wait();
    assert!(
        printed.starts_with(shown),
        "printed {printed:?}, shown {shown:?}"
    );

    // The admin API requests, in order, against a server of our own.
    let server = Process::serve(&[]);
    let credential = credential(&server.dir);
    for block in fenced(&page, "sh") {
        for command in commands(&block)
            .into_iter()
            .filter(|c| c.starts_with("curl "))
        {
            let (status, body) = curl(&command, &server.base, &credential).await;
            assert!((200..300).contains(&status), "{command}: {status} {body}");
        }
    }
}

/// grants.md: the device flow's two requests, with the page's app registered in a
/// tenant that has the API it names; and the on-behalf-of request's shape, which is
/// refused only for its placeholder token.
#[tokio::test]
async fn the_grant_examples_run() {
    let page = read("grants.md");
    let snippets = fenced(&page, "json");
    let tv: Value = serde_json::from_str(&snippets[0]).unwrap();
    let middle: Value = serde_json::from_str(&format!("{{{}}}", snippets[1])).unwrap();
    let secret = "middle-app-secret-0123456789abcdefghijklmn";
    let mut middle_apps = middle["apps"].clone();
    middle_apps[0]["secrets"][0]["value"] = secret.into();
    let mut apps = vec![tv];
    apps.extend(middle_apps.as_array().unwrap().iter().cloned());
    let mut apis = vec![
        serde_json::json!({ "identifier": "https://api.contoso.test", "name": "Contoso API", "scopes": ["read"] }),
        serde_json::json!({ "identifier": "https://orders.contoso.test", "name": "Orders", "scopes": ["read"] }),
    ];
    apis.extend(middle["apis"].as_array().unwrap().iter().cloned());
    let file =
        serde_json::json!({ "tenants": [ { "slug": "contoso", "apis": apis, "apps": apps } ] });
    let server = Process::serve(&[]);
    let path = server.dir.path().join("contoso.json");
    std::fs::write(&path, file.to_string()).unwrap();
    let out = crate::support::run_in(&server.dir, ["import", &path.display().to_string()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let curls: Vec<String> = fenced(&page, "sh")
        .into_iter()
        .flat_map(|b| commands(&b))
        .filter(|c| c.starts_with("curl "))
        .collect();
    assert_eq!(curls.len(), 3, "{curls:?}");
    let (status, started) = curl(&curls[0], &server.base, "").await;
    assert_eq!(status, 200, "{started}");
    let poll = curls[1].replace(
        "device_code=…",
        &format!("device_code={}", started["device_code"].as_str().unwrap()),
    );
    let (status, body) = curl(&poll, &server.base, "").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending")),
        "{body}"
    );
    // RFC 8693 §2.2.2: a subject token that is not valid is invalid_request, its code
    // saying which check failed; the client, the grant type and the parameters passed.
    let exchange = curls[2].replace("middle-app:SECRET", &format!("middle-app:{secret}"));
    let (status, body) = curl(&exchange, &server.base, "").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("subject_token cannot be exchanged"),
        "{body}"
    );
}

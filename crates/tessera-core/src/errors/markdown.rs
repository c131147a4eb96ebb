//! `docs/errors.md`, generated from the catalogue. A test in the server crate fails when
//! the committed file differs from this output.

use super::{CATALOG, Entry, Family};
use std::fmt::Write;

/// The whole reference document.
pub fn document() -> String {
    let mut out = String::new();
    out.push_str("# Tessera error reference\n\n");
    out.push_str(
        "Generated from the error catalogue in `crates/tessera-core/src/errors/catalog.rs` \
         by `tessera explain --all --markdown`; do not edit by hand.\n\n",
    );
    out.push_str(
        "Every error Tessera returns carries one of these codes. A running server serves the \
         same entries at `/errors` and `/errors/{code}`.\n\n",
    );
    for family in Family::ALL {
        let entries: Vec<&Entry> = CATALOG.iter().filter(|e| e.family() == family).collect();
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {} — {}\n", family.as_str(), family.about());
        out.push_str("| code | name | OAuth error | HTTP |\n|---|---|---|---|\n");
        for e in &entries {
            let _ = writeln!(
                out,
                "| [{code}](#{anchor}) | {name} | {oauth} | {status} |",
                code = e.code_str(),
                anchor = e.code_str().to_lowercase(),
                name = e.name,
                oauth = e.oauth_error.map_or("(page only)", |o| o.as_str()),
                status = e.status,
            );
        }
        out.push('\n');
        for e in entries {
            out.push_str(&entry(e));
        }
    }
    out
}

/// One entry as a Markdown section; `tessera explain` prints the same text.
pub fn entry(e: &Entry) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### {} {}\n", e.code_str(), e.name);
    let _ = writeln!(out, "> {}\n", e.message);
    let _ = writeln!(
        out,
        "- OAuth error: {}",
        e.oauth_error
            .map_or("none (shown on a page or as problem details)", |o| o
                .as_str())
    );
    let _ = writeln!(out, "- HTTP status: {}", e.status);
    let params = e.parameters();
    if !params.is_empty() {
        let _ = writeln!(
            out,
            "- Parameters: {}",
            params
                .iter()
                .map(|p| format!("`{{{p}}}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(
        out,
        "- Retryable: {}",
        if e.retryable { "yes" } else { "no" }
    );
    let _ = writeln!(
        out,
        "- Sent to the redirect URI: {}\n",
        if e.redirectable {
            "yes"
        } else {
            "no, shown on an error page or in the response"
        }
    );
    out.push_str("**Common causes**\n\n");
    for c in e.causes {
        let _ = writeln!(out, "- {c}");
    }
    let _ = writeln!(
        out,
        "\n**What the app developer should do:** {}\n",
        e.developer_action
    );
    let _ = writeln!(out, "**What the user should do:** {}\n", e.user_action);
    out
}

//! The tenant file's reference, generated from the types the importer reads it with
//! (`file.rs`): a JSON Schema (draft 2020-12, for editors to check a file as it is
//! written) and the Markdown page docs/tenant-file.md made from that schema, so the
//! documentation cannot say what the importer does not do. Field descriptions are the
//! types' doc comments; defaults are the importer's own.

use super::file::TenantFile;
use serde_json::{Map, Value};
use std::fmt::Write;

/// The tenant file's JSON Schema.
pub fn schema() -> Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<TenantFile>();
    let mut value = serde_json::to_value(schema).unwrap_or_default();
    if let Some(root) = value.as_object_mut() {
        root.insert("title".into(), "Tessera tenant file".into());
    }
    value
}

/// The type of a property, in words, with links to the definitions it names.
fn type_of(p: &Value) -> String {
    if let Some(target) = p.get("$ref").and_then(Value::as_str) {
        let name = target.rsplit('/').next().unwrap_or(target);
        return format!("[{name}](#{})", name.to_lowercase());
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = p.get(key).and_then(Value::as_array) {
            let words: Vec<String> = options
                .iter()
                .filter(|o| o.get("type") != Some(&Value::from("null")))
                .map(type_of)
                .collect();
            return words.join(" or ");
        }
    }
    if let Some(values) = p.get("enum").and_then(Value::as_array) {
        let words: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
        return format!("one of {}", words.join(", "));
    }
    if let Some(value) = p.get("const") {
        return format!("`{value}`");
    }
    let types: Vec<&str> = match p.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let types: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
    match types.as_slice() {
        ["array"] => match p.get("items") {
            Some(items) => format!("list of {}", type_of(items)),
            None => "list".to_owned(),
        },
        [] => "any".to_owned(),
        ts => ts.join(" or "),
    }
}

/// One line of Markdown: newlines and table separators taken out.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// The properties of an object schema as a table.
fn properties(out: &mut String, def: &Map<String, Value>) {
    let Some(props) = def.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: Vec<&str> = def
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push_str("| field | type | required or default | description |\n|---|---|---|---|\n");
    for (name, p) in props {
        let needed = if required.contains(&name.as_str()) {
            "required".to_owned()
        } else {
            match p.get("default") {
                Some(d) => format!("default `{d}`"),
                None => "optional".to_owned(),
            }
        };
        let description = p.get("description").and_then(Value::as_str).unwrap_or("");
        let _ = writeln!(
            out,
            "| `{name}` | {} | {needed} | {} |",
            type_of(p),
            cell(description)
        );
    }
}

/// docs/tenant-file.md.
pub fn markdown() -> String {
    let schema = schema();
    let mut out = String::from(
        "# The tenant file\n\n\
         Generated from the importer's own types by `tessera import --schema --markdown`; \
         the JSON Schema beside it, [tenant-file.schema.json](tenant-file.schema.json), comes \
         from the same types (`tessera import --schema`), and editors that read JSON Schema \
         check a file against it as it is written. A test fails when either is out of date.\n\n\
         A tenant file is JSON, or TOML when its name ends in `.toml` (the same fields: a \
         table for each object, `[[tenants]]` for each list item). `tessera import` refuses \
         any field this page does not list, and reports every invalid one with its JSON \
         pointer before writing anything. Secrets, passwords and TOTP secrets are read on \
         import and never exported.\n\n## TenantFile\n\n",
    );
    if let Some(root) = schema.as_object() {
        properties(&mut out, root);
    }
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (name, def) in &defs {
        let _ = write!(out, "\n## {name}\n\n");
        let Some(def) = def.as_object() else {
            continue;
        };
        if let Some(d) = def.get("description").and_then(Value::as_str) {
            let _ = write!(out, "{}\n\n", cell(d));
        }
        if def.contains_key("properties") {
            properties(&mut out, def);
        } else {
            let _ = writeln!(out, "{}.", type_of(&Value::Object(def.clone())));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field the importer reads is in the reference, and nothing else: the
    /// reference is made from the importer's types, checked here against a file that
    /// uses each kind of object.
    #[test]
    fn the_reference_lists_the_fields_the_importer_reads() {
        let text = markdown();
        for field in [
            "`tenants`",
            "`slug`",
            "`policy`",
            "`users`",
            "`password`",
            "`totp_secret`",
            "`apis`",
            "`scopes`",
            "`access_token_signing_alg`",
            "`apps`",
            "`redirect_uris`",
            "`grant_types`",
            "`permissions`",
            "`id_token_signed_response_alg`",
            "`enabled`",
            "`assignments`",
            "`lockout_threshold`",
            "`admin_consent_required`",
        ] {
            assert!(text.contains(field), "{field} missing");
        }
        let schema = schema();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        // deny_unknown_fields becomes additionalProperties: false, as the importer
        // refuses an unknown field.
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["$defs"]["AppDoc"]["additionalProperties"], false);
    }
}

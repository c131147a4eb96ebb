//! Message templates: `{name}` placeholders filled from an error's parameters.

/// The placeholder names in `template`, in order of first appearance, or a description
/// of why the template is malformed (unbalanced braces, an empty or odd name).
pub fn placeholders(template: &'static str) -> Result<Vec<&'static str>, String> {
    let mut names: Vec<&'static str> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err(format!("'}}' without '{{' in {template:?}"));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("'{{' without '}}' in {template:?}"))?;
        let name = &after[..close];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(format!(
                "placeholder {{{name}}} must be lowercase letters and '_'"
            ));
        }
        if !names.contains(&name) {
            names.push(name);
        }
        rest = &after[close + 1..];
    }
    Ok(names)
}

/// Fills `template` with `params`. A placeholder without a value is written as its name
/// in angle brackets, so a missing parameter is visible rather than silently dropped.
pub fn fill(template: &str, params: &[(&'static str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match params.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('<');
                        out.push_str(name);
                        out.push('>');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_once_each_in_order() {
        assert_eq!(
            placeholders("{scope} is not in {resources}; {scope} again"),
            Ok(vec!["scope", "resources"])
        );
        assert!(placeholders("unbalanced {scope").is_err());
        assert!(placeholders("odd } brace").is_err());
        assert!(placeholders("{Bad-Name}").is_err());
    }

    #[test]
    fn fill_substitutes_values_and_marks_missing_ones() {
        let params = vec![("scope", "wrte".to_owned())];
        assert_eq!(
            fill("The scope '{scope}' is unknown ({why}).", &params),
            "The scope 'wrte' is unknown (<why>)."
        );
    }
}

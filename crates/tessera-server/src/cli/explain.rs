//! `tessera explain CODE|NAME`: prints a catalogue entry (text or JSON), or with
//! `--all --markdown` the whole reference that is committed as docs/errors.md.

use crate::cli::ExplainArgs;
use std::process::ExitCode;
use tessera_core::errors::{CATALOG, lookup, markdown};

/// What to print, or the one-line reason it can't be printed.
pub fn output(args: &ExplainArgs) -> Result<String, String> {
    if args.all {
        if args.markdown {
            return Ok(markdown::document());
        }
        if args.json {
            let all: Vec<_> = CATALOG.iter().map(crate::routes::entry_json).collect();
            return serde_json::to_string_pretty(&all).map_err(|e| e.to_string());
        }
        return Ok(CATALOG
            .iter()
            .map(markdown::entry)
            .collect::<Vec<_>>()
            .join("\n"));
    }
    let key = args.key.as_deref().unwrap_or_default();
    let entry = lookup(key).ok_or_else(|| {
        format!("no catalogue entry has the code or name '{key}' (try `tessera explain --all`)")
    })?;
    if args.json {
        return serde_json::to_string_pretty(&crate::routes::entry_json(entry))
            .map_err(|e| e.to_string());
    }
    Ok(markdown::entry(entry))
}

pub fn run(args: &ExplainArgs) -> ExitCode {
    match output(args) {
        Ok(text) => match crate::cli::fatal::print_out(&format!("{}\n", text.trim_end())) {
            Ok(()) => ExitCode::SUCCESS,
            Err(fatal) => {
                eprintln!("error: {}", fatal.message);
                ExitCode::from(fatal.status)
            }
        },
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::from(2)
        }
    }
}

//! `--database-url`: `sqlite://PATH` or `postgres://…` (also `postgresql://…`).

use sqlx::postgres::PgConnectOptions;
use std::path::PathBuf;
use std::str::FromStr;

/// A parsed, validated database URL.
#[derive(Debug, Clone)]
pub enum DatabaseUrl {
    /// A file path; relative paths are relative to the working directory.
    Sqlite(PathBuf),
    Postgres(Box<PgConnectOptions>),
}

/// Why a database URL was refused; the message names the problem in one line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DatabaseUrlError {
    #[error("unsupported scheme '{0}' (expected sqlite://PATH or postgres://...)")]
    UnsupportedScheme(String),
    #[error("missing scheme (expected sqlite://PATH or postgres://...)")]
    MissingScheme,
    #[error("sqlite:// needs a file path, e.g. sqlite://tessera-data/tessera.db")]
    EmptySqlitePath,
    #[error("invalid PostgreSQL URL: {0}")]
    InvalidPostgres(String),
}

impl FromStr for DatabaseUrl {
    type Err = DatabaseUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) = s.split_once("://").ok_or(DatabaseUrlError::MissingScheme)?;
        match scheme {
            "sqlite" => {
                // Accept sqlite://relative/path and sqlite:///absolute/path; drop any
                // query string (sqlx-style `?mode=rwc`), which we do not interpret.
                let path = rest.split('?').next().unwrap_or_default();
                if path.is_empty() {
                    return Err(DatabaseUrlError::EmptySqlitePath);
                }
                Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
            }
            "postgres" | "postgresql" => PgConnectOptions::from_str(s)
                .map(|o| DatabaseUrl::Postgres(Box::new(o)))
                .map_err(|e| DatabaseUrlError::InvalidPostgres(one_line(&e.to_string()))),
            other => Err(DatabaseUrlError::UnsupportedScheme(other.to_owned())),
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_backends_and_names_the_problem_otherwise() {
        assert!(matches!(
            "sqlite://tessera-data/tessera.db".parse::<DatabaseUrl>(),
            Ok(DatabaseUrl::Sqlite(p)) if p.as_path() == std::path::Path::new("tessera-data/tessera.db")
        ));
        assert!(matches!(
            "sqlite:///var/lib/tessera.db".parse::<DatabaseUrl>(),
            Ok(DatabaseUrl::Sqlite(p)) if p.as_path() == std::path::Path::new("/var/lib/tessera.db")
        ));
        assert!(matches!(
            "postgres://postgres@127.0.0.1:5432/test".parse::<DatabaseUrl>(),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert_eq!(
            "mysql://x".parse::<DatabaseUrl>().err(),
            Some(DatabaseUrlError::UnsupportedScheme("mysql".into()))
        );
        assert_eq!(
            "tessera.db".parse::<DatabaseUrl>().err(),
            Some(DatabaseUrlError::MissingScheme)
        );
        assert_eq!(
            "sqlite://".parse::<DatabaseUrl>().err(),
            Some(DatabaseUrlError::EmptySqlitePath)
        );
        assert!(matches!(
            "postgres://u@h:notaport/db".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::InvalidPostgres(_))
        ));
    }
}

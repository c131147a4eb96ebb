//! The browsable error catalogue: `/errors` (every entry by family, filterable by code
//! or name) and `/errors/{code-or-name}`, as HTML or, with `Accept: application/json`,
//! as JSON.

use crate::http::error_response::{ErrorFormat, ErrorResponse, prefers_html};
use crate::http::extract::{Path, Query};
use crate::pages;
use crate::runtime::state::AppState;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use minijinja::context;
use serde::{Deserialize, Serialize};
use tessera_core::errors::{CATALOG, CatalogError, Entry, ErrorName, Family, lookup};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/errors", get(index))
        .route("/errors/{key}", get(entry))
}

/// An entry as JSON and as the templates see it.
#[derive(Serialize)]
pub struct EntryView {
    pub code: String,
    pub number: u32,
    pub name: &'static str,
    pub family: &'static str,
    pub oauth_error: Option<&'static str>,
    pub status: u16,
    pub message: &'static str,
    pub parameters: Vec<&'static str>,
    pub causes: &'static [&'static str],
    pub developer_action: &'static str,
    pub user_action: &'static str,
    pub retryable: bool,
    pub redirectable: bool,
}

impl From<&'static Entry> for EntryView {
    fn from(e: &'static Entry) -> Self {
        Self {
            code: e.code_str(),
            number: e.code,
            name: e.name,
            family: e.family().as_str(),
            oauth_error: e.oauth_error.map(|o| o.as_str()),
            status: e.status,
            message: e.message,
            parameters: e.parameters(),
            causes: e.causes,
            developer_action: e.developer_action,
            user_action: e.user_action,
            retryable: e.retryable,
            redirectable: e.redirectable,
        }
    }
}

#[derive(Deserialize)]
struct Filter {
    q: Option<String>,
}

/// Matches a code (with or without `TS`) or a name, as a case-insensitive substring.
fn matches(e: &Entry, query: &str) -> bool {
    let q = query.trim().to_ascii_lowercase();
    let q = q.strip_prefix("ts").unwrap_or(&q);
    q.is_empty() || e.name.to_ascii_lowercase().contains(q) || format!("{:05}", e.code).contains(q)
}

async fn index(headers: HeaderMap, Query(filter): Query<Filter>) -> Response {
    let query = filter.q.unwrap_or_default();
    let selected: Vec<&'static Entry> = CATALOG.iter().filter(|e| matches(e, &query)).collect();
    if !prefers_html(&headers) {
        let entries: Vec<EntryView> = selected.into_iter().map(EntryView::from).collect();
        return Json(serde_json::json!({ "entries": entries })).into_response();
    }
    let families: Vec<_> = Family::ALL
        .iter()
        .filter_map(|f| {
            let entries: Vec<EntryView> = selected
                .iter()
                .filter(|e| e.family() == *f)
                .map(|e| EntryView::from(*e))
                .collect();
            (!entries.is_empty())
                .then(|| context! { name => f.as_str(), about => f.about(), entries => entries })
        })
        .collect();
    pages::page(
        StatusCode::OK,
        "errors_index.html",
        context! { title => "Error catalogue", query => query, count => selected.len(), families => families },
    )
}

async fn entry(headers: HeaderMap, Path(key): Path<String>) -> Response {
    let html = prefers_html(&headers);
    let Some(e) = lookup(&key) else {
        let err =
            CatalogError::new(ErrorName::EndpointNotFound).with("path", format!("/errors/{key}"));
        let format = if html {
            ErrorFormat::Page
        } else {
            ErrorFormat::OAuthJson
        };
        return ErrorResponse::new(err, format).into_response();
    };
    let view = EntryView::from(e);
    if html {
        let title = format!("{} {}", view.code, view.name);
        return pages::page(
            StatusCode::OK,
            "error_entry.html",
            context! { title => title, e => view },
        );
    }
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(view)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_matches_codes_and_names() {
        let scope = ErrorName::InvalidScope.entry();
        assert!(matches(scope, ""));
        assert!(matches(scope, "invalidscope"));
        assert!(matches(scope, "Scope"));
        assert!(matches(scope, &scope.code_str()));
        assert!(matches(scope, &scope.code.to_string()));
        assert!(!matches(scope, "TS99999"));
    }
}

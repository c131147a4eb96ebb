//! Server-rendered HTML: the templates (embedded at build time), the security headers
//! every page carries, and the pages the foundation serves (error page, form_post,
//! the error catalogue). Pages work without JavaScript.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{Environment, context};
use serde::Serialize;
use std::sync::LazyLock;
use tessera_core::errors::CatalogError;
use tessera_core::errors::render::{ErrorContext, ErrorView};

/// The stylesheet, served at `/assets/tessera.css` so the CSP needs no `unsafe-inline`.
pub const STYLESHEET: &str = include_str!("templates/tessera.css");
/// The form_post auto-submit script, served at `/assets/form-post.js`.
pub const FORM_POST_SCRIPT: &str = include_str!("templates/form-post.js");

/// CSP for our own pages: nothing but our stylesheet, forms posting back to us, no
/// framing (clickjacking), no base-URI games.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                        form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// CSP for the form_post page: it must post to the client's redirect URI, and runs our
/// one script file to submit the form.
const FORM_POST_CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
                             frame-ancestors 'none'; base-uri 'none'";

const TEMPLATE_SOURCES: [(&str, &str); 18] = [
    ("account.html", include_str!("templates/account.html")),
    (
        "change_password.html",
        include_str!("templates/change_password.html"),
    ),
    ("demo.html", include_str!("templates/demo.html")),
    ("sign_in.html", include_str!("templates/sign_in.html")),
    (
        "second_factor.html",
        include_str!("templates/second_factor.html"),
    ),
    ("consent.html", include_str!("templates/consent.html")),
    (
        "logout_confirm.html",
        include_str!("templates/logout_confirm.html"),
    ),
    ("signed_out.html", include_str!("templates/signed_out.html")),
    (
        "select_account.html",
        include_str!("templates/select_account.html"),
    ),
    ("device.html", include_str!("templates/device.html")),
    (
        "choose_tenant.html",
        include_str!("templates/choose_tenant.html"),
    ),
    (
        "admin_consent.html",
        include_str!("templates/admin_consent.html"),
    ),
    (
        "device_done.html",
        include_str!("templates/device_done.html"),
    ),
    ("base.html", include_str!("templates/base.html")),
    ("error.html", include_str!("templates/error.html")),
    ("form_post.html", include_str!("templates/form_post.html")),
    (
        "errors_index.html",
        include_str!("templates/errors_index.html"),
    ),
    (
        "error_entry.html",
        include_str!("templates/error_entry.html"),
    ),
];

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in TEMPLATE_SOURCES {
        // Templates are compiled into the binary and covered by tests; a syntax error
        // is a build-time mistake, reported on first render.
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "template does not compile");
        }
    }
    env
});

/// Renders a template to a string.
pub fn render(name: &str, ctx: impl Serialize) -> Result<String, minijinja::Error> {
    TEMPLATES.get_template(name)?.render(ctx)
}

/// An HTML response with the security headers every page carries.
pub fn html(status: StatusCode, body: String, csp: &str) -> Response {
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(csp).unwrap_or(HeaderValue::from_static(PAGE_CSP)),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A page of ours (CSP without scripts).
/// A 303 to a page of Tessera's (after a form: the browser fetches it with GET), with
/// the `Set-Cookie` of a session it started, if any.
pub fn see_other(location: &str, cookie: Option<HeaderValue>) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    if let Some(c) = cookie {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

pub fn page(status: StatusCode, name: &str, ctx: impl Serialize) -> Response {
    match render(name, ctx) {
        Ok(body) => html(status, body, PAGE_CSP),
        Err(e) => render_failure(name, &e),
    }
}

/// The origin of `uri` as a CSP source: scheme, host and port for http(s), the scheme
/// alone for a private-use scheme.
fn csp_source(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.origin().ascii_serialization(),
        Ok(u) => format!("{}:", u.scheme()),
        Err(_) => String::new(),
    }
}

/// A page that loads `frames` (the front-channel logout URIs of the apps signed out,
/// OIDC Front-Channel Logout §3): their origins, and nothing else, in `frame-src`.
pub fn page_with_frames(
    status: StatusCode,
    name: &str,
    ctx: impl Serialize,
    frames: &[String],
) -> Response {
    let sources: Vec<String> = frames.iter().map(|f| csp_source(f)).collect();
    let frame_src = if sources.is_empty() {
        "'none'".to_owned()
    } else {
        sources.join(" ")
    };
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src {frame_src}; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    match render(name, ctx) {
        Ok(body) => html(status, body, &csp),
        Err(e) => render_failure(name, &e),
    }
}

/// A page whose forms end in a redirect to `redirect_uri` (sign-in, consent). Browsers
/// apply `form-action` to the redirects that follow a submission too (CSP Level 3
/// §6.4.2), so the client's origin (or private-use scheme) joins `'self'` there.
pub fn page_redirecting_to(
    status: StatusCode,
    name: &str,
    ctx: impl Serialize,
    redirect_uri: &str,
) -> Response {
    let target = csp_source(redirect_uri);
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; \
         form-action 'self' {target}; frame-ancestors 'none'; base-uri 'none'"
    );
    match render(name, ctx) {
        Ok(body) => html(status, body, &csp),
        Err(e) => render_failure(name, &e),
    }
}

/// The HTML error page: code, message, what to do, trace and correlation ids, time, and
/// a link to the catalogue entry.
pub fn error_page(err: &CatalogError, ctx: &ErrorContext) -> Response {
    let view = ErrorView::new(err, ctx);
    let status = StatusCode::from_u16(view.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    page(
        status,
        "error.html",
        context! { error => view, title => "Something went wrong" },
    )
}

/// The form_post response mode (OAuth 2.0 Form Post Response Mode §2): an HTML form
/// that posts `params` to `action`, submitted by script, with a visible button for
/// browsers without JavaScript.
pub fn form_post(action: &str, params: &[(&'static str, String)]) -> Response {
    let fields: Vec<_> = params
        .iter()
        .map(|(k, v)| context! { name => k, value => v })
        .collect();
    match render(
        "form_post.html",
        context! { action => action, fields => fields, title => "Continue" },
    ) {
        Ok(body) => html(StatusCode::OK, body, FORM_POST_CSP),
        Err(e) => render_failure("form_post.html", &e),
    }
}

fn render_failure(name: &str, e: &minijinja::Error) -> Response {
    let ctx = crate::http::request_context::current();
    tracing::error!(trace_id = %ctx.trace_id, template = name, error = %e, "page failed to render");
    let body = format!(
        "Internal error ({}). Trace id: {}. Correlation id: {}.",
        tessera_core::errors::ErrorName::InternalError
            .entry()
            .code_str(),
        ctx.trace_id,
        ctx.correlation_id
    );
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_renders() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATE_SOURCES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
        // Inheritance needs minijinja's multi_template feature; rendering proves it's on.
        render(
            "error.html",
            context! { title => "t", error => context! {} },
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
    }
}

//! `GET /common/userrealm/{user}`: Entra ID's home-realm lookup, which MSAL Python's
//! username-password flow calls before anything else, to learn whether the account's
//! password is checked by Entra ID itself ("Managed") or by a federated provider
//! (WS-Trust). Every Tessera account is managed, so the answer is always that, and it
//! tells nothing of whether the user exists. (The password grant itself is not served:
//! the token endpoint refuses it with UnsupportedGrantType.)

use crate::http::extract::Path;
use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

pub async fn user_realm(Path(user): Path<String>) -> Response {
    let domain = user.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let body = serde_json::json!({
        "ver": "1.0",
        "account_type": "Managed",
        "domain_name": domain.chars().take(255).collect::<String>(),
        "cloud_audience_urn": "urn:federation:MicrosoftOnline",
    });
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

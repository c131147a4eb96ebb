//! The OAuth 2.0 / OpenID Connect protocol without I/O: strict parameter parsing,
//! scopes, PKCE, the authorization request's checks, JWS framing, and the records the
//! flows store. The server crate drives these with the store and HTTP.

pub mod account;
pub mod authorize;
pub mod claims;
pub mod device;
pub mod jose;
pub mod logout;
pub mod params;
pub mod pkce;
pub mod records;
pub mod scope;
pub mod tenancy;
pub mod token;

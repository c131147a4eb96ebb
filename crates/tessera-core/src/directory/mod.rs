//! The directory of a tenant: users, groups, APIs and apps, the tenant file that
//! declares them (`tessera import` / `export`), and the rules their fields follow.
//!
//! Each object is stored as a JSON document keyed by tenant, kind and a unique key
//! (username, group name, API identifier, client_id); see `crate::store::object`.

pub mod export;
pub mod file;
pub mod lockout;
pub mod mfa;
pub mod model;
pub mod names;
pub mod password_policy;
pub mod plan;
pub mod redirect;
pub mod reference;
pub mod totp;
pub mod validate;

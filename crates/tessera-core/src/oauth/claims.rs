//! The `claims` request parameter (OIDC Core §5.5): claims asked for by name, in the ID
//! token (`id_token`) or at UserInfo (`userinfo`), beside those the scopes release
//! (§5.4). Tessera honours the ones it has that a scope would otherwise release (`name`,
//! `preferred_username`, `email`, `email_verified`; `sub`, `auth_time`, `acr`, `amr` and
//! `sid` are in every ID token anyway) and ignores the rest, as §5.5 lets a provider do;
//! members other than `id_token` and `userinfo` (Microsoft's clients send
//! `access_token`) are ignored too. `essential`, `value` and `values` change nothing:
//! a claim Tessera has is released, one it has not is never invented.

use super::scope;
use crate::errors::{CatalogError, ErrorName};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// The claims a request asked for by name, where Tessera has them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedClaims {
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub id_token: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub userinfo: BTreeSet<String>,
}

/// The scope that releases `claim` (OIDC Core §5.4), for the claims a request may also
/// ask for by name.
fn scope_of(claim: &str) -> Option<&'static str> {
    match claim {
        "name" | "preferred_username" => Some(scope::PROFILE),
        "email" | "email_verified" => Some(scope::EMAIL),
        _ => None,
    }
}

impl RequestedClaims {
    /// The parameter's value: InvalidRequestFormat unless it is a JSON object whose
    /// `id_token` and `userinfo` members, when present, are objects.
    pub fn parse(value: &str) -> Result<Self, CatalogError> {
        let invalid = |why: &str| {
            CatalogError::new(ErrorName::InvalidRequestFormat)
                .with("detail", format!("claims {why} (OpenID Connect Core 5.5)"))
        };
        let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(value) else {
            return Err(invalid("is not a JSON object"));
        };
        let member = |name: &str| -> Result<BTreeSet<String>, CatalogError> {
            match doc.get(name) {
                None | Some(Value::Null) => Ok(BTreeSet::new()),
                Some(Value::Object(asked)) => Ok(asked
                    .keys()
                    .filter(|c| scope_of(c).is_some())
                    .cloned()
                    .collect()),
                Some(_) => Err(invalid(&format!("member {name} is not an object"))),
            }
        };
        Ok(Self {
            id_token: member("id_token")?,
            userinfo: member("userinfo")?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.id_token.is_empty() && self.userinfo.is_empty()
    }
}

/// Whether `claim` is released where `asked` holds the claims requested by name and
/// `granted` says whether a scope was granted.
pub fn released(claim: &str, granted: impl Fn(&str) -> bool, asked: &BTreeSet<String>) -> bool {
    asked.contains(claim) || scope_of(claim).is_some_and(granted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claims_tessera_has_are_kept_and_the_rest_ignored() {
        let c = RequestedClaims::parse(
            r#"{"id_token":{"email":{"essential":true},"name":null,"shoe_size":null},
                "userinfo":{"preferred_username":null},
                "access_token":{"xms_cc":{"values":["CP1"]}}}"#,
        )
        .unwrap();
        assert_eq!(
            c.id_token,
            BTreeSet::from(["email".to_owned(), "name".to_owned()])
        );
        assert_eq!(
            c.userinfo,
            BTreeSet::from(["preferred_username".to_owned()])
        );
        assert!(
            RequestedClaims::parse(r#"{"access_token":{"xms_cc":null}}"#)
                .unwrap()
                .is_empty()
        );
        for bad in ["", "[]", "{", r#"{"id_token":["email"]}"#, "null"] {
            assert_eq!(
                RequestedClaims::parse(bad).unwrap_err().name,
                ErrorName::InvalidRequestFormat,
                "{bad}"
            );
        }
    }

    #[test]
    fn a_claim_is_released_by_its_scope_or_by_name() {
        let asked = BTreeSet::from(["email".to_owned()]);
        assert!(released("email", |_| false, &asked));
        assert!(released("name", |s| s == "profile", &asked));
        assert!(!released("name", |_| false, &asked));
        assert!(!released("sub_of_another", |_| true, &asked));
    }
}

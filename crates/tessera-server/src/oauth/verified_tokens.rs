//! The in-process [`SignatureMemo`]: SHA-256 digests of access tokens whose signature
//! verified, so introspection, UserInfo and revocation skip the signature check for a
//! token they have seen (why that is sound: the trait's documentation). Nothing else
//! about a token is remembered: expiry, issuer, type and the revocation deny-list are
//! checked on every call. Per process; a node that has not seen a token checks it.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};
use tessera_core::oauth::jose::SignatureMemo;

/// Digests kept. When the set is full it starts over: each token then costs one more
/// full check, and memory stays bounded (32-byte entries; about 2 MiB at this size).
const MAX_TOKENS: usize = 32_768;

#[derive(Clone, Default)]
pub struct VerifiedTokens(Arc<RwLock<HashSet<[u8; 32]>>>);

impl SignatureMemo for VerifiedTokens {
    fn verified_before(&self, digest: &[u8; 32]) -> bool {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(digest)
    }

    fn remember(&self, digest: [u8; 32]) {
        let mut seen = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if seen.len() >= MAX_TOKENS {
            seen.clear();
        }
        seen.insert(digest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_digests_and_starts_over_when_full() {
        let memo = VerifiedTokens::default();
        assert!(!memo.verified_before(&[1; 32]));
        memo.remember([1; 32]);
        assert!(memo.verified_before(&[1; 32]));
        for i in 0..MAX_TOKENS {
            let mut d = [0u8; 32];
            d[..8].copy_from_slice(&(i as u64).to_le_bytes());
            d[31] = 2;
            memo.remember(d);
        }
        // The set filled up and started over: the first digest is gone, the last is in.
        assert!(!memo.verified_before(&[1; 32]));
        let mut last = [0u8; 32];
        last[..8].copy_from_slice(&((MAX_TOKENS - 1) as u64).to_le_bytes());
        last[31] = 2;
        assert!(memo.verified_before(&last));
        assert!(memo.0.read().unwrap().len() <= MAX_TOKENS);
    }
}

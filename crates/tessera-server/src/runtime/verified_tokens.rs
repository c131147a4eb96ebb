//! The in-process [`SignatureMemo`]: SHA-256 digests of access tokens whose signature
//! verified, so introspection, UserInfo and revocation skip the signature check for a
//! token they have seen (why that is sound: the trait's documentation). Nothing else
//! about a token is remembered: expiry, issuer, type and the revocation deny-list are
//! checked on every call. Per process; a node that has not seen a token checks it.
//!
//! A bounded cache (quick_cache's S3-FIFO) evicts one digest at a time, the ones seen
//! once before the ones seen again, so a resource server with more live tokens than
//! the memo holds keeps part of its hits. The set it replaced emptied itself whenever
//! it was full, which cost every token a full check at once
//! (docs/decisions/0011-verified-token-memo.md; benches/run.sh's many-tokens load).

use quick_cache::sync::Cache;
use std::sync::Arc;
use tessera_core::oauth::jose::SignatureMemo;

/// Digests kept: 32-byte keys, a few MiB at this size.
const MAX_TOKENS: usize = 65_536;

#[derive(Clone)]
pub struct VerifiedTokens(Arc<Cache<[u8; 32], ()>>);

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self(Arc::new(Cache::new(MAX_TOKENS)))
    }
}

impl SignatureMemo for VerifiedTokens {
    fn verified_before(&self, digest: &[u8; 32]) -> bool {
        self.0.get(digest).is_some()
    }

    fn remember(&self, digest: [u8; 32]) {
        self.0.insert(digest, ());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(i: u64, tag: u8) -> [u8; 32] {
        let mut d = [tag; 32];
        d[..8].copy_from_slice(&i.to_le_bytes());
        d
    }

    #[test]
    fn remembers_digests_and_stays_bounded() {
        let memo = VerifiedTokens::default();
        assert!(!memo.verified_before(&[1; 32]));
        memo.remember([1; 32]);
        assert!(memo.verified_before(&[1; 32]));
        for i in 0..(3 * MAX_TOKENS) as u64 {
            memo.remember(digest(i, 2));
        }
        assert!(memo.0.len() <= MAX_TOKENS, "{} entries", memo.0.len());
        // The newest are kept.
        assert!(memo.verified_before(&digest(3 * MAX_TOKENS as u64 - 1, 2)));
    }

    /// Past its capacity the memo evicts a little at a time: a working set a bit larger
    /// than the memo still mostly hits, where a memo that empties itself when full
    /// misses every token after each reset.
    #[test]
    fn a_working_set_beyond_the_capacity_still_mostly_hits() {
        let memo = VerifiedTokens::default();
        let working_set = (MAX_TOKENS + MAX_TOKENS / 16) as u64;
        let (mut hits, mut checks) = (0u64, 0u64);
        for round in 0..4 {
            for i in 0..working_set {
                let d = digest(i, 3);
                if memo.verified_before(&d) {
                    hits += 1;
                } else {
                    memo.remember(d);
                }
                if round > 0 {
                    checks += 1;
                }
            }
        }
        // Hits counted from the first round's inserts on; a clearing memo would score
        // nearly nothing past the first round on a working set over its capacity.
        assert!(hits * 2 > checks, "{hits} hits of {checks}");
    }
}

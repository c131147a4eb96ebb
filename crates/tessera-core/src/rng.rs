//! The injected source of randomness. Production uses the operating system's CSPRNG;
//! tests may use a deterministic sequence so rendered output can be pinned byte for byte.

use crate::ids::ObjectId;
use std::sync::atomic::{AtomicU64, Ordering};

/// Fills buffers with random bytes. Implementations used outside tests must be
/// cryptographically secure: codes, secrets and tokens are drawn from here.
pub trait Rng: Send + Sync + 'static {
    fn fill(&self, dest: &mut [u8]);

    /// A fresh random UUID (version 4).
    fn uuid(&self) -> uuid::Uuid {
        let mut bytes = [0u8; 16];
        self.fill(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A fresh random id for a directory object (version 4).
    fn object_id(&self) -> ObjectId {
        ObjectId::from_uuid(self.uuid())
    }

    /// A time-ordered UUID (version 7, RFC 9562 §5.7: 48 bits of Unix milliseconds, then
    /// 74 random bits) for protocol records (sessions, codes, refresh tokens, deny-list
    /// entries), whose ids never leave the server. Records written close in time sort
    /// together, so the store's id index grows at one end instead of dirtying a random
    /// page per insert: on SQLite that page is what every commit writes to the WAL.
    fn record_id(&self, now: time::OffsetDateTime) -> ObjectId {
        let mut bytes = [0u8; 10];
        self.fill(&mut bytes);
        let millis = u64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        ObjectId::from_uuid(uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid())
    }
}

/// The operating system's CSPRNG (`getrandom`), read 256 bytes at a time per thread.
///
/// Every request draws two ids (trace and correlation) and most draw more; one system
/// call each was half of a JWKS request's system calls. Bytes from the buffer are exactly
/// the kernel's bytes, each handed out once and wiped as it is taken, so a later memory
/// dump shows only bytes not yet used.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRng;

const BUFFER: usize = 256;

struct Buffered {
    bytes: [u8; BUFFER],
    /// Bytes before this index are used (and zeroed).
    next: usize,
}

thread_local! {
    static BUFFERED: std::cell::RefCell<Buffered> =
        const { std::cell::RefCell::new(Buffered { bytes: [0; BUFFER], next: BUFFER }) };
}

#[allow(clippy::disallowed_methods)] // the one place allowed to reach the OS RNG
fn os_fill(dest: &mut [u8]) {
    // getrandom only fails when the OS has no entropy source at all; carrying on
    // with predictable bytes would be far worse than stopping.
    #[allow(clippy::expect_used)]
    getrandom::fill(dest).expect("the operating system's random number generator failed");
}

impl Rng for OsRng {
    fn fill(&self, dest: &mut [u8]) {
        if dest.len() > BUFFER / 4 {
            return os_fill(dest);
        }
        BUFFERED.with_borrow_mut(|buf| {
            if BUFFER - buf.next < dest.len() {
                os_fill(&mut buf.bytes);
                buf.next = 0;
            }
            let taken = &mut buf.bytes[buf.next..buf.next + dest.len()];
            dest.copy_from_slice(taken);
            taken.fill(0);
            buf.next += dest.len();
        });
    }
}

/// Deterministic bytes for tests: a counter run through SplitMix64. Never cryptographic.
#[derive(Debug, Default)]
pub struct SequenceRng(AtomicU64);

impl SequenceRng {
    pub fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }
}

impl Rng for SequenceRng {
    fn fill(&self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let mut z = self
                .0
                .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
                .wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_rng_is_deterministic_and_os_rng_is_not_constant() {
        let (a, b) = (SequenceRng::new(7), SequenceRng::new(7));
        let (mut x, mut y) = ([0u8; 20], [0u8; 20]);
        a.fill(&mut x);
        b.fill(&mut y);
        assert_eq!(x, y);
        let (mut p, mut q) = ([0u8; 32], [0u8; 32]);
        OsRng.fill(&mut p);
        OsRng.fill(&mut q);
        assert_ne!(p, q);
        assert_eq!(OsRng.uuid().get_version_num(), 4);
    }

    #[test]
    fn record_ids_sort_by_time_as_stored_text() {
        let t0 = time::macros::datetime!(2026-11-27 03:00:00 UTC);
        let ids: Vec<ObjectId> = [0, 1, 1_000, 86_400_000]
            .iter()
            .map(|ms| OsRng.record_id(t0 + time::Duration::milliseconds(*ms)))
            .collect();
        assert!(ids.iter().all(|id| id.as_uuid().get_version_num() == 7));
        // The store keys rows by the hyphenated text: it must sort like the times.
        let text: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        assert!(text.windows(2).all(|w| w[0] < w[1]), "{text:?}");
        // Same millisecond: still distinct (74 random bits).
        assert_ne!(OsRng.record_id(t0), OsRng.record_id(t0));
    }
}

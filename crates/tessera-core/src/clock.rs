//! The injected clock: every "now" in Tessera comes from a [`Clock`], so expiry rules are
//! tested with a fixed time instead of `sleep`.

use std::sync::Mutex;
use time::OffsetDateTime;

/// Source of the current wall-clock time (UTC).
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place allowed to read the wall clock
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until told to move; for tests.
#[derive(Debug)]
pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    pub fn new(at: OffsetDateTime) -> Self {
        Self(Mutex::new(at))
    }

    pub fn advance(&self, by: time::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn fixed_clock_moves_only_when_advanced() {
        let clock = FixedClock::new(datetime!(2026-11-26 19:30 UTC));
        assert_eq!(clock.now(), datetime!(2026-11-26 19:30 UTC));
        clock.advance(time::Duration::seconds(61));
        assert_eq!(clock.now(), datetime!(2026-11-26 19:31:01 UTC));
    }
}

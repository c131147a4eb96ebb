//! Device platforms, as sign-in policy names them (PlatformNotAllowed): derived from
//! the browser's `User-Agent`, which the user controls. A platform rule keeps honest
//! devices of other platforms out (a kiosk policy, a managed fleet); it is no defence
//! against someone who changes their user agent, and the docs say so.

use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Android,
    Ios,
    Windows,
    Macos,
    Chromeos,
    Linux,
    /// Anything else, and requests without a user agent.
    Other,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Android => "android",
            Platform::Ios => "ios",
            Platform::Windows => "windows",
            Platform::Macos => "macos",
            Platform::Chromeos => "chromeos",
            Platform::Linux => "linux",
            Platform::Other => "other",
        }
    }

    /// The platform a `User-Agent` names, checked in an order that keeps the more
    /// specific first: Android's agents say Linux, iPhones' say "like Mac OS X".
    pub fn of_user_agent(user_agent: Option<&str>) -> Self {
        let Some(ua) = user_agent else {
            return Platform::Other;
        };
        let has = |s: &str| ua.contains(s);
        if has("Android") {
            Platform::Android
        } else if has("iPhone") || has("iPad") || has("iPod") {
            Platform::Ios
        } else if has("Windows") {
            Platform::Windows
        } else if has("CrOS") {
            Platform::Chromeos
        } else if has("Macintosh") || has("Mac OS X") {
            Platform::Macos
        } else if has("Linux") || has("X11") {
            Platform::Linux
        } else {
            Platform::Other
        }
    }
}

/// Whether `platform` may sign in under `allowed` (empty: every platform).
pub fn allowed(allowed: &[Platform], platform: Platform) -> bool {
    allowed.is_empty() || allowed.contains(&platform)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_name_their_platforms() {
        let cases = [
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36",
                Platform::Android,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Version/17.1 Mobile Safari/604.1",
                Platform::Ios,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537.36",
                Platform::Windows,
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 Version/17.1 Safari/605.1.15",
                Platform::Macos,
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 15633.69.0) AppleWebKit/537.36 Chrome/119 Safari/537.36",
                Platform::Chromeos,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
                Platform::Linux,
            ),
            ("curl/8.5.0", Platform::Other),
        ];
        for (ua, platform) in cases {
            assert_eq!(Platform::of_user_agent(Some(ua)), platform, "{ua}");
        }
        assert_eq!(Platform::of_user_agent(None), Platform::Other);
        assert!(allowed(&[], Platform::Other));
        assert!(allowed(
            &[Platform::Windows, Platform::Macos],
            Platform::Macos
        ));
        assert!(!allowed(&[Platform::Windows], Platform::Linux));
    }
}

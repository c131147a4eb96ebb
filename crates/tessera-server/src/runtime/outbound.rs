//! The HTTP client for the calls Tessera makes itself (back-channel logout): TLS by
//! rustls on aws-lc-rs, the cryptography the rest of Tessera uses, trusting the
//! system's roots (so an internal CA installed on the host works); redirects are not
//! followed (a logout token goes where the app registered, nowhere else) and every
//! call has a timeout. Built on first use: most nodes never call out.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How long one outbound call may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Outbound {
    client: Arc<OnceLock<Result<reqwest::Client, String>>>,
    /// The pauses before each retry of a back-channel logout (after the first attempt).
    pub retry_delays: Arc<[Duration]>,
}

impl Default for Outbound {
    fn default() -> Self {
        Self {
            client: Arc::default(),
            // Back-Channel Logout §2.8 leaves retries to the OP: three more tries within
            // the logout token's two minutes.
            retry_delays: Arc::from([
                Duration::from_secs(2),
                Duration::from_secs(10),
                Duration::from_secs(40),
            ]),
        }
    }
}

impl Outbound {
    /// The client, or why it could not be built (no usable root certificates).
    pub fn client(&self) -> Result<&reqwest::Client, String> {
        self.client
            .get_or_init(build)
            .as_ref()
            .map_err(Clone::clone)
    }
}

fn build() -> Result<reqwest::Client, String> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        tracing::warn!("no trusted root certificates found; https back-channel logout will fail");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent(concat!("Tessera/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

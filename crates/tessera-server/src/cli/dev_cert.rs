//! `tessera dev-cert`: a certificate authority of this machine's own and a server
//! certificate it signs for `localhost`, `127.0.0.1` and `::1`, as PEM files, to serve
//! HTTPS locally (`--tls-cert`, `--tls-key`) to clients that refuse `http://`, such as
//! Microsoft's MSAL libraries. Clients trust the CA file alone (Python
//! `REQUESTS_CA_BUNDLE`, Node `NODE_EXTRA_CA_CERTS`); its key is not kept, so it can
//! sign nothing else. For anything but local development, use a real CA's certificate.

use crate::cli::fatal::Fatal;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use std::path::Path;

/// The files written, in `dir`.
pub const CA_FILE: &str = "tessera-dev-ca.pem";
pub const CERT_FILE: &str = "tessera-dev-cert.pem";
pub const KEY_FILE: &str = "tessera-dev-key.pem";

/// How long the certificates are valid.
const VALID_DAYS: i64 = 365;

/// Writes the CA certificate, the server certificate and its key into `dir`, valid from
/// `clock`'s now; returns what to do with them.
pub fn run(dir: &Path, clock: &dyn tessera_core::clock::Clock) -> Result<String, Fatal> {
    let failed = |what: &str, e: rcgen::Error| Fatal::runtime(format!("cannot make {what}: {e}"));
    let now = clock.now();
    let validity = |p: &mut CertificateParams| {
        // A day's grace for clocks behind this one.
        p.not_before = now - time::Duration::days(1);
        p.not_after = now + time::Duration::days(VALID_DAYS);
    };

    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "Tessera development CA");
    ca.distinguished_name = name;
    validity(&mut ca);
    let ca_key = KeyPair::generate().map_err(|e| failed("the CA key", e))?;
    let ca_cert = ca
        .self_signed(&ca_key)
        .map_err(|e| failed("the CA certificate", e))?;

    let hosts = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let mut server = CertificateParams::new(hosts).map_err(|e| failed("the server names", e))?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "localhost");
    server.distinguished_name = name;
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut server);
    let server_key = KeyPair::generate().map_err(|e| failed("the server key", e))?;
    let issuer = Issuer::new(ca, ca_key);
    let server_cert = server
        .signed_by(&server_key, &issuer)
        .map_err(|e| failed("the server certificate", e))?;

    std::fs::create_dir_all(dir)
        .map_err(|e| Fatal::runtime(format!("cannot create {}: {e}", dir.display())))?;
    let write = |file: &str, text: &str, private: bool| -> Result<(), Fatal> {
        let path = dir.join(file);
        std::fs::write(&path, text)
            .map_err(|e| Fatal::runtime(format!("cannot write {}: {e}", path.display())))?;
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| Fatal::runtime(format!("cannot restrict {}: {e}", path.display())))?;
        }
        #[cfg(not(unix))]
        let _ = private;
        Ok(())
    };
    write(CA_FILE, &ca_cert.pem(), false)?;
    write(CERT_FILE, &server_cert.pem(), false)?;
    write(KEY_FILE, &server_key.serialize_pem(), true)?;
    let at = |f: &str| dir.join(f).display().to_string();
    Ok(format!(
        "wrote {ca}, {cert} and {key} (valid {VALID_DAYS} days, for localhost, 127.0.0.1 and ::1)\n\
         serve:  tessera serve --tls-cert {cert} --tls-key {key}\n\
         trust {ca} in the client only, for example REQUESTS_CA_BUNDLE={ca} (Python) or NODE_EXTRA_CA_CERTS={ca} (Node)",
        ca = at(CA_FILE),
        cert = at(CERT_FILE),
        key = at(KEY_FILE),
    ))
}

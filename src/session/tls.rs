//! TLS for POP3: certificate verification against the system roots or a
//! private CA, a SHA-256 pin for self-signed servers, and an explicit
//! insecure mode. Also the facts about a handshake that `check` reports.

use crate::error::{Failure, FailureKind};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::crypto::{CryptoProvider, ring, verify_tls12_signature, verify_tls13_signature};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

/// How the server's certificate is to be trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Trust only the certificates in this PEM file (a private CA or the
    /// server's own self-signed certificate) instead of the system roots.
    pub ca_file: Option<PathBuf>,
    /// Accept exactly the leaf certificate with this SHA-256 fingerprint.
    pub pin: Option<[u8; 32]>,
    /// Accept any certificate. Encrypts, but does not authenticate.
    pub insecure: bool,
}

/// How the certificate was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Chain and host name verified against the system's roots.
    SystemRoots,
    /// Chain and host name verified against `--ca-file`.
    CaFile(PathBuf),
    /// The leaf matched the pinned fingerprint.
    Pinned,
    /// Not verified at all (`--insecure`).
    Insecure,
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verification::SystemRoots => f.write_str("verified (system roots, host name matches)"),
            Verification::CaFile(p) => write!(f, "verified (CA file {}, host name matches)", p.display()),
            Verification::Pinned => f.write_str("verified (SHA-256 pin matches)"),
            Verification::Insecure => f.write_str("NOT VERIFIED (--insecure): the server is not authenticated"),
        }
    }
}

/// The server certificate's facts, for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub names: Vec<String>,
    pub sha256: String,
}

/// What a completed handshake established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    pub version: String,
    pub cipher: String,
    pub verification: Verification,
    pub certificate: Option<CertificateSummary>,
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// Parses `sha256:HEX` (colons between byte pairs allowed, any case).
pub fn parse_pin(text: &str) -> Result<[u8; 32], String> {
    let hexpart = text
        .strip_prefix("sha256:")
        .or_else(|| text.strip_prefix("SHA256:"))
        .ok_or_else(|| "a pin looks like sha256:<64 hex digits>".to_string())?;
    let digits: String = hexpart.chars().filter(|c| *c != ':').collect();
    if digits.len() != 64 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("a SHA-256 pin has 64 hex digits".into());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

pub fn summarize_certificate(der: &[u8]) -> CertificateSummary {
    let sha256 = hex(&sha256_fingerprint(der));
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => {
            let names: Vec<String> = cert
                .subject_alternative_name()
                .ok()
                .flatten()
                .map(|ext| ext.value.general_names.iter().map(general_name).collect())
                .unwrap_or_default();
            CertificateSummary {
                subject: crate::sanitize::sanitize_text(&cert.subject().to_string(), false),
                issuer: crate::sanitize::sanitize_text(&cert.issuer().to_string(), false),
                not_before: cert.validity().not_before.to_string(),
                not_after: cert.validity().not_after.to_string(),
                names: names
                    .iter()
                    .map(|n: &String| crate::sanitize::sanitize_text(n, false))
                    .collect(),
                sha256,
            }
        }
        Err(e) => CertificateSummary {
            subject: format!("(unparseable certificate: {e})"),
            issuer: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            names: Vec::new(),
            sha256,
        },
    }
}

fn general_name(name: &x509_parser::extensions::GeneralName) -> String {
    use x509_parser::extensions::GeneralName;
    match name {
        GeneralName::DNSName(dns) => format!("DNS:{dns}"),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => format!(
                "IP:{}",
                std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*bytes).unwrap_or_default())
            ),
            16 => format!(
                "IP:{}",
                std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*bytes).unwrap_or_default())
            ),
            _ => "IP:?".to_string(),
        },
        other => other.to_string(),
    }
}

/// What the verifier saw during the last handshake, so that an error can
/// name the certificate (and its fingerprint, for `--pin`).
#[derive(Debug, Default)]
pub struct Observed {
    pub leaf: Option<Vec<u8>>,
    pub pin_mismatch: bool,
}

#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    pin: Option<[u8; 32]>,
    insecure: bool,
    provider: Arc<CryptoProvider>,
    observed: Arc<Mutex<Observed>>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut observed = self.observed.lock().unwrap_or_else(|e| e.into_inner());
        observed.leaf = Some(end_entity.to_vec());
        if let Some(pin) = self.pin {
            if sha256_fingerprint(end_entity) == pin {
                return Ok(ServerCertVerified::assertion());
            }
            observed.pin_mismatch = true;
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ));
        }
        if self.insecure {
            return Ok(ServerCertVerified::assertion());
        }
        match &self.webpki {
            Some(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now),
            None => Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// A ready TLS client configuration plus what it will report.
pub struct TlsSetup {
    pub config: Arc<ClientConfig>,
    pub verification: Verification,
    pub observed: Arc<Mutex<Observed>>,
}

impl TlsSetup {
    pub fn new(options: &TlsOptions) -> Result<TlsSetup, Failure> {
        let provider = Arc::new(ring::default_provider());
        let observed = Arc::new(Mutex::new(Observed::default()));
        let (webpki, verification) = if options.pin.is_some() {
            (None, Verification::Pinned)
        } else if options.insecure {
            (None, Verification::Insecure)
        } else {
            let (roots, verification) = match &options.ca_file {
                Some(path) => (load_ca_file(path)?, Verification::CaFile(path.clone())),
                None => (system_roots()?, Verification::SystemRoots),
            };
            let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| Failure::new(FailureKind::Tls, format!("cannot build the certificate verifier: {e}")))?;
            (Some(verifier), verification)
        };
        let verifier = Arc::new(Verifier {
            webpki,
            pin: options.pin,
            insecure: options.insecure,
            provider: provider.clone(),
            observed: observed.clone(),
        });
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Failure::new(FailureKind::Tls, format!("TLS setup: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(TlsSetup {
            config: Arc::new(config),
            verification,
            observed,
        })
    }

    /// Explains a failed handshake: what was wrong with the certificate and
    /// how to proceed if the person trusts it anyway.
    pub fn explain_failure(&self, error: &std::io::Error, host: &str) -> Failure {
        let observed = self.observed.lock().unwrap_or_else(|e| e.into_inner());
        let fingerprint = observed.leaf.as_deref().map(|der| hex(&sha256_fingerprint(der)));
        let pin_hint = fingerprint
            .as_ref()
            .map(|fp| format!("if you trust this server, pass --ca-file with its CA certificate, or pin this exact certificate with --pin sha256:{fp}"))
            .unwrap_or_else(|| "pass --ca-file with the server's CA certificate".to_string());
        if observed.pin_mismatch {
            let got = fingerprint.unwrap_or_default();
            return Failure::new(
                FailureKind::Tls,
                format!("the server's certificate does not match the pinned fingerprint (it presented sha256:{got})"),
            )
            .with_hint("check that you are talking to the right server; if its certificate was replaced on purpose, update --pin");
        }
        let rustls_error = error.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
        match rustls_error {
            Some(rustls::Error::InvalidCertificate(cert_error)) => {
                let (what, hint) = match cert_error {
                    CertificateError::UnknownIssuer => (
                        "the server's certificate is not signed by a trusted authority (self-signed or private CA)"
                            .to_string(),
                        pin_hint,
                    ),
                    CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => (
                        format!("the server's certificate is not valid for the name {host:?}"),
                        "connect using a name listed in the certificate, or check that this is the right server"
                            .to_string(),
                    ),
                    CertificateError::Expired | CertificateError::ExpiredContext { .. } => (
                        "the server's certificate has expired".to_string(),
                        "ask the server's administrator to renew it; check this machine's clock".to_string(),
                    ),
                    CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => (
                        "the server's certificate is not valid yet".to_string(),
                        "check this machine's clock".to_string(),
                    ),
                    CertificateError::BadSignature => (
                        "the server's certificate is not signed by a trusted authority: a trusted certificate has its issuer's name but did not sign it (the server's certificate may have been replaced)".to_string(),
                        pin_hint,
                    ),
                    CertificateError::Revoked => (
                        "the server's certificate has been revoked".to_string(),
                        "do not trust this server until its administrator replaces the certificate".to_string(),
                    ),
                    other => (format!("the server's certificate was rejected ({})", certificate_error_words(other)), pin_hint),
                };
                let what = match observed.leaf.as_deref() {
                    Some(der) => {
                        let s = summarize_certificate(der);
                        format!("{what} [subject: {}; issuer: {}]", s.subject, s.issuer)
                    }
                    None => what,
                };
                Failure::new(FailureKind::Tls, what).with_hint(hint)
            }
            Some(other) => Failure::new(FailureKind::Tls, format!("TLS handshake failed: {other}"))
                .with_hint("check that the port speaks TLS (pop3s:// is usually port 995, pop3:// with STLS port 110)"),
            None => Failure::new(FailureKind::Tls, format!("TLS handshake failed: {error}"))
                .with_hint("check that the port speaks TLS (pop3s:// is usually port 995, pop3:// with STLS port 110)"),
        }
    }
}

/// A rustls certificate error in words, not as a Rust identifier.
fn certificate_error_words(error: &CertificateError) -> String {
    let name = format!("{error:?}");
    let name = name.split(['(', ' ', '{']).next().unwrap_or("");
    let mut words = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    words
}

fn system_roots() -> Result<RootCertStore, Failure> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(
            Failure::new(FailureKind::Tls, "no trusted root certificates found on this system")
                .with_hint("install the ca-certificates package, or pass --ca-file"),
        );
    }
    Ok(roots)
}

fn load_ca_file(path: &PathBuf) -> Result<RootCertStore, Failure> {
    let pem = std::fs::read(path).map_err(|e| {
        Failure::new(
            FailureKind::Usage,
            format!("cannot read the CA file {}: {e}", path.display()),
        )
    })?;
    let mut roots = RootCertStore::empty();
    let mut count = 0;
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| Failure::new(FailureKind::Usage, format!("bad PEM in {}: {e}", path.display())))?;
        roots.add(cert).map_err(|e| {
            Failure::new(
                FailureKind::Usage,
                format!("unusable certificate in {}: {e}", path.display()),
            )
        })?;
        count += 1;
    }
    if count == 0 {
        return Err(Failure::new(
            FailureKind::Usage,
            format!(
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            ),
        ));
    }
    Ok(roots)
}

/// Facts about an established connection.
pub fn describe(conn: &rustls::ClientConnection, verification: &Verification) -> TlsInfo {
    let version = conn
        .protocol_version()
        .map(|v| format!("{v:?}").replace("TLSv1_", "TLS 1."))
        .unwrap_or_else(|| "unknown".into());
    let cipher = conn
        .negotiated_cipher_suite()
        .map(|c| format!("{:?}", c.suite()))
        .unwrap_or_else(|| "unknown".into());
    let certificate = conn
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|der| summarize_certificate(der));
    TlsInfo {
        version,
        cipher,
        verification: verification.clone(),
        certificate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_in_common_spellings() {
        let hexs = "ab".repeat(32);
        assert_eq!(parse_pin(&format!("sha256:{hexs}")).unwrap(), [0xab; 32]);
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(parse_pin(&format!("sha256:{colons}")).unwrap(), [0xab; 32]);
        assert!(parse_pin(&hexs).is_err());
        assert!(parse_pin("sha256:abcd").is_err());
        assert!(parse_pin(&format!("sha256:{}", "zz".repeat(32))).is_err());
    }
}

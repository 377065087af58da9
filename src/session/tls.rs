//! TLS for POP3: certificate verification against the system roots or a
//! `--ca-file` (a private CA, or the server's own self-signed certificate),
//! a SHA-256 pin, and an explicit insecure mode. Also the facts about a
//! handshake that `check` reports, and a failed one explained in words.

mod explain;
mod verifier;

use crate::error::{Failure, FailureKind};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{CertificateDer, UnixTime};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use verifier::{Check, Verifier};

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
    /// `--ca-file` holds the server's certificate itself (a self-signed
    /// server); its dates and host name were checked.
    CertificateInCaFile(PathBuf),
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
            Verification::CertificateInCaFile(p) => write!(
                f,
                "verified (CA file {} holds this very certificate, host name matches)",
                p.display()
            ),
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
    /// `not_after` in seconds since the Unix epoch (for "expires in N days").
    pub expires_at: Option<i64>,
    pub names: Vec<String>,
    pub sha256: String,
}

impl CertificateSummary {
    /// Whole days from `now` until the certificate expires (negative once
    /// it has).
    pub(crate) fn days_left(&self, now: std::time::SystemTime) -> Option<i64> {
        let now = match now.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).ok()?,
            Err(_) => 0,
        };
        Some(self.expires_at?.saturating_sub(now).div_euclid(86_400))
    }
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

pub(crate) fn sha256_fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// Parses `sha256:HEX` (colons between byte pairs allowed, any case).
pub(crate) fn parse_pin(text: &str) -> Result<[u8; 32], String> {
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

pub(crate) fn summarize_certificate(der: &[u8]) -> CertificateSummary {
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
                expires_at: Some(cert.validity().not_after.timestamp()),
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
            expires_at: None,
            names: Vec::new(),
            sha256,
        },
    }
}

fn general_name(name: &x509_parser::extensions::GeneralName) -> String {
    use x509_parser::extensions::GeneralName;
    match name {
        GeneralName::DNSName(dns) => format!("DNS:{dns}"),
        GeneralName::RFC822Name(address) => format!("email:{address}"),
        GeneralName::URI(uri) => format!("URI:{uri}"),
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

/// Whom a `TlsSetup` trusts. `describe` reports from it how a finished
/// handshake was verified.
#[derive(Debug, Clone)]
pub enum Trust {
    SystemRoots,
    /// The certificates in `--ca-file`: CAs, or servers' own certificates.
    CaFile {
        path: PathBuf,
        certificates: Arc<[CertificateDer<'static>]>,
    },
    Pinned([u8; 32]),
    Insecure,
}

impl Trust {
    /// True when `--ca-file` holds exactly this certificate.
    fn lists(&self, der: &[u8]) -> bool {
        match self {
            Trust::CaFile { certificates, .. } => certificates.iter().any(|c| c.as_ref() == der),
            _ => false,
        }
    }

    /// How a handshake whose server presented `leaf` was verified.
    pub fn verification(&self, leaf: Option<&[u8]>) -> Verification {
        match self {
            Trust::SystemRoots => Verification::SystemRoots,
            Trust::CaFile { path, .. } if leaf.is_some_and(|der| self.lists(der)) => {
                Verification::CertificateInCaFile(path.clone())
            }
            Trust::CaFile { path, .. } => Verification::CaFile(path.clone()),
            Trust::Pinned(_) => Verification::Pinned,
            Trust::Insecure => Verification::Insecure,
        }
    }
}

/// What the verifier saw during the last handshake, so that an error can
/// name the certificate (and its fingerprint, for `--pin`).
#[derive(Debug, Default)]
pub(crate) struct Observed {
    /// The certificates the server presented, its own first.
    chain: Vec<Vec<u8>>,
    /// The time the certificate was checked against.
    now: Option<UnixTime>,
    pin_mismatch: bool,
}

/// A ready TLS client configuration plus what it will report.
pub(crate) struct TlsSetup {
    pub config: Arc<ClientConfig>,
    /// Whom this setup trusts (`describe` turns it into the `Verification`
    /// of a finished handshake).
    pub verification: Trust,
    pub observed: Arc<Mutex<Observed>>,
}

impl TlsSetup {
    pub fn new(options: &TlsOptions) -> Result<TlsSetup, Failure> {
        let trust = match (options.pin, options.insecure, &options.ca_file) {
            (Some(pin), _, _) => Trust::Pinned(pin),
            (None, true, _) => Trust::Insecure,
            (None, false, Some(path)) => Trust::CaFile {
                path: path.clone(),
                certificates: load_ca_file(path)?.into(),
            },
            (None, false, None) => Trust::SystemRoots,
        };
        let roots = match &trust {
            Trust::SystemRoots => system_roots()?,
            Trust::CaFile { path, certificates } => ca_roots(path, certificates)?,
            Trust::Pinned(_) | Trust::Insecure => RootCertStore::empty(),
        };
        TlsSetup::trusting(trust, roots)
    }

    /// A setup that trusts `trust`, verifying chains against `roots` (the
    /// system's, or `--ca-file`'s; ignored for a pin or `--insecure`).
    fn trusting(trust: Trust, roots: RootCertStore) -> Result<TlsSetup, Failure> {
        let provider = Arc::new(ring::default_provider());
        let observed = Arc::new(Mutex::new(Observed::default()));
        let check = match &trust {
            Trust::Pinned(pin) => Check::Pin(*pin),
            Trust::Insecure => Check::Insecure,
            Trust::SystemRoots | Trust::CaFile { .. } => Check::Chain(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| {
                        Failure::new(FailureKind::Tls, format!("cannot build the certificate verifier: {e}"))
                    })?,
            ),
        };
        let verifier = Arc::new(Verifier {
            check,
            trust: trust.clone(),
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
            verification: trust,
            observed,
        })
    }

    /// Explains a failed handshake: what was wrong with the certificate and
    /// how to proceed if the person trusts it anyway.
    pub(crate) fn explain_failure(&self, error: &std::io::Error, host: &str) -> Failure {
        let observed = self.observed.lock().unwrap_or_else(|e| e.into_inner());
        let rustls_error = error.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
        match (rustls_error, observed.chain.first()) {
            (Some(rustls::Error::InvalidCertificate(_)), Some(leaf)) if observed.pin_mismatch => {
                explain::pin_mismatch(leaf)
            }
            (Some(rustls::Error::InvalidCertificate(cert_error)), Some(_)) => explain::rejection(&explain::Rejection {
                chain: &observed.chain,
                error: cert_error,
                trust: &self.verification,
                host,
                now: observed.now.unwrap_or_else(UnixTime::now),
            }),
            (Some(other), _) => Failure::new(FailureKind::Tls, format!("TLS handshake failed: {other}"))
                .with_hint("check that the port speaks TLS (pop3s:// is usually port 995, pop3:// with STLS port 110)"),
            (None, _) => Failure::new(FailureKind::Tls, format!("TLS handshake failed: {error}"))
                .with_hint("check that the port speaks TLS (pop3s:// is usually port 995, pop3:// with STLS port 110)"),
        }
    }
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

/// The certificates in a PEM file, in order.
fn load_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, Failure> {
    let pem = std::fs::read(path).map_err(|e| {
        Failure::new(
            FailureKind::Usage,
            format!("cannot read the CA file {}: {e}", path.display()),
        )
    })?;
    let certificates = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::new(FailureKind::Usage, format!("bad PEM in {}: {e}", path.display())))?;
    if certificates.is_empty() {
        return Err(Failure::new(
            FailureKind::Usage,
            format!(
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            ),
        ));
    }
    Ok(certificates)
}

/// `--ca-file`'s certificates as trust anchors for chain verification.
fn ca_roots(path: &Path, certificates: &[CertificateDer<'static>]) -> Result<RootCertStore, Failure> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates {
        roots.add(certificate.clone()).map_err(|e| {
            Failure::new(
                FailureKind::Usage,
                format!("unusable certificate in {}: {e}", path.display()),
            )
        })?;
    }
    Ok(roots)
}

/// Facts about an established connection.
pub fn describe(conn: &rustls::ClientConnection, trust: &Trust) -> TlsInfo {
    let version = conn
        .protocol_version()
        .map(|v| format!("{v:?}").replace("TLSv1_", "TLS 1."))
        .unwrap_or_else(|| "unknown".into());
    let cipher = conn
        .negotiated_cipher_suite()
        .map(|c| format!("{:?}", c.suite()))
        .unwrap_or_else(|| "unknown".into());
    let leaf = conn.peer_certificates().and_then(|certs| certs.first());
    TlsInfo {
        version,
        cipher,
        verification: trust.verification(leaf.map(|der| der.as_ref())),
        certificate: leaf.map(|der| summarize_certificate(der)),
    }
}

#[cfg(test)]
mod tests;

//! The certificate verifier rustls calls during a handshake.
//!
//! A certificate that `--ca-file` holds byte for byte is the server's own
//! (self-signed) certificate given as itself, the way curl's `--cacert` and
//! OpenSSL accept it. webpki cannot take that path: it refuses a `CA:TRUE`
//! certificate as an end entity (`openssl req -x509` writes `CA:TRUE`), so
//! such a certificate is checked here (dates, purpose, host name) and the
//! handshake signature is verified with its key as usual. Everything else
//! goes through webpki's chain verification.

use super::{Observed, Trust, sha256_fingerprint};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::client::{WebPkiServerVerifier, verify_server_name};
use tokio_rustls::rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::server::ParsedCertificate;
use tokio_rustls::rustls::{self, CertificateError, DigitallySignedStruct, SignatureScheme};

/// What decides whether a certificate is accepted.
#[derive(Debug)]
pub(super) enum Check {
    Pin([u8; 32]),
    Insecure,
    /// A certificate listed in `--ca-file` itself, else a verified chain.
    Chain(Arc<WebPkiServerVerifier>),
}

#[derive(Debug)]
pub(super) struct Verifier {
    pub check: Check,
    pub trust: Trust,
    pub provider: Arc<CryptoProvider>,
    pub observed: Arc<Mutex<Observed>>,
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
        observed.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|der| der.to_vec())
            .collect();
        observed.now = Some(now);
        observed.pin_mismatch = false;
        match &self.check {
            Check::Pin(pin) if sha256_fingerprint(end_entity) == *pin => Ok(ServerCertVerified::assertion()),
            Check::Pin(_) => {
                observed.pin_mismatch = true;
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::ApplicationVerificationFailure,
                ))
            }
            Check::Insecure => Ok(ServerCertVerified::assertion()),
            Check::Chain(_) if self.trust.lists(end_entity) => verify_listed(end_entity, server_name, now),
            Check::Chain(webpki) => {
                webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
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

/// Accepts a certificate that `--ca-file` holds itself: it is trusted as
/// given, but it must still be valid now, meant for a TLS server (if it
/// says what it is for), and name the host in its subjectAltName (the CN
/// does not count, RFC 6125).
pub(super) fn verify_listed(
    der: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> Result<ServerCertVerified, rustls::Error> {
    let bad_encoding = || rustls::Error::InvalidCertificate(CertificateError::BadEncoding);
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|_| bad_encoding())?;
    let time = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let validity = cert.validity();
    if time < validity.not_before.timestamp() {
        return Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidYetContext {
                time: now,
                not_before: unix_time(validity.not_before.timestamp()),
            },
        ));
    }
    if time > validity.not_after.timestamp() {
        return Err(rustls::Error::InvalidCertificate(CertificateError::ExpiredContext {
            time: now,
            not_after: unix_time(validity.not_after.timestamp()),
        }));
    }
    match cert.extended_key_usage() {
        Ok(Some(usage)) if !usage.value.server_auth && !usage.value.any => {
            return Err(rustls::Error::InvalidCertificate(CertificateError::InvalidPurpose));
        }
        Ok(_) => {}
        Err(_) => return Err(bad_encoding()),
    }
    verify_server_name(&ParsedCertificate::try_from(der)?, server_name)?;
    Ok(ServerCertVerified::assertion())
}

/// Seconds since 1970 (before it: 1970).
pub(super) fn unix_time(seconds: i64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)))
}

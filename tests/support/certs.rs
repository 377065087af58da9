//! Certificates for TLS tests, made the ways servers in the wild get theirs:
//! self-signed with `CA:TRUE` (what `openssl req -x509 -newkey rsa:2048
//! -nodes` writes with OpenSSL 3) or `CA:FALSE` (Debian's snakeoil), issued
//! by a private CA, expired, not yet valid, for other names, or Courier's
//! (CN=localhost, subjectAltName only an e-mail address). Also one made by
//! the `openssl` binary itself.
//!
//! ```ignore
//! let cert = certs::self_signed_ca_true();
//! let dc = Dovecot::builder().certificate(&cert.pem, &cert.key_pem).start();
//! // --ca-file cert.write(dir, "server.pem")
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use sha2::{Digest, Sha256};

/// The names the test servers are reached by.
pub const SERVER_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// A certificate with its key.
pub struct TestCert {
    /// PEM of the certificate alone.
    pub pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
    params: CertificateParams,
    key: KeyPair,
}

impl TestCert {
    /// Lowercase hex SHA-256 of the DER: what `--pin sha256:` takes.
    pub fn sha256_hex(&self) -> String {
        Sha256::digest(&self.der).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Writes the certificate's PEM to `dir/name`; returns the path.
    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, &self.pem).expect("write certificate PEM");
        path
    }

    /// A certificate for `params`, signed by this one (a CA).
    pub fn issue(&self, params: CertificateParams) -> TestCert {
        let key = KeyPair::generate().expect("key pair");
        let issuer = self.params.clone().self_signed(&self.key).expect("issuer certificate");
        let cert = params
            .clone()
            .signed_by(&key, &issuer, &self.key)
            .expect("issued certificate");
        TestCert {
            pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
            params,
            key,
        }
    }
}

/// Parameters with subject `CN=common_name` and these DNS/IP names as
/// subjectAltName.
pub fn params(common_name: &str, names: &[&str]) -> CertificateParams {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("certificate params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, common_name);
    params
}

pub fn self_signed(params: CertificateParams) -> TestCert {
    let key = KeyPair::generate().expect("key pair");
    let cert = params.clone().self_signed(&key).expect("self-signed certificate");
    TestCert {
        pem: cert.pem(),
        key_pem: key.serialize_pem(),
        der: cert.der().to_vec(),
        params,
        key,
    }
}

/// Self-signed for the test server's names, `basicConstraints CA:TRUE`.
pub fn self_signed_ca_true() -> TestCert {
    let mut params = params("localhost", &SERVER_NAMES);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    self_signed(params)
}

/// Self-signed for the test server's names, `basicConstraints CA:FALSE`.
pub fn self_signed_ca_false() -> TestCert {
    let mut params = params("localhost", &SERVER_NAMES);
    params.is_ca = IsCa::ExplicitNoCa;
    self_signed(params)
}

/// A private CA (no subjectAltName).
pub fn private_ca(common_name: &str) -> TestCert {
    let mut params = params(common_name, &[]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    self_signed(params)
}

/// Self-signed for the test server's names, valid between these dates
/// (year, month, day).
pub fn self_signed_between(from: (i32, u8, u8), to: (i32, u8, u8)) -> TestCert {
    let mut params = params("localhost", &SERVER_NAMES);
    params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    params.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
    self_signed(params)
}

/// Courier's generated certificate: CN=localhost and a subjectAltName that
/// holds only an e-mail address.
pub fn courier_style(email: &str) -> TestCert {
    let mut params = params("localhost", &[]);
    params.subject_alt_names = vec![SanType::Rfc822Name(email.try_into().expect("e-mail address"))];
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    self_signed(params)
}

/// Whether `openssl` can be run. If not: panics when `$CI` is set
/// (non-empty), else prints a SKIPPED line and returns false.
pub fn openssl_or_skip(test: &str) -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "CI is set but openssl is not installed (needed by {test})"
        );
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: openssl not installed ({test}) ***");
    }
    found
}

/// What a person types: `openssl req -x509 -newkey rsa:2048 -nodes` with
/// the test server's names. Returns the certificate PEM and key PEM.
pub fn openssl_req_x509(dir: &Path) -> (String, String) {
    let cert = dir.join("openssl-cert.pem");
    let key = dir.join("openssl-key.pem");
    let output = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30"])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl req");
    assert!(
        output.status.success(),
        "openssl req failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        fs::read_to_string(&cert).expect("read openssl's certificate"),
        fs::read_to_string(&key).expect("read openssl's key"),
    )
}

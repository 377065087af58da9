//! Unit tests: real handshakes in memory (a rustls server with certificates
//! made here, the client `TlsSetup` popscope uses), and the words of every
//! kind of refusal.

use super::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, SanType};
use std::io::{ErrorKind, Read};
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio_rustls::rustls::{ClientConnection, ServerConfig, ServerConnection};

/// Words that betray an error enum instead of an explanation.
const ENUM_NAMES: [&str; 8] = [
    "(other)",
    "Other(",
    "UnknownIssuer",
    "BadSignature",
    "CaUsedAsEndEntity",
    "NotValidForName",
    "ExpiredContext",
    "NotValidYet",
];

/// A certificate and its key.
struct Made {
    der: CertificateDer<'static>,
    pem: String,
    key: KeyPair,
    params: CertificateParams,
}

fn params(common_name: &str, sans: &[&str]) -> CertificateParams {
    let mut params =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("certificate params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, common_name);
    params
}

fn self_signed(params: CertificateParams) -> Made {
    let key = KeyPair::generate().expect("key pair");
    let cert = params.clone().self_signed(&key).expect("self-signed certificate");
    Made {
        der: cert.der().clone(),
        pem: cert.pem(),
        key,
        params,
    }
}

/// Like `openssl req -x509 -newkey ... -nodes` (OpenSSL 3): `CA:TRUE`.
fn self_signed_ca_true(sans: &[&str]) -> Made {
    let mut params = params("localhost", sans);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    self_signed(params)
}

/// Like Debian's snakeoil: `CA:FALSE`.
fn self_signed_ca_false(sans: &[&str]) -> Made {
    let mut params = params("localhost", sans);
    params.is_ca = IsCa::ExplicitNoCa;
    self_signed(params)
}

fn private_ca(common_name: &str) -> Made {
    let mut params = params(common_name, &[]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    self_signed(params)
}

fn issued_by(ca: &Made, params: CertificateParams) -> Made {
    let key = KeyPair::generate().expect("key pair");
    let issuer = ca.params.clone().self_signed(&ca.key).expect("issuer certificate");
    let cert = params
        .clone()
        .signed_by(&key, &issuer, &ca.key)
        .expect("issued certificate");
    Made {
        der: cert.der().clone(),
        pem: cert.pem(),
        key,
        params,
    }
}

fn dates(mut params: CertificateParams, from: (i32, u8, u8), to: (i32, u8, u8)) -> CertificateParams {
    params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    params.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
    params
}

/// A `--ca-file` holding these certificates, and its path as popscope
/// would be given it.
fn ca_file(certificates: &[&Made]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ca.pem");
    let pem: String = certificates.iter().map(|c| c.pem.as_str()).collect();
    std::fs::write(&path, pem).expect("write the CA file");
    (dir, path)
}

fn with_ca_file(path: &Path) -> TlsSetup {
    TlsSetup::new(&TlsOptions {
        ca_file: Some(path.to_path_buf()),
        ..TlsOptions::default()
    })
    .expect("TLS setup with a CA file")
}

/// "System roots" that are one unrelated CA, so that the tests do not
/// depend on this machine's trust store.
fn with_system_roots() -> TlsSetup {
    let mut roots = RootCertStore::empty();
    roots.add(private_ca("Some Public Root").der).expect("root");
    TlsSetup::trusting(Trust::SystemRoots, roots).expect("TLS setup with roots")
}

/// A complete handshake in memory between a rustls server presenting
/// `chain` (signed with `key`) and a client using `setup`, connecting to
/// `host`. The client's verdict, as popscope reports it.
fn handshake(setup: &TlsSetup, chain: &[&Made], host: &str) -> Result<TlsInfo, Failure> {
    let leaf_key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain[0].key.serialize_der()));
    let server_config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("server protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain.iter().map(|c| c.der.clone()).collect(), leaf_key)
        .expect("server certificate");
    let mut server = ServerConnection::new(Arc::new(server_config)).expect("server connection");
    let name = ServerName::try_from(host.to_string()).expect("server name");
    let mut client = ClientConnection::new(setup.config.clone(), name).expect("client connection");
    let refused = |e: rustls::Error| setup.explain_failure(&std::io::Error::new(ErrorKind::InvalidData, e), host);
    // A TLS 1.3 handshake takes two round trips; a few more are plenty.
    for _ in 0..8 {
        if !client.is_handshaking() {
            return Ok(describe(&client, &setup.verification));
        }
        let mut to_server = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut to_server).expect("client writes");
        }
        feed(&mut server, &to_server, |s| s.process_new_packets().map(drop))
            .expect("the server accepts what the client sent");
        let mut to_client = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut to_client).expect("server writes");
        }
        feed(&mut client, &to_client, |c| c.process_new_packets().map(drop)).map_err(refused)?;
    }
    panic!("the handshake did not finish");
}

fn feed<C: std::ops::DerefMut<Target = rustls::ConnectionCommon<D>>, D>(
    conn: &mut C,
    mut bytes: &[u8],
    process: impl Fn(&mut C) -> Result<(), rustls::Error>,
) -> Result<(), rustls::Error> {
    while !bytes.is_empty() {
        conn.read_tls(&mut bytes as &mut dyn Read).expect("read TLS bytes");
        process(conn)?;
    }
    Ok(())
}

fn fingerprint(made: &Made) -> String {
    hex(&sha256_fingerprint(&made.der))
}

/// The failure a handshake must end in: a TLS failure, in words.
fn refused(result: Result<TlsInfo, Failure>) -> Failure {
    let failure = result.expect_err("the certificate must be refused");
    assert_eq!(failure.kind, FailureKind::Tls);
    let text = failure.to_string();
    for name in ENUM_NAMES {
        assert!(!text.contains(name), "an error enum instead of words ({name}):\n{text}");
    }
    failure
}

fn hint(failure: &Failure) -> &str {
    failure.hint.as_deref().expect("a hint")
}

// ---------------------------------------------------------------------------
// Accepted

#[test]
fn a_ca_true_self_signed_certificate_given_as_itself_is_accepted() {
    let server = self_signed_ca_true(&["localhost", "127.0.0.1"]);
    let (_dir, path) = ca_file(&[&server]);
    for host in ["localhost", "127.0.0.1"] {
        let info = handshake(&with_ca_file(&path), &[&server], host).expect("accepted");
        assert_eq!(info.verification, Verification::CertificateInCaFile(path.clone()));
        let shown = info.verification.to_string();
        assert!(
            shown.starts_with(&format!("verified (CA file {}", path.display())),
            "{shown}"
        );
        assert!(
            shown.contains("holds this very certificate, host name matches"),
            "{shown}"
        );
    }
}

#[test]
fn a_ca_false_self_signed_certificate_given_as_itself_is_accepted() {
    let server = self_signed_ca_false(&["localhost"]);
    let other = private_ca("Another CA");
    let (_dir, path) = ca_file(&[&other, &server]);
    let info = handshake(&with_ca_file(&path), &[&server], "localhost").expect("accepted");
    assert_eq!(info.verification, Verification::CertificateInCaFile(path));
}

#[test]
fn a_leaf_of_a_private_ca_is_verified_through_its_chain() {
    let ca = private_ca("Private Test CA");
    let leaf = issued_by(&ca, params("mail.internal", &["localhost"]));
    let (_dir, path) = ca_file(&[&ca]);
    let info = handshake(&with_ca_file(&path), &[&leaf], "localhost").expect("accepted");
    assert_eq!(info.verification, Verification::CaFile(path.clone()));
    assert_eq!(
        info.verification.to_string(),
        format!("verified (CA file {}, host name matches)", path.display())
    );
}

#[test]
fn a_pin_accepts_the_certificate_it_names_whatever_its_problems() {
    let server = self_signed_ca_true(&["elsewhere.example"]);
    let setup = TlsSetup::new(&TlsOptions {
        pin: Some(sha256_fingerprint(&server.der)),
        ..TlsOptions::default()
    })
    .expect("pinned setup");
    let info = handshake(&setup, &[&server], "localhost").expect("accepted");
    assert_eq!(info.verification, Verification::Pinned);
}

// ---------------------------------------------------------------------------
// A certificate listed in --ca-file, with something wrong

#[test]
fn an_expired_listed_certificate_gives_its_dates_and_now() {
    let server = self_signed(dates(params("localhost", &["localhost"]), (2019, 1, 2), (2020, 3, 4)));
    let (_dir, path) = ca_file(&[&server]);
    let failure = refused(handshake(&with_ca_file(&path), &[&server], "localhost"));
    assert!(
        failure.message.starts_with("the server's certificate has expired: it was valid from 2019-01-02 00:00:00 UTC to 2020-03-04 00:00:00 UTC, and it is now 20"),
        "{failure}"
    );
    assert!(!failure.message.contains("also"), "only one problem: {failure}");
    assert!(hint(&failure).contains("renew"), "{failure}");
    assert!(
        hint(&failure).contains(&format!("--pin sha256:{}", fingerprint(&server))),
        "{failure}"
    );
    assert!(!hint(&failure).contains("--ca-file"), "{failure}");
}

#[test]
fn a_listed_certificate_not_yet_valid_gives_its_dates_and_now() {
    let server = self_signed(dates(params("localhost", &["localhost"]), (2300, 5, 6), (2301, 1, 1)));
    let (_dir, path) = ca_file(&[&server]);
    let failure = refused(handshake(&with_ca_file(&path), &[&server], "localhost"));
    assert!(
        failure.message.starts_with("the server's certificate is not valid yet: it is valid from 2300-05-06 00:00:00 UTC to 2301-01-01 00:00:00 UTC, and it is now 20"),
        "{failure}"
    );
    assert!(hint(&failure).contains("clock"), "{failure}");
}

#[test]
fn a_wrong_host_name_lists_the_subject_alt_names() {
    let mut params = params("mail.example.org", &["mail.example.org", "10.1.2.3"]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let server = self_signed(params);
    let (_dir, path) = ca_file(&[&server]);
    let failure = refused(handshake(&with_ca_file(&path), &[&server], "localhost"));
    assert!(
        failure.message.starts_with(
            "the server's certificate is not valid for the name \"localhost\": only subjectAltName entries count, and it lists DNS:mail.example.org, IP:10.1.2.3"
        ),
        "{failure}"
    );
    assert!(!failure.message.contains("would match"), "{failure}");
    assert!(hint(&failure).contains("such as mail.example.org"), "{failure}");
    assert!(hint(&failure).contains("subjectAltName DNS:localhost"), "{failure}");
    assert!(!hint(&failure).contains("--ca-file"), "{failure}");
}

/// Courier's generated certificate: CN=localhost, and a subjectAltName with
/// only an e-mail address.
#[test]
fn a_courier_style_certificate_explains_that_the_cn_does_not_count() {
    let mut params = params("localhost", &[]);
    params.subject_alt_names = vec![SanType::Rfc822Name(
        "postmaster@example.com".try_into().expect("e-mail address"),
    )];
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let server = self_signed(params);
    let (_dir, path) = ca_file(&[&server]);
    let failure = refused(handshake(&with_ca_file(&path), &[&server], "localhost"));
    assert!(
        failure.message.contains(
            "only subjectAltName entries count, and it lists only email:postmaster@example.com, which names no host (its subject's CN=localhost would match, but the CN is not used for host names)"
        ),
        "{failure}"
    );
    assert!(hint(&failure).contains("subjectAltName DNS:localhost"), "{failure}");
}

#[test]
fn a_listed_certificate_for_client_authentication_only_is_refused() {
    let mut params = params("localhost", &["localhost"]);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let server = self_signed(params);
    let (_dir, path) = ca_file(&[&server]);
    let failure = refused(handshake(&with_ca_file(&path), &[&server], "localhost"));
    assert!(failure.message.contains("is not meant for TLS servers"), "{failure}");
}

// ---------------------------------------------------------------------------
// Not trusted

#[test]
fn a_self_signed_certificate_against_system_roots_is_called_that() {
    let server = self_signed_ca_true(&["localhost"]);
    let failure = refused(handshake(&with_system_roots(), &[&server], "localhost"));
    assert!(
        failure.message.starts_with("the server's certificate is self-signed"),
        "{failure}"
    );
    assert!(!failure.message.contains("did not sign"), "{failure}");
    assert!(
        failure.message.ends_with("[subject and issuer: CN=localhost]"),
        "{failure}"
    );
    assert_eq!(
        hint(&failure),
        format!(
            "if you trust this server, pass its certificate itself (PEM) with --ca-file; or pin this exact certificate with --pin sha256:{}",
            fingerprint(&server)
        )
    );
}

/// --ca-file would not help a certificate that is also expired and for
/// another name; a pin would.
#[test]
fn a_self_signed_certificate_with_more_problems_is_not_sent_to_ca_file() {
    let server = self_signed(dates(
        params("localhost", &["other.example"]),
        (2019, 1, 1),
        (2020, 1, 1),
    ));
    let failure = refused(handshake(&with_system_roots(), &[&server], "localhost"));
    assert!(failure.message.contains("is self-signed"), "{failure}");
    assert!(
        failure
            .message
            .contains("; also, it has expired: it was valid from 2019-01-01"),
        "{failure}"
    );
    assert!(
        failure
            .message
            .contains("; also, it is not valid for the name \"localhost\""),
        "{failure}"
    );
    assert_eq!(
        hint(&failure),
        format!(
            "if you trust this server, pin this exact certificate with --pin sha256:{} (a pin accepts it despite its other problems)",
            fingerprint(&server)
        )
    );
}

#[test]
fn a_self_signed_certificate_missing_from_the_ca_file_says_so() {
    let server = self_signed_ca_false(&["localhost"]);
    let unrelated = private_ca("Some Other Test CA");
    let (_dir, path) = ca_file(&[&unrelated]);
    let failure = refused(handshake(&with_ca_file(&path), &[&server], "localhost"));
    assert!(
        failure.message.starts_with(&format!(
            "the server's certificate is self-signed and is not in the CA file {} (which holds 1 certificate: CN=Some Other Test CA)",
            path.display()
        )),
        "{failure}"
    );
    assert!(!hint(&failure).contains("--ca-file"), "{failure}");
    assert!(
        hint(&failure).contains(&format!("--pin sha256:{}", fingerprint(&server))),
        "{failure}"
    );
}

#[test]
fn a_regenerated_self_signed_certificate_is_called_replaced() {
    let old = self_signed_ca_true(&["localhost"]);
    let new = self_signed_ca_true(&["localhost"]);
    let (_dir, path) = ca_file(&[&old]);
    let failure = refused(handshake(&with_ca_file(&path), &[&new], "localhost"));
    assert!(
        failure.message.contains(&format!(
            "the file holds a different certificate with the same subject (sha256:{}): the server's certificate has been replaced",
            fingerprint(&old)
        )),
        "{failure}"
    );
    assert!(hint(&failure).contains("intercepting"), "{failure}");
    assert!(
        hint(&failure).contains(&format!("--pin sha256:{}", fingerprint(&new))),
        "{failure}"
    );
}

#[test]
fn a_leaf_of_an_unknown_ca_names_that_ca() {
    let ca = private_ca("Corp Internal CA");
    let leaf = issued_by(&ca, params("mail.corp", &["localhost"]));
    let failure = refused(handshake(&with_system_roots(), &[&leaf], "localhost"));
    assert!(
        failure.message.starts_with(
            "the server's certificate was issued by CN=Corp Internal CA, which is not among this system's trusted root certificates"
        ),
        "{failure}"
    );
    assert!(
        hint(&failure)
            .starts_with("if CN=Corp Internal CA is a private CA you trust, pass its certificate with --ca-file"),
        "{failure}"
    );
}

#[test]
fn a_leaf_that_does_not_chain_to_the_ca_file_says_so() {
    let ca = private_ca("Corp Internal CA");
    let leaf = issued_by(&ca, params("mail.corp", &["localhost"]));
    let other = private_ca("Some Other Test CA");
    let (_dir, path) = ca_file(&[&other]);
    let failure = refused(handshake(&with_ca_file(&path), &[&leaf], "localhost"));
    assert!(
        failure.message.contains(&format!(
            "was issued by CN=Corp Internal CA; it is not in the CA file {} and does not chain to any certificate in it",
            path.display()
        )),
        "{failure}"
    );
    assert!(!hint(&failure).contains("--ca-file"), "{failure}");
}

#[test]
fn a_ca_certificate_from_another_ca_presented_as_a_servers_is_explained() {
    let ca = private_ca("Corp Root");
    let mut params = params("Corp Sub CA", &["localhost"]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let sub_ca = issued_by(&ca, params);
    let (_dir, path) = ca_file(&[&ca]);
    let failure = refused(handshake(&with_ca_file(&path), &[&sub_ca], "localhost"));
    assert!(
        failure
            .message
            .contains("is a CA certificate (basicConstraints CA:TRUE)"),
        "{failure}"
    );
}

#[test]
fn a_wrong_pin_names_the_presented_fingerprint() {
    let server = self_signed_ca_true(&["localhost"]);
    let setup = TlsSetup::new(&TlsOptions {
        pin: Some([7; 32]),
        ..TlsOptions::default()
    })
    .expect("pinned setup");
    let failure = refused(handshake(&setup, &[&server], "localhost"));
    assert!(failure.message.contains(&fingerprint(&server)), "{failure}");
}

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

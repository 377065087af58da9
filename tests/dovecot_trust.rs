//! Trusting a server's certificate, against a real Dovecot serving the
//! certificates people actually have: `popscope check` with `--ca-file`
//! set to the server's own self-signed certificate (CA:TRUE as `openssl req
//! -x509` makes it, CA:FALSE), a private CA, and every way a certificate is
//! refused — each in words, with a hint that fits, and exit code 4.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use support::certs::{self, TestCert};
use support::dovecot::Dovecot;

const USER: &str = "alice";
const PASSWORD: &str = "Trust-Test-pw!";
/// Hard limit for one popscope run.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// The exit code of every TLS failure.
const TLS_FAILED: i32 = 4;

/// What one popscope run did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    args: Vec<String>,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "popscope {:?}\nexit code: {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    fn assert_ok(&self) -> &Run {
        assert_eq!(self.code, Some(0), "check failed\n{}", self.describe());
        self.assert_stdout_has("OK: every step passed")
    }

    fn assert_stdout_has(&self, needle: &str) -> &Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.describe()
        );
        self
    }

    /// Refused with exit code 4 before login, the error in words (no
    /// Rust enum names). Returns the message and the hint.
    fn refused(&self) -> (&str, &str) {
        assert_eq!(self.code, Some(TLS_FAILED), "wrong exit code\n{}", self.describe());
        assert!(!self.stdout.contains("OK: every step passed"), "{}", self.describe());
        let message = self
            .stderr
            .lines()
            .find_map(|l| l.strip_prefix("popscope: TLS failed: "))
            .unwrap_or_else(|| panic!("no TLS failure on stderr\n{}", self.describe()));
        let hint = self
            .stderr
            .lines()
            .find_map(|l| l.trim_start().strip_prefix("try: "))
            .unwrap_or_else(|| panic!("no hint on stderr\n{}", self.describe()));
        for enum_name in [
            "(other)",
            "UnknownIssuer",
            "BadSignature",
            "CaUsedAsEndEntity",
            "NotValidForName",
        ] {
            assert!(
                !self.stderr.contains(enum_name),
                "{enum_name} instead of words\n{}",
                self.describe()
            );
        }
        (message, hint)
    }
}

/// Runs popscope with the password in the environment (every inherited
/// `POPSCOPE_*` variable removed), stdin from /dev/null; kills it if it has
/// not exited within `RUN_TIMEOUT`.
fn popscope(args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_popscope"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("POPSCOPE_") {
            command.env_remove(name);
        }
    }
    let child = command
        .args(args)
        .env("POPSCOPE_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn popscope");
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let output = match finished.recv_timeout(RUN_TIMEOUT) {
        Ok(output) => output.expect("wait for popscope"),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            panic!("popscope {args:?} did not finish within {RUN_TIMEOUT:?} and was killed");
        }
    };
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

/// A Dovecot with one user and one message, serving `chain_pem` (its own
/// certificate first) with `key_pem`.
fn dovecot_serving(chain_pem: &str, key_pem: &str) -> Dovecot {
    let dc = Dovecot::builder()
        .user(USER, PASSWORD)
        .certificate(chain_pem, key_pem)
        .start();
    dc.deliver_many(USER, (0..1).map(support::maildrop::ordinary));
    dc
}

/// Implicit TLS and STLS, by the name the test certificates carry.
fn urls(dc: &Dovecot) -> [String; 2] {
    [
        format!("pop3s://{USER}@localhost:{}", dc.pop3s_port()),
        format!("pop3://{USER}@localhost:{}", dc.pop3_port()),
    ]
}

fn check(url: &str, ca_file: &Path) -> Run {
    popscope(&["check", url, "--ca-file", &ca_file.display().to_string()])
}

/// `--ca-file` = the server's own certificate: accepted over both
/// transports, and `check` says how.
fn accepted_as_itself(cert_pem: &str, key_pem: &str) {
    let dc = dovecot_serving(cert_pem, key_pem);
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = dir.path().join("server.pem");
    std::fs::write(&ca_file, cert_pem).expect("write the CA file");
    for url in urls(&dc) {
        check(&url, &ca_file).assert_ok().assert_stdout_has(&format!(
            "verification verified (CA file {} holds this very certificate, host name matches)",
            ca_file.display()
        ));
    }
}

fn is_ca(pem: &str) -> bool {
    let der = rustls_pemfile::certs(&mut pem.as_bytes())
        .next()
        .expect("a certificate")
        .expect("PEM");
    let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("X.509");
    cert.is_ca()
}

// ---------------------------------------------------------------------------
// Accepted

#[test]
fn a_ca_true_self_signed_certificate_is_accepted_as_its_own_ca_file() {
    require_dovecot!();
    let cert = certs::self_signed_ca_true();
    assert!(is_ca(&cert.pem), "the test certificate must say CA:TRUE");
    accepted_as_itself(&cert.pem, &cert.key_pem);
}

#[test]
fn a_certificate_made_by_openssl_req_x509_is_accepted_as_its_own_ca_file() {
    require_dovecot!();
    if !certs::openssl_or_skip("openssl req -x509") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert_pem, key_pem) = certs::openssl_req_x509(dir.path());
    assert!(is_ca(&cert_pem), "OpenSSL 3 marks `req -x509` certificates CA:TRUE");
    accepted_as_itself(&cert_pem, &key_pem);
}

#[test]
fn a_ca_false_self_signed_certificate_is_accepted_as_its_own_ca_file() {
    require_dovecot!();
    let cert = certs::self_signed_ca_false();
    assert!(!is_ca(&cert.pem));
    accepted_as_itself(&cert.pem, &cert.key_pem);
}

#[test]
fn a_leaf_of_a_private_ca_is_verified_through_the_chain() {
    require_dovecot!();
    let ca = certs::private_ca("popscope Test Private CA");
    let leaf = ca.issue(certs::params("mail.test", &certs::SERVER_NAMES));
    let dc = dovecot_serving(&leaf.pem, &leaf.key_pem);
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = ca.write(dir.path(), "ca.pem");
    for url in urls(&dc) {
        check(&url, &ca_file).assert_ok().assert_stdout_has(&format!(
            "verification verified (CA file {}, host name matches)",
            ca_file.display()
        ));
    }
}

/// The server sends its certificate and an intermediate; the CA file holds
/// only the root.
#[test]
fn a_leaf_under_an_intermediate_ca_is_verified_through_the_chain() {
    require_dovecot!();
    let root = certs::private_ca("popscope Test Root CA");
    let mut intermediate_params = certs::params("popscope Test Intermediate CA", &[]);
    intermediate_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let intermediate = root.issue(intermediate_params);
    let leaf = intermediate.issue(certs::params("mail.test", &certs::SERVER_NAMES));
    let dc = dovecot_serving(&format!("{}{}", leaf.pem, intermediate.pem), &leaf.key_pem);
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = root.write(dir.path(), "root.pem");
    let [pop3s, _] = urls(&dc);
    check(&pop3s, &ca_file).assert_ok().assert_stdout_has(&format!(
        "verification verified (CA file {}, host name matches)",
        ca_file.display()
    ));
}

// ---------------------------------------------------------------------------
// Refused, in words

/// A date error says what time it is now; the two runs may straddle a
/// second, so that part is left out of comparisons between runs.
fn without_now(message: &str) -> String {
    match message.split_once(", and it is now ") {
        Some((before, after)) => {
            let rest = after.find(" [").map_or("", |at| &after[at..]);
            format!("{before}, and it is now …{rest}")
        }
        None => message.to_string(),
    }
}

/// The server's own certificate as `--ca-file`, refused; (message, hint)
/// over implicit TLS, after checking that STLS says the same.
fn refused_as_itself(cert: &TestCert) -> (String, String) {
    let dc = dovecot_serving(&cert.pem, &cert.key_pem);
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = cert.write(dir.path(), "server.pem");
    let [pop3s, pop3] = urls(&dc);
    let run = check(&pop3s, &ca_file);
    let (message, hint) = run.refused();
    let stls = check(&pop3, &ca_file);
    assert_eq!(
        without_now(stls.refused().0),
        without_now(message),
        "STLS and implicit TLS disagree"
    );
    assert!(
        hint.contains(&format!("--pin sha256:{}", cert.sha256_hex())),
        "{}",
        run.describe()
    );
    assert!(
        !hint.contains("--ca-file"),
        "--ca-file suggested again\n{}",
        run.describe()
    );
    (message.to_string(), hint.to_string())
}

#[test]
fn an_expired_certificate_is_refused_with_its_dates() {
    require_dovecot!();
    let cert = certs::self_signed_between((2019, 1, 2), (2020, 3, 4));
    let (message, hint) = refused_as_itself(&cert);
    assert!(
        message.starts_with("the server's certificate has expired: it was valid from 2019-01-02 00:00:00 UTC to 2020-03-04 00:00:00 UTC, and it is now "),
        "{message}"
    );
    assert!(hint.contains("renew"), "{hint}");
}

#[test]
fn a_certificate_not_yet_valid_is_refused_with_its_dates() {
    require_dovecot!();
    let cert = certs::self_signed_between((2299, 6, 7), (2300, 1, 1));
    let (message, hint) = refused_as_itself(&cert);
    assert!(
        message.starts_with("the server's certificate is not valid yet: it is valid from 2299-06-07 00:00:00 UTC to 2300-01-01 00:00:00 UTC, and it is now "),
        "{message}"
    );
    assert!(hint.contains("clock"), "{hint}");
}

#[test]
fn a_certificate_for_other_names_is_refused_listing_its_names() {
    require_dovecot!();
    let cert = certs::self_signed(certs::params("mail.example.org", &["mail.example.org", "192.0.2.7"]));
    let (message, hint) = refused_as_itself(&cert);
    assert!(
        message.starts_with(
            "the server's certificate is not valid for the name \"localhost\": only subjectAltName entries count, and it lists DNS:mail.example.org, IP:192.0.2.7"
        ),
        "{message}"
    );
    assert!(hint.contains("such as mail.example.org"), "{hint}");
}

#[test]
fn a_courier_style_certificate_is_refused_explaining_the_cn() {
    require_dovecot!();
    let cert = certs::courier_style("postmaster@example.com");
    let (message, hint) = refused_as_itself(&cert);
    assert!(
        message.contains(
            "it lists only email:postmaster@example.com, which names no host (its subject's CN=localhost would match, but the CN is not used for host names)"
        ),
        "{message}"
    );
    assert!(hint.contains("subjectAltName DNS:localhost"), "{hint}");
}

/// No `--ca-file`: the system roots. Then a `--ca-file` that holds some
/// other certificate.
#[test]
fn a_self_signed_certificate_is_called_that_and_the_hint_fits() {
    require_dovecot!();
    let cert = certs::self_signed_ca_true();
    let dc = dovecot_serving(&cert.pem, &cert.key_pem);
    let pin = format!("--pin sha256:{}", cert.sha256_hex());
    let [pop3s, _] = urls(&dc);

    let run = popscope(&["check", &pop3s]);
    let (message, hint) = run.refused();
    assert!(
        message.starts_with("the server's certificate is self-signed"),
        "{}",
        run.describe()
    );
    assert!(!message.contains("did not sign"), "{}", run.describe());
    assert!(hint.contains(&pin), "{}", run.describe());
    assert!(hint.contains("--ca-file"), "{}", run.describe());

    let dir = tempfile::tempdir().expect("temp dir");
    let wrong = certs::private_ca("Some Other Test CA").write(dir.path(), "other.pem");
    let run = check(&pop3s, &wrong);
    let (message, hint) = run.refused();
    assert!(
        message.starts_with(&format!(
            "the server's certificate is self-signed and is not in the CA file {}",
            wrong.display()
        )),
        "{}",
        run.describe()
    );
    assert!(hint.contains(&pin), "{}", run.describe());
    assert!(
        !hint.contains("--ca-file"),
        "--ca-file suggested again\n{}",
        run.describe()
    );
}

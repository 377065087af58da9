//! A refused certificate explained in words: everything wrong with it (not
//! only the first thing the verifier tripped over), and a way forward that
//! fits — `--pin` with the real fingerprint, `--ca-file` only when it was
//! not given and would help.

use super::{CertificateSummary, Trust, hex, sha256_fingerprint, summarize_certificate};
use crate::error::{Failure, FailureKind};
use crate::sanitize::sanitize_text;
use tokio_rustls::rustls::CertificateError;
use tokio_rustls::rustls::client::verify_server_name;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::server::ParsedCertificate;
use x509_parser::certificate::X509Certificate;
use x509_parser::time::ASN1Time;

/// CA file subjects named in an error before "and N more".
const SUBJECTS_SHOWN: usize = 3;

/// A handshake that failed on the server's certificate.
pub(super) struct Rejection<'a> {
    /// The certificates the server presented, its own first.
    pub chain: &'a [Vec<u8>],
    /// What verification reported (the first problem it found).
    pub error: &'a CertificateError,
    pub trust: &'a Trust,
    pub host: &'a str,
    pub now: UnixTime,
}

pub(super) fn pin_mismatch(leaf: &[u8]) -> Failure {
    let got = hex(&sha256_fingerprint(leaf));
    Failure::new(
        FailureKind::Tls,
        format!("the server's certificate does not match the pinned fingerprint (it presented sha256:{got})"),
    )
    .with_hint(
        "check that you are talking to the right server; if its certificate was replaced on purpose, update --pin",
    )
}

pub(super) fn rejection(rejection: &Rejection) -> Failure {
    let leaf_der = rejection.chain.first().map(Vec::as_slice).unwrap_or_default();
    let pin = format!("--pin sha256:{}", hex(&sha256_fingerprint(leaf_der)));
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(leaf_der) else {
        return Failure::new(
            FailureKind::Tls,
            "the server's certificate is malformed: it cannot be parsed as X.509",
        )
        .with_hint(format!(
            "if you trust this server anyway, pin this exact certificate with {pin}"
        ));
    };
    let leaf = Leaf::read(&cert, leaf_der);
    let now = i64::try_from(rejection.now.as_secs()).unwrap_or(i64::MAX);
    let other = other_problem(rejection.error);
    let dates = date_problem(&leaf, rejection.error, now);
    let name = name_problem(&leaf, leaf_der, rejection.host);
    let more_problems = other.is_some() || dates.is_some() || name.is_some();
    let trust = trust_problem(rejection, &leaf, !more_problems);

    let problems: Vec<&str> = [&trust, &other, &dates, &name]
        .into_iter()
        .filter_map(|p| p.as_ref().map(|p| p.what.as_str()))
        .collect();
    let mut what = match problems.split_first() {
        Some((first, rest)) => {
            let mut what = format!("the server's certificate {first}");
            for more in rest {
                what.push_str("; also, it ");
                what.push_str(more);
            }
            what
        }
        None => format!(
            "the server's certificate was refused ({})",
            error_words(rejection.error)
        ),
    };
    let summary = &leaf.summary;
    if summary.subject == summary.issuer {
        what.push_str(&format!(" [subject and issuer: {}]", summary.subject));
    } else {
        what.push_str(&format!(" [subject: {}; issuer: {}]", summary.subject, summary.issuer));
    }

    let despite = if more_problems {
        " (a pin accepts it despite its other problems)"
    } else {
        ""
    };
    let hint = match trust.map(|t| t.hint) {
        Some(hint) if hint.is_empty() => {
            format!("if you trust this server, pin this exact certificate with {pin}{despite}")
        }
        Some(hint) => format!("{hint}; or pin this exact certificate with {pin}{despite}"),
        None => {
            let mut steps: Vec<String> = [other, dates, name].into_iter().flatten().map(|p| p.hint).collect();
            steps.push(format!("to accept this exact certificate anyway, pin it with {pin}"));
            steps.join("; ")
        }
    };
    Failure::new(FailureKind::Tls, what).with_hint(hint)
}

/// One thing wrong, as it continues "the server's certificate ...", and
/// what to do about it.
struct Problem {
    what: String,
    hint: String,
}

/// The facts about the server's certificate the explanations use.
struct Leaf {
    summary: CertificateSummary,
    common_names: Vec<String>,
    raw_subject: Vec<u8>,
    not_before: i64,
    not_after: i64,
    self_signed: bool,
}

impl Leaf {
    fn read(cert: &X509Certificate<'_>, der: &[u8]) -> Leaf {
        let validity = cert.validity();
        Leaf {
            summary: summarize_certificate(der),
            common_names: cert
                .subject()
                .iter_common_name()
                .filter_map(|cn| cn.as_str().ok())
                .map(|cn| sanitize_text(cn, false))
                .collect(),
            raw_subject: cert.subject().as_raw().to_vec(),
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
            self_signed: cert.subject().as_raw() == cert.issuer().as_raw() && cert.verify_signature(None).is_ok(),
        }
    }
}

/// Why no trusted authority vouches for the certificate, if that is so.
/// Its hint leaves out the pin (the caller adds it); it suggests
/// `--ca-file` only when none was given and the certificate has no other
/// problem (`fixable`), so that the file alone would make it pass.
fn trust_problem(rejection: &Rejection, leaf: &Leaf, fixable: bool) -> Option<Problem> {
    if rejection.chain.first().is_some_and(|der| rejection.trust.lists(der)) {
        return None;
    }
    let ca_file = match rejection.trust {
        Trust::CaFile { path, certificates } => Some(CaFile {
            path: path.display().to_string(),
            contents: ca_file_contents(certificates),
        }),
        _ => None,
    };
    if leaf.self_signed {
        Some(self_signed_problem(rejection.trust, leaf, ca_file.as_ref(), fixable))
    } else {
        issuer_problem(rejection, leaf, ca_file.as_ref(), fixable)
    }
}

/// `--ca-file`, for the words.
struct CaFile {
    path: String,
    /// What it holds ("1 certificate: CN=...").
    contents: String,
}

fn self_signed_problem(trust: &Trust, leaf: &Leaf, ca_file: Option<&CaFile>, fixable: bool) -> Problem {
    let Some(CaFile { path, contents }) = ca_file else {
        return Problem {
            what: "is self-signed (it is its own issuer), so it is not signed by a trusted authority".into(),
            hint: if fixable {
                "if you trust this server, pass its certificate itself (PEM) with --ca-file".into()
            } else {
                String::new()
            },
        };
    };
    match same_subject(trust, leaf) {
        Some(other) => Problem {
            what: format!(
                "is self-signed and is not the certificate in the CA file {path}, so it is not signed by a trusted authority; the file holds a different certificate with the same subject (sha256:{other}): the server's certificate has been replaced"
            ),
            hint: format!(
                "someone may be intercepting the connection, unless the certificate was replaced on purpose: then put the new one in {path}"
            ),
        },
        None => Problem {
            what: format!(
                "is self-signed and is not in the CA file {path} (which holds {contents}), so it is not signed by a trusted authority"
            ),
            hint: format!("check that {path} is the file for this server"),
        },
    }
}

/// A certificate issued by someone no trusted authority vouches for.
fn issuer_problem(rejection: &Rejection, leaf: &Leaf, ca_file: Option<&CaFile>, fixable: bool) -> Option<Problem> {
    let issuer = &leaf.summary.issuer;
    let (what, hint) = match rejection.error {
        CertificateError::UnknownIssuer => {
            let chain_end = chain_end(rejection.chain)
                .filter(|end| end != issuer)
                .map(|end| format!(" (the chain the server sent ends at {end})"))
                .unwrap_or_default();
            match ca_file {
                None => (
                    format!(
                        "was issued by {issuer}{chain_end}, which is not among this system's trusted root certificates, so it is not signed by a trusted authority"
                    ),
                    if fixable {
                        format!("if {issuer} is a private CA you trust, pass its certificate with --ca-file")
                    } else {
                        String::new()
                    },
                ),
                Some(CaFile { path, contents }) => (
                    format!(
                        "was issued by {issuer}{chain_end}; it is not in the CA file {path} and does not chain to any certificate in it (the file holds {contents}), so it is not signed by a trusted authority"
                    ),
                    format!("put the certificate of {issuer} in {path}, or check that it is the file for this server"),
                ),
            }
        }
        CertificateError::BadSignature => {
            let holder = match ca_file {
                None => "a trusted root certificate of this system".to_string(),
                Some(CaFile { path, .. }) => format!("a certificate in the CA file {path}"),
            };
            (
                format!(
                    "names {issuer} as its issuer, and {holder} has that name but did not sign it, so it is not signed by a trusted authority (one of the two has been replaced)"
                ),
                String::new(),
            )
        }
        CertificateError::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
            Some(webpki::Error::CaUsedAsEndEntity) => (
                "is a CA certificate (basicConstraints CA:TRUE) that no trusted authority vouches for as a server's certificate".to_string(),
                match ca_file {
                    None if fixable => "if you trust this server, pass its certificate itself (PEM) with --ca-file".to_string(),
                    None => String::new(),
                    Some(CaFile { path, .. }) => format!("check that {path} is the file for this server"),
                },
            ),
            Some(error) => (chain_words(error)?, String::new()),
            None => return None,
        },
        _ => return None,
    };
    Some(Problem { what, hint })
}

/// A chain that webpki could not verify, in words; `None` for problems
/// that are not about the chain.
fn chain_words(error: &webpki::Error) -> Option<String> {
    use webpki::Error as E;
    Some(match error {
        E::EndEntityUsedAsCa => "was issued by a certificate that is not a CA (CA:FALSE), so no trusted authority vouches for it".into(),
        E::PathLenConstraintViolated | E::NameConstraintViolation => {
            "was issued by a CA that is not allowed to issue it (path length or name constraints), so no trusted authority vouches for it".into()
        }
        E::MaximumPathDepthExceeded | E::MaximumPathBuildCallsExceeded | E::MaximumSignatureChecksExceeded => {
            "comes with a chain of certificates too long to verify, so no trusted authority vouches for it".into()
        }
        E::CertDistrusted => "was issued by an authority that is no longer trusted".into(),
        _ => return None,
    })
}

/// Problems that are neither trust, dates nor names.
fn other_problem(error: &CertificateError) -> Option<Problem> {
    let what = match error {
        CertificateError::BadEncoding => "is malformed (it cannot be decoded)".to_string(),
        CertificateError::Revoked => "has been revoked by its issuer".to_string(),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "is not meant for TLS servers (its extended key usage lacks serverAuth)".to_string()
        }
        CertificateError::UnhandledCriticalExtension => {
            "has a critical extension that popscope cannot check".to_string()
        }
        CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "is signed with an algorithm popscope does not support".to_string()
        }
        CertificateError::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
            Some(webpki::Error::UnsupportedCriticalExtension) => {
                "has a critical extension that popscope cannot check".to_string()
            }
            Some(webpki::Error::UnsupportedCertVersion) => {
                "is an old X.509 version 1 or 2 certificate, which cannot be verified".to_string()
            }
            Some(error) if chain_words(error).is_some() || matches!(error, webpki::Error::CaUsedAsEndEntity) => {
                return None;
            }
            _ => format!("could not be verified ({})", error_words(error)),
        },
        CertificateError::UnknownIssuer
        | CertificateError::BadSignature
        | CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. }
        | CertificateError::NotValidForName
        | CertificateError::NotValidForNameContext { .. } => return None,
        other => format!("could not be verified ({})", error_words(other)),
    };
    Some(Problem {
        what,
        hint: "ask the server's administrator for a certificate that a TLS client can verify".into(),
    })
}

/// The certificate outside its validity period (or a certificate in its
/// chain, when the verifier says so and the server's own is in date).
fn date_problem(leaf: &Leaf, error: &CertificateError, now: i64) -> Option<Problem> {
    let period = format!("valid from {} to {}", date(leaf.not_before), date(leaf.not_after));
    let clock = format!("check this machine's clock (it says {})", date(now));
    if now > leaf.not_after {
        return Some(Problem {
            what: format!("has expired: it was {period}, and it is now {}", date(now)),
            hint: format!("ask the server's administrator to renew it; {clock}"),
        });
    }
    if now < leaf.not_before {
        return Some(Problem {
            what: format!("is not valid yet: it is {period}, and it is now {}", date(now)),
            hint: clock,
        });
    }
    let seconds = |t: &UnixTime| i64::try_from(t.as_secs()).unwrap_or(i64::MAX);
    match error {
        CertificateError::ExpiredContext { not_after, .. } => Some(Problem {
            what: format!(
                "was issued through a certificate that expired on {} (it is now {})",
                date(seconds(not_after)),
                date(now)
            ),
            hint: format!("ask the server's administrator to renew its certificate chain; {clock}"),
        }),
        CertificateError::NotValidYetContext { not_before, .. } => Some(Problem {
            what: format!(
                "was issued through a certificate that is not valid before {} (it is now {})",
                date(seconds(not_before)),
                date(now)
            ),
            hint: clock,
        }),
        CertificateError::Expired | CertificateError::NotValidYet => Some(Problem {
            what: format!(
                "was issued through a certificate that is out of date (it is now {})",
                date(now)
            ),
            hint: clock,
        }),
        _ => None,
    }
}

/// The host name missing from the certificate's subjectAltName. Only those
/// entries count (RFC 6125); a CN naming the host is the usual confusion
/// (Courier's generated certificate has CN=localhost and only an e-mail
/// address as subjectAltName), so it is pointed out.
fn name_problem(leaf: &Leaf, der: &[u8], host: &str) -> Option<Problem> {
    let server_name = ServerName::try_from(host).ok()?;
    let certificate = CertificateDer::from(der);
    let parsed = ParsedCertificate::try_from(&certificate).ok()?;
    if verify_server_name(&parsed, &server_name).is_ok() {
        return None;
    }
    let names = &leaf.summary.names;
    let host_names: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("DNS:") || n.starts_with("IP:"))
        .collect();
    let listed = if names.is_empty() {
        "it has none".to_string()
    } else if host_names.is_empty() {
        format!("it lists only {}, which names no host", names.join(", "))
    } else {
        format!("it lists {}", names.join(", "))
    };
    let cn = leaf
        .common_names
        .iter()
        .find(|cn| common_name_matches(cn, host))
        .map(|cn| format!(" (its subject's CN={cn} would match, but the CN is not used for host names)"))
        .unwrap_or_default();
    let connect_as = host_names
        .first()
        .map(|n| {
            format!(
                "connect with a name it lists (such as {}), or ",
                n.split_once(':').map_or(n.as_str(), |(_, v)| v)
            )
        })
        .unwrap_or_default();
    Some(Problem {
        what: format!("is not valid for the name {host:?}: only subjectAltName entries count, and {listed}{cn}"),
        hint: format!("{connect_as}have the certificate re-made with subjectAltName DNS:{host}"),
    })
}

fn common_name_matches(cn: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.');
    match cn.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(suffix)),
        None => cn.eq_ignore_ascii_case(host),
    }
}

/// The issuer named by the last certificate the server sent: the authority
/// that would have to be trusted.
fn chain_end(chain: &[Vec<u8>]) -> Option<String> {
    let last = chain.get(1..)?.last()?;
    Some(summarize_certificate(last).issuer)
}

/// The fingerprint of a certificate in `--ca-file` that has the server
/// certificate's subject but is not it: a regenerated self-signed server.
fn same_subject(trust: &Trust, leaf: &Leaf) -> Option<String> {
    let Trust::CaFile { certificates, .. } = trust else {
        return None;
    };
    certificates.iter().find_map(|c| {
        let (_, cert) = x509_parser::parse_x509_certificate(c).ok()?;
        (cert.subject().as_raw() == leaf.raw_subject.as_slice()).then(|| hex(&sha256_fingerprint(c)))
    })
}

/// "N certificates: SUBJECT; SUBJECT; ... and M more".
fn ca_file_contents(certificates: &[CertificateDer<'static>]) -> String {
    let subjects: Vec<String> = certificates
        .iter()
        .take(SUBJECTS_SHOWN)
        .map(|c| summarize_certificate(c).subject)
        .collect();
    let more = certificates.len().saturating_sub(SUBJECTS_SHOWN);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    match certificates.len() {
        1 => format!("1 certificate: {}", subjects.join("; ")),
        n => format!("{n} certificates: {}{more}", subjects.join("; ")),
    }
}

/// A time as `YYYY-MM-DD HH:MM:SS UTC`.
fn date(seconds: i64) -> String {
    match ASN1Time::from_timestamp(seconds) {
        Ok(time) => {
            let t = time.to_datetime();
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        }
        Err(_) => format!("{seconds} s after 1970"),
    }
}

/// An error's variant name in lower-case words ("ca used as end entity"),
/// for the rare errors without a sentence of their own.
fn error_words(error: &impl std::fmt::Debug) -> String {
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

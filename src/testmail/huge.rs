//! The fixed parts of a huge generated demo message, around the
//! attachment that the demo streams (`demo::Maildrop` produces its base64
//! lines chunk by chunk).

use super::dates::{format_date, random_zone};
use super::encode::mailbox;
use super::people::person;
use super::realistic::{DATES_END, DATES_SPAN, RECIPIENT_MAILBOX, domain_of};
use super::rng::{Rng, mix};

/// The headers, text part and attachment headers of a huge generated
/// message, ending right where the base64 lines start. `pad` (0..8)
/// lengthens one line so the caller can make the total size exact.
pub fn head(seed: u64, size: u64, pad: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let (name, addr) = person(&mut rng);
    let kinds: [(&str, &str, &str); 4] = [
        ("Full backup archive", "backup.tar.gz", "application/gzip"),
        ("Raw footage from the shoot", "footage.mov", "video/quicktime"),
        ("Database dump for the migration", "dump.zip", "application/zip"),
        ("Scanned documents, high resolution", "scans.pdf", "application/pdf"),
    ];
    let (title, file, mime) = kinds[kind(seed)];
    // MiB, as mail clients (and popscope) show sizes.
    let mb = size as f64 / f64::from(1 << 20);
    let date = format_date(DATES_END - rng.below(DATES_SPAN as u64) as i64, random_zone(&mut rng));
    let boundary = boundary(seed);
    let reference = format!("{:016X}{:08X}", seed, mix(seed, 1) as u32);
    let reference = &reference[..16 + pad];
    let from = mailbox(&name, &addr, &mut rng);
    format!(
        "Return-Path: <{addr}>\r\n\
         From: {from}\r\n\
         To: {RECIPIENT_MAILBOX}\r\n\
         Subject: {title} ({mb:.1} MB)\r\n\
         Date: {date}\r\n\
         Message-ID: <huge.{seed:016x}@{}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\
         \r\n\
         This is a multi-part message in MIME format.\r\n\
         \r\n\
         --{boundary}\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\
         \r\n\
         Hi,\r\n\
         \r\n\
         here is the file you asked for. It is large, so give it a moment.\r\n\
         \r\n\
         Reference: {reference}\r\n\
         \r\n\
         --{boundary}\r\n\
         Content-Type: {mime}; name=\"{file}\"\r\n\
         Content-Disposition: attachment; filename=\"{file}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n",
        domain_of(&addr)
    )
    .into_bytes()
}

/// What closes a huge generated message after the base64 lines.
pub fn tail(seed: u64) -> Vec<u8> {
    format!("--{}--\r\n", boundary(seed)).into_bytes()
}

fn boundary(seed: u64) -> String {
    format!("=_popscope_huge_{seed:016x}")
}

fn kind(seed: u64) -> usize {
    (mix(seed, 2) % 4) as usize
}

/// The first bytes of the huge attachment, so it looks like the file type
/// its name claims.
pub(crate) fn magic(seed: u64) -> &'static [u8] {
    match kind(seed) {
        0 => b"\x1f\x8b\x08\x00",
        1 => b"\0\0\0\x14ftypqt  ",
        2 => b"PK\x03\x04",
        _ => b"%PDF-1.7\n",
    }
}

//! How generated messages put text on the wire: RFC 2047 encoded words,
//! quoted-printable, base64, wrapped paragraphs.

use super::Rng;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// How a non-ASCII header text is put on the wire.
#[derive(Debug, Clone, Copy)]
enum WordEncoding {
    Utf8Base64,
    Utf8Quoted,
    Latin1Quoted,
}

/// RFC 2047 encoded words for `text`, folded onto continuation lines.
/// Each word stays within the 75-character limit and never splits a
/// character, as RFC 2047 §5 requires.
fn encode_words(text: &str, encoding: WordEncoding) -> String {
    let (prefix, budget) = match encoding {
        WordEncoding::Utf8Base64 => ("=?UTF-8?B?", 45), // 45 bytes -> 60 base64 chars
        WordEncoding::Utf8Quoted => ("=?UTF-8?Q?", 75 - 12),
        WordEncoding::Latin1Quoted => ("=?ISO-8859-1?Q?", 75 - 17),
    };
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new(); // encoded payload (Q) or raw bytes count (B)
    let mut raw: Vec<u8> = Vec::new();
    let flush = |current: &mut String, raw: &mut Vec<u8>, words: &mut Vec<String>| {
        let payload = match encoding {
            WordEncoding::Utf8Base64 => BASE64.encode(&*raw),
            _ => std::mem::take(current),
        };
        if !payload.is_empty() {
            words.push(format!("{prefix}{payload}?="));
        }
        raw.clear();
        current.clear();
    };
    for ch in text.chars() {
        let mut utf8 = [0; 4];
        let bytes: Vec<u8> = match encoding {
            WordEncoding::Latin1Quoted => vec![u8::try_from(u32::from(ch)).unwrap_or(b'?')],
            _ => ch.encode_utf8(&mut utf8).as_bytes().to_vec(),
        };
        match encoding {
            WordEncoding::Utf8Base64 => {
                if raw.len() + bytes.len() > budget {
                    flush(&mut current, &mut raw, &mut words);
                }
                raw.extend_from_slice(&bytes);
            }
            _ => {
                let mut token = String::new();
                for b in bytes {
                    match b {
                        b' ' => token.push('_'),
                        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'!' | b'*' | b'+' | b'-' | b'/' => {
                            token.push(b as char)
                        }
                        _ => token.push_str(&format!("={b:02X}")),
                    }
                }
                if current.len() + token.len() > budget {
                    flush(&mut current, &mut raw, &mut words);
                }
                current.push_str(&token);
            }
        }
    }
    flush(&mut current, &mut raw, &mut words);
    words.join("\r\n ")
}

fn is_latin1(text: &str) -> bool {
    text.chars().all(|c| u32::from(c) <= 0xFF)
}

/// Header text as it goes on the wire: as is when ASCII, else encoded
/// words in one of the encodings real mailers use.
pub(super) fn header_text(text: &str, rng: &mut Rng) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    let encoding = match rng.below(4) {
        0 | 1 if is_latin1(text) => WordEncoding::Latin1Quoted,
        0 | 1 => WordEncoding::Utf8Base64,
        2 => WordEncoding::Utf8Quoted,
        _ => WordEncoding::Utf8Base64,
    };
    encode_words(text, encoding)
}

/// `Name <addr>` with the display name quoted or encoded as needed.
pub(super) fn mailbox(name: &str, addr: &str, rng: &mut Rng) -> String {
    if name.is_empty() {
        format!("<{addr}>")
    } else if !name.is_ascii() {
        format!("{} <{addr}>", header_text(name, rng))
    } else if name.contains(|c: char| ",.'\"()@:;<>[]".contains(c)) {
        format!("\"{}\" <{addr}>", name.replace('"', "\\\""))
    } else {
        format!("{name} <{addr}>")
    }
}

/// Quoted-printable (RFC 2045 §6.7) for a CRLF text, soft-wrapped at 76.
pub(super) fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (i, line) in text.split("\r\n").enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        let bytes = line.as_bytes();
        let mut width = 0;
        for (j, &b) in bytes.iter().enumerate() {
            let last = j + 1 == bytes.len();
            let literal = matches!(b, 33..=60 | 62..=126) || (matches!(b, b' ' | b'\t') && !last);
            let token = if literal {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            };
            if width + token.len() > 75 {
                out.push_str("=\r\n");
                width = 0;
            }
            width += token.len();
            out.push_str(&token);
        }
    }
    out
}

/// Base64 in 76-character lines, each ending in CRLF.
pub(super) fn base64_lines(data: &[u8]) -> String {
    let encoded = BASE64.encode(data);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    for line in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push_str("\r\n");
    }
    out
}

/// Word-wraps paragraphs at 72 columns; paragraphs are separated by a blank
/// line. Output uses CRLF and ends with one.
pub(super) fn wrap_paragraphs(paragraphs: &[String]) -> String {
    let mut out = String::new();
    for (i, para) in paragraphs.iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        let mut width = 0;
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let len = word.chars().count();
            if width > 0 && width + 1 + len > 72 {
                out.push_str("\r\n");
                width = 0;
            } else if width > 0 {
                out.push(' ');
                width += 1;
            }
            out.push_str(word);
            width += len;
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_stay_short_and_decode() {
        let long = "Réunion de lundi : compte rendu détaillé, décisions et prochaines étapes — ☕ 🥐 会議";
        for encoding in [WordEncoding::Utf8Base64, WordEncoding::Utf8Quoted] {
            let encoded = encode_words(long, encoding);
            for word in encoded.split("\r\n ") {
                assert!(word.len() <= 75, "{word}");
            }
            let raw = format!("Subject: {encoded}\r\n\r\n");
            let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap();
            assert_eq!(parsed.subject(), Some(long));
        }
        let latin = "Grüße aus Köln, à bientôt";
        let encoded = encode_words(latin, WordEncoding::Latin1Quoted);
        assert!(encoded.starts_with("=?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln"), "{encoded}");
        let raw = format!("Subject: {encoded}\r\n\r\n");
        let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap();
        assert_eq!(parsed.subject(), Some(latin));
    }

    #[test]
    fn quoted_printable_wraps_and_escapes() {
        let text = format!("{}é=\r\ntrailing space ", "a".repeat(100));
        let qp = quoted_printable(&text);
        assert!(qp.split("\r\n").all(|l| l.len() <= 76), "{qp}");
        assert!(qp.contains("=C3=A9=3D"));
        assert!(qp.ends_with("trailing space=20"));
    }
}

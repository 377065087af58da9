//! Mutations: from one corpus input (and the others, for splicing) to a
//! new input. A few stacked edits each time: bits and bytes, inserted and
//! deleted ranges, protocol tokens from the dictionaries, whole lines moved
//! between inputs (the scripts and answers are line based), and numbers
//! swapped for the ones that break arithmetic.

use crate::engine::Target;
use popscope::testmail::Rng;

/// Tokens every target may use: POP3, SASL, MIME and terminal trouble.
pub const PROTOCOL_TOKENS: &[&[u8]] = &[
    b"+OK",
    b"-ERR",
    b"+OK ",
    b"-ERR ",
    b"\r\n",
    b"\n",
    b"\r",
    b"\r\n.\r\n",
    b".\r\n",
    b"\r\n..",
    b"..",
    b".\r",
    b"[IN-USE]",
    b"[LOGIN-DELAY]",
    b"[SYS/TEMP]",
    b"[SYS/PERM]",
    b"[AUTH]",
    b"[UTF8]",
    b"+ ",
    b"+\r\n",
    b"=",
    b"==",
    b"dXNlcg==",
    b"VXNlcm5hbWU6",
    b"eyJzdGF0dXMiOiI0MDEifQ==",
    b"r=",
    b",s=",
    b",i=",
    b"v=",
    b"e=",
    b"=?utf-8?B?",
    b"=?iso-8859-1?Q?",
    b"?=",
    b"\x1b[",
    b"\x1b]0;",
    b"\x07",
    b"\x9b",
    b"\xe2\x80\xae",
    b"\xe2\x81\xa6",
    b"\xef\xbb\xbf",
    b"\xc3\xa9",
    b"\xff",
    b"\0",
    b"\t",
    b"<1896.697170952@dbc.mtview.ca.us>",
    b"Content-Type: multipart/mixed; boundary=",
    b"Content-Transfer-Encoding: base64",
    b"filename=",
];

/// Numbers at the edges of the types and bounds popscope uses.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "7",
    "255",
    "256",
    "998",
    "999",
    "4096",
    "8192",
    "65535",
    "65536",
    "10000000",
    "10000001",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "18446744073709551615",
    "18446744073709551616",
    "-1",
    "00000000000000000001",
];

const INTERESTING_BYTES: &[u8] = b"\0\r\n\t .+-<>[]=\\/\"\x1b\x7f\x80\x9b\xc3\xe2\xff";

/// A child of `corpus[parent]`, at most `target.max_len` bytes long.
pub fn mutate(rng: &mut Rng, parent: usize, corpus: &[Vec<u8>], target: &Target) -> Vec<u8> {
    let mut data = corpus[parent].clone();
    if data.len() > target.max_len {
        let start = rng.below((data.len() - target.max_len) as u64 + 1) as usize;
        data = data[start..start + target.max_len].to_vec();
    }
    let edits = 1 << rng.below(4);
    for _ in 0..edits {
        let other = &corpus[rng.below(corpus.len() as u64) as usize];
        edit(rng, &mut data, other, target.dictionary);
    }
    data.truncate(target.max_len);
    data
}

fn edit(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8], dictionary: &[&[u8]]) {
    let len = data.len();
    let at = |rng: &mut Rng| rng.below(len as u64 + 1) as usize;
    match rng.below(14) {
        0 if len > 0 => {
            let i = rng.below(len as u64) as usize;
            data[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len as u64) as usize;
            data[i] = rng.next_u64() as u8;
        }
        2 if len > 0 => {
            let i = rng.below(len as u64) as usize;
            data[i] = *rng.pick(INTERESTING_BYTES);
        }
        3 => {
            let i = at(rng);
            let n = 1 + rng.below(8) as usize;
            let bytes = rng.bytes(n);
            data.splice(i..i, bytes);
        }
        4 if len > 0 => {
            let i = rng.below(len as u64) as usize;
            let n = 1 + rng.below((len - i).min(64) as u64) as usize;
            data.drain(i..i + n);
        }
        5 if len > 0 => {
            let from = rng.below(len as u64) as usize;
            let n = 1 + rng.below((len - from).min(256) as u64) as usize;
            let copy = data[from..from + n].to_vec();
            let i = at(rng);
            data.splice(i..i, copy);
        }
        6 | 7 => {
            let token = pick_token(rng, dictionary);
            let i = at(rng);
            data.splice(i..i, token.iter().copied());
        }
        8 if len > 0 => {
            let token = pick_token(rng, dictionary);
            let i = rng.below(len as u64) as usize;
            let end = (i + token.len()).min(len);
            data.splice(i..end, token.iter().copied());
        }
        9 if !other.is_empty() => {
            let from = rng.below(other.len() as u64) as usize;
            let mut spliced = data[..at(rng)].to_vec();
            spliced.extend_from_slice(&other[from..]);
            *data = spliced;
        }
        10 if !other.is_empty() => {
            let from = rng.below(other.len() as u64) as usize;
            let n = 1 + rng.below((other.len() - from).min(512) as u64) as usize;
            let i = at(rng);
            data.splice(i..i, other[from..from + n].iter().copied());
        }
        11 => edit_lines(rng, data, other),
        12 => swap_number(rng, data),
        13 if len > 0 => {
            let i = rng.below(len as u64) as usize;
            let delta = 1 + rng.below(16) as u8;
            data[i] = if rng.percent(50) {
                data[i].wrapping_add(delta)
            } else {
                data[i].wrapping_sub(delta)
            };
        }
        _ => {
            let token = pick_token(rng, dictionary);
            data.extend_from_slice(token);
        }
    }
}

fn pick_token<'a>(rng: &mut Rng, dictionary: &'a [&'a [u8]]) -> &'a [u8] {
    let tokens = if !dictionary.is_empty() && rng.percent(60) {
        dictionary
    } else {
        PROTOCOL_TOKENS
    };
    tokens[rng.below(tokens.len() as u64) as usize]
}

/// Line edits: delete, duplicate or swap lines, or bring one in from
/// another input.
fn edit_lines(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    let mut lines: Vec<Vec<u8>> = data.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    let count = lines.len() as u64;
    match rng.below(4) {
        0 if count > 0 => {
            lines.remove(rng.below(count) as usize);
        }
        1 if count > 0 => {
            let line = lines[rng.below(count) as usize].clone();
            lines.insert(rng.below(count + 1) as usize, line);
        }
        2 if count > 1 => {
            lines.swap(rng.below(count) as usize, rng.below(count) as usize);
        }
        _ => {
            let theirs: Vec<&[u8]> = other.split_inclusive(|&b| b == b'\n').collect();
            if !theirs.is_empty() {
                let line = rng.pick(&theirs).to_vec();
                lines.insert(rng.below(count + 1) as usize, line);
            }
        }
    }
    *data = lines.concat();
}

/// Replaces a run of digits (or inserts a number) with one of `NUMBERS`.
fn swap_number(rng: &mut Rng, data: &mut Vec<u8>) {
    let number = rng.pick(NUMBERS).as_bytes();
    let runs: Vec<(usize, usize)> = {
        let mut runs = Vec::new();
        let mut start = None;
        for (i, b) in data.iter().enumerate().chain(std::iter::once((data.len(), &b' '))) {
            match (b.is_ascii_digit(), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    runs.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        runs
    };
    if runs.is_empty() {
        let i = rng.below(data.len() as u64 + 1) as usize;
        data.splice(i..i, number.iter().copied());
    } else {
        let (start, end) = *rng.pick(&runs);
        data.splice(start..end, number.iter().copied());
    }
}

//! The server side of the SASL mechanisms, written from the RFCs (not from
//! popscope's client), so the targets can run honest exchanges and check
//! the client's answers: SCRAM (RFC 5802), CRAM-MD5 (RFC 2195).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use popscope::pop3::auth::Mechanism;
use sha1::{Digest, Sha1};
use sha2::Sha256;

fn hmac(mechanism: Mechanism, key: &[u8], data: &[u8]) -> Vec<u8> {
    fn run<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
        let mut mac = <M as KeyInit>::new_from_slice(key).expect("any key length");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
    match mechanism {
        Mechanism::ScramSha1 => run::<Hmac<Sha1>>(key, data),
        Mechanism::ScramSha256 => run::<Hmac<Sha256>>(key, data),
        _ => run::<Hmac<md5::Md5>>(key, data),
    }
}

fn hash(mechanism: Mechanism, data: &[u8]) -> Vec<u8> {
    match mechanism {
        Mechanism::ScramSha1 => Sha1::digest(data).to_vec(),
        _ => Sha256::digest(data).to_vec(),
    }
}

fn salted_password(mechanism: Mechanism, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    match mechanism {
        Mechanism::ScramSha1 => pbkdf2::pbkdf2_hmac_array::<Sha1, 20>(password, salt, iterations).to_vec(),
        _ => pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(password, salt, iterations).to_vec(),
    }
}

/// `user hexdigest`: what a CRAM-MD5 client must answer.
pub fn cram_md5_answer(user: &str, password: &[u8], challenge: &[u8]) -> Vec<u8> {
    let digest: String = hmac(Mechanism::CramMd5, password, challenge)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{user} {digest}").into_bytes()
}

/// One SCRAM exchange, server side, knowing `password`.
pub struct ScramServer {
    mechanism: Mechanism,
    client_first_bare: String,
    server_first: String,
    salted: Vec<u8>,
}

impl ScramServer {
    /// Reads the client-first-message and makes the server-first one with
    /// the client's nonce extended by `nonce_tail`. `None` when the client's
    /// message is not what RFC 5802 says a client without channel binding
    /// sends.
    pub fn start(
        mechanism: Mechanism,
        password: &[u8],
        client_first: &[u8],
        nonce_tail: &str,
        salt: &[u8],
        iterations: u32,
    ) -> Option<ScramServer> {
        let text = std::str::from_utf8(client_first).ok()?;
        let bare = text.strip_prefix("n,,")?;
        let nonce = bare.split(',').find_map(|a| a.strip_prefix("r="))?;
        let server_first = format!("r={nonce}{nonce_tail},s={},i={iterations}", B64.encode(salt));
        Some(ScramServer {
            mechanism,
            client_first_bare: bare.to_string(),
            server_first,
            salted: salted_password(mechanism, password, salt, iterations),
        })
    }

    pub fn server_first(&self) -> &str {
        &self.server_first
    }

    /// Checks the client-final-message's proof with the password this
    /// server knows.
    pub fn check_proof(&self, client_final: &[u8]) -> Result<(), String> {
        let (without_proof, proof) = split_final(client_final)?;
        let proof = B64.decode(proof).map_err(|e| format!("proof is not base64: {e}"))?;
        let m = self.mechanism;
        let client_key = hmac(m, &self.salted, b"Client Key");
        let signature = hmac(m, &hash(m, &client_key), self.auth_message(without_proof).as_bytes());
        let expected: Vec<u8> = client_key.iter().zip(&signature).map(|(k, s)| k ^ s).collect();
        if proof == expected {
            Ok(())
        } else {
            Err(format!(
                "the client's proof is wrong: {:?}",
                String::from_utf8_lossy(client_final)
            ))
        }
    }

    /// The server-final-message (`v=...`) this server sends, proof checked
    /// or not (an impostor does not check).
    pub fn server_final(&self, client_final: &[u8]) -> Result<String, String> {
        let (without_proof, _) = split_final(client_final)?;
        let server_key = hmac(self.mechanism, &self.salted, b"Server Key");
        let signature = hmac(self.mechanism, &server_key, self.auth_message(without_proof).as_bytes());
        Ok(format!("v={}", B64.encode(signature)))
    }

    fn auth_message(&self, without_proof: &str) -> String {
        format!("{},{},{without_proof}", self.client_first_bare, self.server_first)
    }
}

fn split_final(client_final: &[u8]) -> Result<(&str, &str), String> {
    let text = std::str::from_utf8(client_final).map_err(|_| "client-final is not UTF-8".to_string())?;
    text.rsplit_once(",p=")
        .ok_or_else(|| format!("client-final has no proof: {text:?}"))
}

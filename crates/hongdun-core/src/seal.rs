//! Tamper-evident delivery seals (食安封签): a seal's code carries its batch and
//! serial and a MAC under the bureau's key, so a forged or mistyped code is
//! recognised by arithmetic alone, without a database lookup. DOMAIN.md §6.
//!
//! A code is 13 bytes — key id (1), batch (4), serial (2), and the first 6
//! bytes of HMAC-SHA256(key, "hongdun-seal-v1" ‖ those 7 bytes) — written in
//! Crockford base32 as 21 symbols (printed in groups, read back case- and
//! dash-insensitively, with O→0 and I/L→1 as Crockford allows). Guessing a
//! valid code for a known batch succeeds once in 2^48 tries.
use crate::Coded;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const DOMAIN: &[u8] = b"hongdun-seal-v1";
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const BODY: usize = 7;
const MAC_LEN: usize = 6;
const BYTES: usize = BODY + MAC_LEN;
/// Symbols in a code (13 bytes = 104 bits → 21 base32 symbols).
pub const CODE_LEN: usize = 21;

/// One signing key; several may be valid at once (rotation by id).
#[derive(Clone)]
pub struct SealKey {
    pub id: u8,
    secret: [u8; 32],
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log.
        f.debug_struct("SealKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SealKey {
    pub fn new(id: u8, secret: [u8; 32]) -> Self {
        Self { id, secret }
    }
    fn mac(&self, body: &[u8; BODY]) -> Hmac<Sha256> {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("any key length");
        m.update(DOMAIN);
        m.update(body);
        m
    }
}

/// What a seal code names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SealId {
    pub key_id: u8,
    pub batch: u32,
    pub serial: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("not a seal code")]
    Malformed,
    #[error("signed with a key this system does not hold")]
    UnknownKey,
    #[error("the signature does not match")]
    Forged,
}

impl Coded for SealError {
    fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "seal_malformed",
            Self::UnknownKey => "seal_unknown_key",
            Self::Forged => "seal_forged",
        }
    }
    fn message_zh(&self) -> String {
        match self {
            Self::Malformed => "这不是有效的食安封签码，请核对后重试".into(),
            Self::UnknownKey | Self::Forged => {
                "该封签码不是市场监管部门发放的，可能是伪造的，请拒收并拨打 12315 反映".into()
            }
        }
    }
}

fn body_of(id: SealId) -> [u8; BODY] {
    let mut b = [0u8; BODY];
    b[0] = id.key_id;
    b[1..5].copy_from_slice(&id.batch.to_be_bytes());
    b[5..7].copy_from_slice(&id.serial.to_be_bytes());
    b
}

/// The code of seal `serial` in `batch`, signed with `key`.
pub fn seal_code(key: &SealKey, batch: u32, serial: u16) -> String {
    let body = body_of(SealId {
        key_id: key.id,
        batch,
        serial,
    });
    let tag = key.mac(&body).finalize().into_bytes();
    let mut bytes = [0u8; BYTES];
    bytes[..BODY].copy_from_slice(&body);
    bytes[BODY..].copy_from_slice(&tag[..MAC_LEN]);
    encode(&bytes)
}

/// Checks a code against the keys held: its batch and serial, or why not.
pub fn verify_seal(keys: &[SealKey], code: &str) -> Result<SealId, SealError> {
    let bytes = decode(code).ok_or(SealError::Malformed)?;
    let mut body = [0u8; BODY];
    body.copy_from_slice(&bytes[..BODY]);
    let key = keys
        .iter()
        .find(|k| k.id == body[0])
        .ok_or(SealError::UnknownKey)?;
    key.mac(&body)
        .verify_truncated_left(&bytes[BODY..])
        .map_err(|_| SealError::Forged)?;
    Ok(SealId {
        key_id: body[0],
        batch: u32::from_be_bytes([body[1], body[2], body[3], body[4]]),
        serial: u16::from_be_bytes([body[5], body[6]]),
    })
}

/// The canonical form of a code typed loosely (case, dashes, O/I/L), or
/// `None` when it is not a code at all. No key is involved.
pub fn canonical(code: &str) -> Option<String> {
    decode(code).map(|b| encode(&b))
}

/// The code as printed: groups of 4 (the last of 5) for people reading it aloud.
pub fn pretty(code: &str) -> String {
    let c: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(26);
    for (i, ch) in c.iter().enumerate() {
        if i > 0 && i % 4 == 0 && i < 20 {
            out.push('-');
        }
        out.push(*ch);
    }
    out
}

fn encode(bytes: &[u8; BYTES]) -> String {
    let mut out = String::with_capacity(CODE_LEN);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn symbol(c: char) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    ALPHABET
        .iter()
        .position(|&a| a as char == c)
        .map(|p| p as u32)
}

fn decode(code: &str) -> Option<[u8; BYTES]> {
    let mut out = [0u8; BYTES];
    let (mut acc, mut bits, mut n, mut symbols) = (0u32, 0, 0usize, 0usize);
    for c in code.chars().filter(|c| !matches!(c, '-' | ' ')) {
        acc = (acc << 5) | symbol(c)?;
        bits += 5;
        symbols += 1;
        if bits >= 8 {
            bits -= 8;
            if n == BYTES {
                return None;
            }
            out[n] = (acc >> bits) as u8;
            n += 1;
        }
        acc &= (1 << bits) - 1;
    }
    // 21 symbols = 105 bits: 13 bytes and one padding bit, which must be zero.
    (symbols == CODE_LEN && n == BYTES && acc == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys() -> Vec<SealKey> {
        vec![SealKey::new(1, [7u8; 32]), SealKey::new(2, [9u8; 32])]
    }

    #[test]
    fn codes_verify_and_name_their_seal() {
        let k = keys();
        let code = seal_code(&k[1], 123_456, 4_321);
        assert_eq!(code.len(), CODE_LEN);
        let id = verify_seal(&k, &code).unwrap();
        assert_eq!((id.key_id, id.batch, id.serial), (2, 123_456, 4_321));
        // Read back as people type it.
        assert_eq!(verify_seal(&k, &pretty(&code).to_lowercase()), Ok(id));
        assert_eq!(pretty(&code).len(), 25);
    }

    #[test]
    fn forgeries_are_recognised_without_a_lookup() {
        let k = keys();
        let code = seal_code(&k[0], 1, 1);
        // Another batch with the same signature: forged.
        let other = seal_code(&k[0], 2, 1);
        let spliced = format!("{}{}", &other[..11], &code[11..]);
        assert_eq!(verify_seal(&k, &spliced), Err(SealError::Forged));
        // A key this system does not hold.
        let foreign = seal_code(&SealKey::new(9, [1u8; 32]), 1, 1);
        assert_eq!(verify_seal(&k, &foreign), Err(SealError::UnknownKey));
        // Same id, other secret.
        let fake = seal_code(&SealKey::new(1, [8u8; 32]), 1, 1);
        assert_eq!(verify_seal(&k, &fake), Err(SealError::Forged));
        assert_eq!(verify_seal(&k, "hello"), Err(SealError::Malformed));
        assert_eq!(
            verify_seal(&k, &format!("{code}0")),
            Err(SealError::Malformed)
        );
        assert!(
            format!("{:?}", k[0]).find("7, 7").is_none(),
            "no secret in Debug"
        );
    }

    proptest! {
        #[test]
        fn round_trip(batch in any::<u32>(), serial in any::<u16>()) {
            let k = keys();
            let id = verify_seal(&k, &seal_code(&k[0], batch, serial)).unwrap();
            prop_assert_eq!((id.batch, id.serial), (batch, serial));
        }

        /// Any single-symbol change of a valid code is caught.
        #[test]
        fn one_symbol_changed_never_verifies(batch in any::<u32>(), pos in 0usize..CODE_LEN, sym in 0usize..32) {
            let k = keys();
            let code = seal_code(&k[0], batch, 7);
            let mut c: Vec<u8> = code.into_bytes();
            prop_assume!(c[pos] != ALPHABET[sym]);
            c[pos] = ALPHABET[sym];
            let changed = String::from_utf8(c).unwrap();
            prop_assert!(verify_seal(&k, &changed).is_err());
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = verify_seal(&keys(), &s);
        }
    }
}

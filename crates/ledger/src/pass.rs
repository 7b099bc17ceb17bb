//! The pass code: a document signed with the ledger's key. It is what the QR code on a
//! printed emergency datacenter pass (4.3) carries, and what the guard scans or types. It holds the pass, the person, the datacenter and the window,
//! signed with the ledger's key, so it can be checked offline with the public key alone
//! (`bantay pass verify`). Format: `BP1.<payload>.<signature>`, both base64url; the
//! payload is the claims as JSON, the signature Ed25519 over a domain tag and the payload.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

const PREFIX: &str = "BP1";
const DOMAIN: &[u8] = b"bantay-pass\x00\x01";

/// What a pass says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassClaims {
    pub pass: String,
    pub person: String,
    pub datacenter: String,
    /// Unix seconds.
    pub from: i64,
    pub until: i64,
}

/// What an offline check of a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// Genuine and within its window.
    Valid(PassClaims),
    TooEarly(PassClaims),
    Expired(PassClaims),
    /// Well formed, but no key Bantay signs with signed it (forged or altered).
    Forged,
    /// Not a pass code at all; says what is wrong.
    Malformed(String),
}

impl CodeCheck {
    /// The verdict's word, as the guard sees it and the logbook records it.
    pub fn verdict(&self) -> &'static str {
        match self {
            CodeCheck::Valid(_) => "valid",
            CodeCheck::TooEarly(_) => "too early",
            CodeCheck::Expired(_) => "expired",
            CodeCheck::Forged => "forged",
            CodeCheck::Malformed(_) => "malformed",
        }
    }
}

/// The bytes the signature covers.
pub fn signed_message(payload: &[u8]) -> Vec<u8> {
    let mut message = DOMAIN.to_vec();
    message.extend_from_slice(payload);
    message
}

/// The payload of `claims` (what the signature covers, after the domain tag).
pub fn payload(claims: &PassClaims) -> Vec<u8> {
    serde_json::to_vec(claims).unwrap_or_default()
}

/// The code of a signed payload.
pub fn encode(payload: &[u8], signature: &[u8; 64]) -> String {
    format!("{PREFIX}.{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(signature))
}

/// Reads a code (surrounding whitespace, as a scanner may type it, is ignored).
fn decode(code: &str) -> Result<(PassClaims, Vec<u8>, Signature), String> {
    let mut parts = code.trim().split('.');
    let (Some(prefix), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("a pass code has three parts, BP1.<payload>.<signature>".into());
    };
    if prefix != PREFIX {
        return Err(format!("a pass code starts with {PREFIX}."));
    }
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|e| format!("payload: {e}"))?;
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|e| format!("signature: {e}"))?
        .try_into()
        .map_err(|_| "signature: not 64 bytes".to_owned())?;
    let claims: PassClaims =
        serde_json::from_slice(&payload).map_err(|e| format!("payload: {e}"))?;
    Ok((claims, payload, Signature::from_bytes(&signature)))
}

/// Checks a code against the keys the ledger has signed with, at `now`.
pub fn check(code: &str, keys: &[VerifyingKey], now: i64) -> CodeCheck {
    let (claims, payload, signature) = match decode(code) {
        Ok(parts) => parts,
        Err(why) => return CodeCheck::Malformed(why),
    };
    let message = signed_message(&payload);
    if !keys.iter().any(|k| k.verify_strict(&message, &signature).is_ok()) {
        return CodeCheck::Forged;
    }
    if now < claims.from {
        CodeCheck::TooEarly(claims)
    } else if now >= claims.until {
        CodeCheck::Expired(claims)
    } else {
        CodeCheck::Valid(claims)
    }
}

/// The claims of a code without checking it (to log who a refused code named).
pub fn claims_unchecked(code: &str) -> Option<PassClaims> {
    decode(code).ok().map(|(claims, _, _)| claims)
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer as _, SigningKey};

    use super::*;

    fn signed(key: &SigningKey, claims: &PassClaims) -> String {
        let payload = payload(claims);
        encode(&payload, &key.sign(&signed_message(&payload)).to_bytes())
    }

    #[test]
    fn genuine_forged_altered_and_expired_codes() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let claims = PassClaims {
            pass: "P-1".into(),
            person: "ANA".into(),
            datacenter: "DC-MAIN".into(),
            from: 100,
            until: 200,
        };
        let code = signed(&key, &claims);
        let keys = [key.verifying_key()];
        assert_eq!(check(&code, &keys, 150), CodeCheck::Valid(claims.clone()));
        assert_eq!(check(&format!("  {code}\n"), &keys, 150), CodeCheck::Valid(claims.clone()));
        assert_eq!(check(&code, &keys, 99), CodeCheck::TooEarly(claims.clone()));
        assert_eq!(check(&code, &keys, 200), CodeCheck::Expired(claims.clone()));
        assert_eq!(check(&signed(&other, &claims), &keys, 150), CodeCheck::Forged);
        // Altered: a longer window under the genuine signature.
        let longer = PassClaims { until: 9_999, ..claims.clone() };
        let signature = code.rsplit('.').next().unwrap();
        let altered = format!("BP1.{}.{signature}", URL_SAFE_NO_PAD.encode(payload(&longer)));
        assert_eq!(check(&altered, &keys, 150), CodeCheck::Forged);
        for bad in ["", "BP1", "BP2.x.y", "BP1.!!.y", "BP1.e30.AAAA", "BP1.a.b.c"] {
            assert!(matches!(check(bad, &keys, 150), CodeCheck::Malformed(_)), "{bad}");
        }
    }
}

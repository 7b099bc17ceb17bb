//! Certificates of data extracts (1.3.7: TSD certifies that data extracted from the
//! Bureau's databases is what the databases hold). A certificate names the source, the
//! read-only query, the columns, the row count and the SHA-256 of the rows in a canonical
//! form, who certified and when; it is signed with the ledger's key, so that anyone with
//! the public key can check a certificate and its extract file offline.
//!
//! The canonical form of a table: one line per row, each row a JSON array of its cells
//! as text (`null` for SQL NULL), lines joined by `\n`. Readers of extract files (CSV,
//! JSON lines) and of the source produce the same form; this module only hashes it.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::event::canonical_json;

const DOMAIN: &[u8] = b"bantay-extract-certificate\x00\x01";

/// A table as text: its columns and its rows, each cell text or NULL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl Table {
    /// The SHA-256 of the canonical form, hex.
    pub fn content_hash(&self) -> String {
        let mut hasher = Sha256::new();
        for (i, row) in self.rows.iter().enumerate() {
            if i > 0 {
                hasher.update(b"\n");
            }
            hasher.update(serde_json::to_vec(row).unwrap_or_default());
        }
        hex::encode(hasher.finalize())
    }

    /// The first place two tables differ: the row (1-based, as a person counts) and the
    /// column, with both values; or a difference in columns or row count.
    pub fn first_difference(&self, other: &Table) -> Option<Difference> {
        if self.columns != other.columns {
            return Some(Difference::Columns {
                expected: self.columns.clone(),
                found: other.columns.clone(),
            });
        }
        for (i, (a, b)) in self.rows.iter().zip(&other.rows).enumerate() {
            if let Some(c) = (0..a.len().max(b.len())).find(|&c| a.get(c) != b.get(c)) {
                return Some(Difference::Cell {
                    row: i as u64 + 1,
                    column: self.columns.get(c).cloned().unwrap_or_else(|| format!("#{}", c + 1)),
                    expected: a.get(c).cloned().flatten(),
                    found: b.get(c).cloned().flatten(),
                });
            }
        }
        match self.rows.len().cmp(&other.rows.len()) {
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Greater => Some(Difference::Missing {
                row: other.rows.len() as u64 + 1,
                expected: self.rows.len() as u64,
                found: other.rows.len() as u64,
            }),
            std::cmp::Ordering::Less => Some(Difference::Extra {
                row: self.rows.len() as u64 + 1,
                expected: self.rows.len() as u64,
                found: other.rows.len() as u64,
            }),
        }
    }
}

/// Where an extract departs from the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    Columns {
        expected: Vec<String>,
        found: Vec<String>,
    },
    Cell {
        row: u64,
        column: String,
        expected: Option<String>,
        found: Option<String>,
    },
    /// The extract ends early: the source's row `row` is not in it.
    Missing {
        row: u64,
        expected: u64,
        found: u64,
    },
    /// The extract has rows the source does not, from row `row`.
    Extra {
        row: u64,
        expected: u64,
        found: u64,
    },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cell =
            |v: &Option<String>| v.as_ref().map_or_else(|| "NULL".to_owned(), |s| format!("{s:?}"));
        match self {
            Difference::Columns { expected, found } => {
                write!(
                    f,
                    "the columns differ: the source has {}, the extract {}",
                    expected.join(", "),
                    found.join(", ")
                )
            }
            Difference::Cell { row, column, expected, found } => write!(
                f,
                "row {row}, column `{column}`: the source holds {}, the extract {}",
                cell(expected),
                cell(found)
            ),
            Difference::Missing { row, expected, found } => {
                write!(f, "row {row} is missing from the extract (the source has {expected} rows, the extract {found})")
            }
            Difference::Extra { row, expected, found } => {
                write!(f, "row {row} of the extract is not in the source (the source has {expected} rows, the extract {found})")
            }
        }
    }
}

/// What a certificate says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certified {
    /// The source database, password removed.
    pub source: String,
    pub query: String,
    pub columns: Vec<String>,
    pub rows: u64,
    /// SHA-256 of the canonical form of the rows.
    pub content_sha256: String,
    /// The extract file's name and format (`csv` or `jsonl`).
    pub extract: String,
    pub format: String,
    /// Unix seconds.
    pub certified_at: i64,
    /// The certifying officer.
    pub officer: String,
}

/// A signed certificate, as written to a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub certified: Certified,
    /// The ledger's public key that signed it (hex); check it against one you trust.
    pub public_key: String,
    pub signature: String,
    /// The ledger event that records it.
    #[serde(default)]
    pub ledger_seq: Option<u64>,
}

/// What the signature covers.
pub fn signed_bytes(certified: &Certified) -> Vec<u8> {
    let value = serde_json::to_value(certified).unwrap_or_default();
    let mut message = DOMAIN.to_vec();
    message.extend(canonical_json(&value).unwrap_or_default());
    message
}

impl Certificate {
    /// Signs `certified` with `key` (for a caller holding the key; the store signs with
    /// the ledger's key through [`signed_bytes`] instead).
    pub fn sign(certified: Certified, key: &SigningKey) -> Self {
        let signature = key.sign(&signed_bytes(&certified));
        Self::from_parts(certified, &key.verifying_key(), &signature.to_bytes())
    }

    pub fn from_parts(certified: Certified, key: &VerifyingKey, signature: &[u8; 64]) -> Self {
        Self {
            certified,
            public_key: hex::encode(key.as_bytes()),
            signature: hex::encode(signature),
            ledger_seq: None,
        }
    }

    /// Checks the signature with `trusted` (the certificate's own key proves nothing by
    /// itself) and that `extract` has the certified content.
    pub fn check(&self, trusted: &VerifyingKey, extract: &Table) -> Result<(), CertificateProblem> {
        let signature: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(CertificateProblem::Malformed("signature: expected 128 hex digits"))?;
        if hex::encode(trusted.as_bytes()) != self.public_key {
            return Err(CertificateProblem::UntrustedKey { key: self.public_key.clone() });
        }
        trusted
            .verify_strict(&signed_bytes(&self.certified), &Signature::from_bytes(&signature))
            .map_err(|_| CertificateProblem::BadSignature)?;
        if extract.columns != self.certified.columns {
            return Err(CertificateProblem::Content(format!(
                "the columns differ: certified {}, the file has {}",
                self.certified.columns.join(", "),
                extract.columns.join(", ")
            )));
        }
        if extract.rows.len() as u64 != self.certified.rows {
            return Err(CertificateProblem::Content(format!(
                "{} rows were certified, the file has {}",
                self.certified.rows,
                extract.rows.len()
            )));
        }
        if extract.content_hash() != self.certified.content_sha256 {
            return Err(CertificateProblem::Content(
                "the rows differ from what was certified".into(),
            ));
        }
        Ok(())
    }
}

/// Why a certificate does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateProblem {
    #[error("the certificate is malformed: {0}")]
    Malformed(&'static str),
    #[error("the certificate was signed by key {key}, which is not the key you trust")]
    UntrustedKey { key: String },
    #[error("the signature does not match: the certificate was altered or forged")]
    BadSignature,
    #[error("the file is not the certified extract: {0}")]
    Content(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&[Option<&str>]]) -> Table {
        Table {
            columns: vec!["id".into(), "name".into()],
            rows: rows.iter().map(|r| r.iter().map(|c| c.map(str::to_owned)).collect()).collect(),
        }
    }

    #[test]
    fn differences_are_named_by_row_and_column() {
        let source = table(&[&[Some("1"), Some("Ana")], &[Some("2"), None]]);
        assert_eq!(source.first_difference(&source.clone()), None);
        let changed = table(&[&[Some("1"), Some("Ana")], &[Some("2"), Some("")]]);
        assert_eq!(
            source.first_difference(&changed).unwrap().to_string(),
            "row 2, column `name`: the source holds NULL, the extract \"\""
        );
        let short = table(&[&[Some("1"), Some("Ana")]]);
        assert!(source
            .first_difference(&short)
            .unwrap()
            .to_string()
            .starts_with("row 2 is missing"));
        assert!(short
            .first_difference(&source)
            .unwrap()
            .to_string()
            .starts_with("row 2 of the extract is not in the source"));
        assert_ne!(source.content_hash(), changed.content_hash());
    }

    #[test]
    fn certificates_check_with_the_trusted_key_only() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let rows = table(&[&[Some("1"), Some("Ana")]]);
        let certified = Certified {
            source: "postgres://db/x".into(),
            query: "SELECT 1".into(),
            columns: rows.columns.clone(),
            rows: 1,
            content_sha256: rows.content_hash(),
            extract: "x.csv".into(),
            format: "csv".into(),
            certified_at: 1,
            officer: "P1".into(),
        };
        let cert = Certificate::sign(certified, &key);
        assert_eq!(cert.check(&key.verifying_key(), &rows), Ok(()));
        let mut altered = cert.clone();
        altered.certified.rows = 2;
        assert_eq!(
            altered.check(&key.verifying_key(), &rows),
            Err(CertificateProblem::BadSignature)
        );
        let other = SigningKey::from_bytes(&[4; 32]);
        let forged = Certificate::sign(cert.certified.clone(), &other);
        assert!(matches!(
            forged.check(&key.verifying_key(), &rows),
            Err(CertificateProblem::UntrustedKey { .. })
        ));
        let wrong = table(&[&[Some("1"), Some("Ben")]]);
        assert!(matches!(
            cert.check(&key.verifying_key(), &wrong),
            Err(CertificateProblem::Content(_))
        ));
    }
}

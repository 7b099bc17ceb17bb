//! The ledger's signing key on disk: a file only its owner can read, holding the Ed25519
//! secret as hex under a header line. Public keys are shown and exchanged as 64 hex
//! digits.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::error::{Result, StoreError};

const HEADER: &str = "bantay ed25519 signing key v1";

/// The default key file, beside the default database.
pub const DEFAULT_KEY_FILE: &str = "bantay.key";

fn key_error(path: &Path, message: impl Into<String>) -> StoreError {
    StoreError::Key { path: path.to_owned(), message: message.into() }
}

/// Makes a new key and writes it to `path`, readable and writable by its owner only.
/// Refuses to overwrite an existing file: losing a key loses the ability to sign.
pub fn create_key_file(path: &Path) -> Result<SigningKey> {
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => key_error(
            path,
            "already exists; Bantay never overwrites a signing key: move it away or pass another --key path",
        ),
        _ => key_error(path, format!("cannot create the key file: {e}")),
    })?;
    let text = format!("{HEADER}\n{}\n", hex::encode(key.to_bytes()));
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| key_error(path, format!("cannot write the key file: {e}")))?;
    Ok(key)
}

/// Reads a key file, refusing one that others can read.
pub fn read_key_file(path: &Path) -> Result<SigningKey> {
    let metadata = std::fs::metadata(path).map_err(|e| {
        key_error(
            path,
            format!(
                "cannot read the signing key ({e}); `bantay init` creates it, or pass --key PATH"
            ),
        )
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(key_error(
                path,
                format!(
                    "is readable by others (mode {:o}); run `chmod 600 {}`",
                    mode & 0o777,
                    path.display()
                ),
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let text = std::fs::read_to_string(path)
        .map_err(|e| key_error(path, format!("cannot read the signing key: {e}")))?;
    parse_key_file(&text).map_err(|message| key_error(path, message))
}

fn parse_key_file(text: &str) -> Result<SigningKey, String> {
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err(format!("line 1: expected `{HEADER}`; this is not a Bantay key file"));
    }
    let secret = lines.next().unwrap_or("").trim();
    let bytes: [u8; 32] = hex::decode(secret)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("line 2: expected the secret key as 64 hex digits")?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// A public key as people see it: 64 hex digits.
pub fn public_key_hex(key: &VerifyingKey) -> String {
    hex::encode(key.to_bytes())
}

/// Reads a public key written by [`public_key_hex`] (surrounding white space allowed).
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("expected an Ed25519 public key as 64 hex digits")?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not a valid Ed25519 public key".to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_key_file_reads_back_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let key = create_key_file(&path).unwrap();
        assert_eq!(read_key_file(&path).unwrap().to_bytes(), key.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = read_key_file(&path).unwrap_err().to_string();
            assert!(e.contains("readable by others") && e.contains("chmod 600"), "{e}");
        }
        let again = create_key_file(&path).unwrap_err().to_string();
        assert!(again.contains("never overwrites"), "{again}");
    }

    #[test]
    fn a_damaged_key_file_names_the_line() {
        assert!(parse_key_file("hello\n").unwrap_err().starts_with("line 1"));
        assert!(parse_key_file(&format!("{HEADER}\nzz\n")).unwrap_err().starts_with("line 2"));
    }
}

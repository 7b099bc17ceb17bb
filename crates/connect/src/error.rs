//! The one error type of this crate.

use std::path::PathBuf;

use bantay_core::PackErrors;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },

    #[error("{}: not found\n  hint: {hint}", path.display())]
    Missing { path: PathBuf, hint: String },

    /// A record that cannot be read or does not fit the pack.
    #[error("{}:{line}: {}{message}", path.display(), field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
    Record { path: PathBuf, line: u64, field: Option<String>, message: String },

    #[error(transparent)]
    Pack(#[from] PackErrors),
}

impl ConnectError {
    pub(crate) fn record(
        path: &std::path::Path,
        line: u64,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Self::Record {
            path: path.to_owned(),
            line,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    /// The line of a record error, for choosing the first of several.
    pub fn line(&self) -> Option<u64> {
        match self {
            Self::Record { line, .. } => Some(*line),
            _ => None,
        }
    }
}

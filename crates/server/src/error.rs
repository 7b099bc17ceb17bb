//! The one error type of the service layer. Each variant is a kind of answer a person
//! gets: their input is wrong (and which field), something is not there, they may not do
//! it, the order refuses it, or Bantay itself failed. The HTTP status of each is decided
//! in one place, [`ServiceError::status`], for the API and SCIM alike.

use bantay_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Input that cannot be acted on: names the field and says how to fix it.
    #[error("{field}: {message}")]
    BadInput { field: String, message: String },
    #[error("no {what} `{id}`")]
    NotFound { what: &'static str, id: String },
    /// The actor may not do this (not an approver of the step, not the requester).
    #[error("{0}")]
    Forbidden(String),
    /// The request or grant is not in a state that allows it (withdrawn, expired, self-approval).
    #[error("{0}")]
    Refused(String),
    /// No valid credentials.
    #[error(
        "sign in: send `Authorization: Bearer <token>` with a token from `bantay tokens issue`"
    )]
    Unauthenticated,
    /// A sign-in that did not succeed; the message never says which part was wrong.
    #[error("{0}")]
    SignInRefused(String),
    /// Too many failed sign-ins: refused without checking the password.
    #[error("{0}")]
    TooManyAttempts(String),
    #[error("the ledger kept moving while deciding; try again")]
    Busy,
    /// A database Bantay reads from (a certification's source) failed or refused.
    #[error("the source database: {0}")]
    Source(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError {
    pub(crate) fn bad(field: &str, message: impl Into<String>) -> Self {
        Self::BadInput { field: field.to_owned(), message: message.into() }
    }

    /// The HTTP status that answers this error.
    pub(crate) fn status(&self) -> u16 {
        match self {
            ServiceError::BadInput { .. } => 400,
            ServiceError::NotFound { .. } => 404,
            ServiceError::Forbidden(_) => 403,
            ServiceError::Refused(_) => 409,
            ServiceError::Unauthenticated | ServiceError::SignInRefused(_) => 401,
            ServiceError::TooManyAttempts(_) => 429,
            ServiceError::Busy => 503,
            ServiceError::Source(_) => 502,
            ServiceError::Store(StoreError::Event { .. }) => 400,
            ServiceError::Store(_) => 500,
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// An error and its causes, one after another.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

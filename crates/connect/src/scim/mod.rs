//! SCIM 2.0 (RFC 7643, RFC 7644): the schemas Bantay serves, and the protocol's own
//! languages over a resource held as JSON — checking a body against its schema,
//! filters, PATCH operations and attribute projection. Pure: the server keeps the
//! resources and turns [`ScimError`] into the protocol's error responses.
//!
//! Resources are kept as the JSON object a client would read back, attribute names in
//! the schema's spelling, extension attributes under their schema's URN; `id` and
//! `meta` are the server's and are added when a resource is shown.

mod filter;
mod patch;
mod schema;

pub use filter::Filter;
pub use patch::apply_patch;
pub use schema::{
    accept, project, resource_type, resource_types, schemas, service_provider_config, Attribute,
    Kind, Mutability, Resolved, ResourceType, Returned, Schema, ENTERPRISE_USER, GROUP, USER,
};

/// The URN of an error response.
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The URN of a list response.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The URN of a PATCH request.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The URN of a search request sent with POST.
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// A request the protocol refuses: the HTTP status, the RFC 7644 `scimType` when one
/// applies, and a detail that says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    /// A 400 with its `scimType` (invalidFilter, invalidSyntax, invalidPath, invalidValue,
    /// noTarget, mutability, tooMany).
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self { status: 400, scim_type: Some(scim_type), detail: detail.into() }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self { status: 404, scim_type: None, detail: detail.into() }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self { status: 409, scim_type: Some("uniqueness"), detail: detail.into() }
    }

    /// The RFC 7644 §3.12 error body.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "schemas": [ERROR],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = t.into();
        }
        body
    }
}

/// An attribute named in a filter, a PATCH path or a projection: `userName`,
/// `name.givenName`, `urn:…:enterprise:2.0:User:employeeNumber`. `uri` is the schema
/// the name was qualified with, as written; resolving against a resource type gives the
/// schema's own spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    pub uri: Option<String>,
    /// Empty when the path names a whole extension (`urn:…:enterprise:2.0:User`).
    pub name: String,
    pub sub: Option<String>,
}

impl AttrPath {
    /// Reads a path; a URN prefix is split off at the longest schema id it starts with.
    pub fn parse(text: &str, rt: &ResourceType) -> Result<Self, ScimError> {
        let text = text.trim();
        let (uri, rest) = if text.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
            let schema = rt
                .schema_ids()
                .filter(|id| {
                    text.len() >= id.len()
                        && text.is_char_boundary(id.len())
                        && text[..id.len()].eq_ignore_ascii_case(id)
                        && (text.len() == id.len() || text.as_bytes()[id.len()] == b':')
                })
                .max_by_key(|id| id.len())
                .ok_or_else(|| {
                    ScimError::bad(
                        "invalidPath",
                        format!("`{text}` names no schema of {}", rt.name),
                    )
                })?;
            (Some(schema.to_owned()), text.get(schema.len() + 1..).unwrap_or(""))
        } else {
            (None, text)
        };
        let (name, sub) = match rest.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        let valid = |s: &str| {
            s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
        };
        if (!name.is_empty() && !valid(name))
            || (name.is_empty() && (uri.is_none() || sub.is_some()))
            || sub.is_some_and(|s| !valid(s))
        {
            return Err(ScimError::bad(
                "invalidPath",
                format!("`{text}` is not an attribute path"),
            ));
        }
        Ok(Self { uri, name: name.to_owned(), sub: sub.map(str::to_owned) })
    }
}

impl std::fmt::Display for AttrPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(uri) = &self.uri {
            write!(f, "{uri}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

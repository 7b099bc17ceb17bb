//! The schemas Bantay serves (RFC 7643 §4 User with the enterprise extension, §4.2
//! Group), what `/ServiceProviderConfig` says of the server, and the two things a schema
//! decides about a body: whether it is acceptable ([`accept`]) and what of it is shown
//! ([`project`]).
//!
//! Bantay keeps of a User what a privileged-access system needs of a person (names,
//! e-mail addresses, telephone numbers, title, whether active, the enterprise numbers
//! and department); addresses, photos, entitlements and X.509 certificates are not
//! declared, so a body carrying them is refused by name rather than silently dropped.

use std::sync::OnceLock;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{AttrPath, ScimError};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

/// An attribute definition, serialised as `/Schemas` shows it (RFC 7643 §7).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribute {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub canonical_values: Vec<&'static str>,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: &'static str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub reference_types: Vec<&'static str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub sub_attributes: Vec<Attribute>,
}

/// A plain attribute: single-valued, optional, case-insensitive, read-write, returned by
/// default, not unique. The builders below say how one differs.
fn attr(name: &'static str, kind: Kind, description: &'static str) -> Attribute {
    Attribute {
        name,
        kind,
        multi_valued: false,
        description,
        required: false,
        canonical_values: Vec::new(),
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: "none",
        reference_types: Vec::new(),
        sub_attributes: Vec::new(),
    }
}

fn complex(name: &'static str, description: &'static str, subs: Vec<Attribute>) -> Attribute {
    Attribute { sub_attributes: subs, ..attr(name, Kind::Complex, description) }
}

impl Attribute {
    fn multi(self) -> Self {
        Self { multi_valued: true, ..self }
    }
    fn required(self) -> Self {
        Self { required: true, ..self }
    }
    fn exact(self) -> Self {
        Self { case_exact: true, ..self }
    }
    fn mutability(self, mutability: Mutability) -> Self {
        Self { mutability, ..self }
    }
    fn returned(self, returned: Returned) -> Self {
        Self { returned, ..self }
    }
    fn unique(self) -> Self {
        Self { uniqueness: "server", ..self }
    }
    fn canonical(self, values: &[&'static str]) -> Self {
        Self { canonical_values: values.to_vec(), ..self }
    }
    fn references(self, types: &[&'static str]) -> Self {
        Self { reference_types: types.to_vec(), ..self }
    }

    /// A sub-attribute by name, in any case.
    pub fn sub(&self, name: &str) -> Option<&Attribute> {
        self.sub_attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// A schema as `/Schemas` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: Vec<Attribute>,
}

impl Schema {
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// A resource type: its endpoint, its core schema and its extensions, and the common
/// attributes every resource has (`id`, `externalId`, `meta`; RFC 7643 §3.1), which no
/// schema lists.
#[derive(Debug)]
pub struct ResourceType {
    pub name: &'static str,
    pub endpoint: &'static str,
    pub description: &'static str,
    pub schema: Schema,
    pub extensions: Vec<Schema>,
    common: Vec<Attribute>,
}

/// Where an attribute lives: at the top of the resource (`extension` None) or inside an
/// extension's object, and its definition; `sub` when a sub-attribute was named.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    pub extension: Option<&'static str>,
    pub attr: &'a Attribute,
    pub sub: Option<&'a Attribute>,
}

impl ResourceType {
    /// The ids of the core schema and the extensions.
    pub fn schema_ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.schema.id).chain(self.extensions.iter().map(|s| s.id))
    }

    /// The extension with this URN, in any case.
    pub fn extension(&self, uri: &str) -> Option<&Schema> {
        self.extensions.iter().find(|s| s.id.eq_ignore_ascii_case(uri))
    }

    /// A top-level attribute (core schema or common) by name.
    pub fn core_attribute(&self, name: &str) -> Option<&Attribute> {
        self.schema
            .attribute(name)
            .or_else(|| self.common.iter().find(|a| a.name.eq_ignore_ascii_case(name)))
    }

    /// Resolves a path to its definition, refusing what the schemas do not declare.
    pub fn resolve(&self, path: &AttrPath) -> Result<Resolved<'_>, ScimError> {
        let unknown =
            || ScimError::bad("invalidPath", format!("{} has no attribute `{path}`", self.name));
        let (extension, attr) = match path.uri.as_deref() {
            Some(uri) if !uri.eq_ignore_ascii_case(self.schema.id) => {
                let ext = self.extension(uri).ok_or_else(unknown)?;
                (Some(ext.id), ext.attribute(&path.name).ok_or_else(unknown)?)
            }
            _ => (None, self.core_attribute(&path.name).ok_or_else(unknown)?),
        };
        let sub = match &path.sub {
            Some(s) => Some(attr.sub(s).ok_or_else(unknown)?),
            None => None,
        };
        Ok(Resolved { extension, attr, sub })
    }
}

fn user() -> ResourceType {
    use Mutability::*;
    let kind_of = |what: &'static str, canonical: &[&'static str]| {
        attr("type", Kind::String, what).canonical(canonical)
    };
    let primary = || attr("primary", Kind::Boolean, "The primary value; at most one is.");
    ResourceType {
        name: "User",
        endpoint: "/Users",
        description: "A member of the Bureau's personnel: a person Bantay records.",
        schema: Schema {
            id: USER,
            name: "User",
            description: "User Account",
            attributes: vec![
                attr("userName", Kind::String, "Unique identifier for the User, as the identity provider knows them.")
                    .required()
                    .unique(),
                complex(
                    "name",
                    "The components of the user's real name.",
                    vec![
                        attr("formatted", Kind::String, "The full name, formatted for display."),
                        attr("familyName", Kind::String, "The family name."),
                        attr("givenName", Kind::String, "The given name."),
                        attr("middleName", Kind::String, "The middle name."),
                        attr("honorificPrefix", Kind::String, "Honorific prefix (e.g. Atty.)."),
                        attr("honorificSuffix", Kind::String, "Honorific suffix (e.g. Jr.)."),
                    ],
                ),
                attr("displayName", Kind::String, "The name shown for the user; Bantay's name for the person."),
                attr("nickName", Kind::String, "The casual name of the user."),
                attr("title", Kind::String, "The user's title (e.g. Chief, Systems Management Division)."),
                attr("userType", Kind::String, "The relationship to the Bureau (e.g. Employee, Contractor)."),
                attr("preferredLanguage", Kind::String, "Preferred language (e.g. en-PH, fil)."),
                attr("locale", Kind::String, "Locale for formatting (e.g. en-PH)."),
                attr("timezone", Kind::String, "Time zone (e.g. Asia/Manila)."),
                attr("active", Kind::Boolean, "Whether the user may work: an inactive user holds no access."),
                complex(
                    "emails",
                    "E-mail addresses; the primary one is the person's address in Bantay.",
                    vec![
                        attr("value", Kind::String, "The address."),
                        attr("display", Kind::String, "A name for the address."),
                        kind_of("work, home or other.", &["work", "home", "other"]),
                        primary(),
                    ],
                )
                .multi(),
                complex(
                    "phoneNumbers",
                    "Telephone numbers.",
                    vec![
                        attr("value", Kind::String, "The number."),
                        attr("display", Kind::String, "A name for the number."),
                        kind_of("work, home, mobile, fax, pager or other.", &["work", "home", "mobile", "fax", "pager", "other"]),
                        primary(),
                    ],
                )
                .multi(),
                complex(
                    "groups",
                    "The groups the user belongs to, from the groups' members.",
                    vec![
                        attr("value", Kind::String, "The group's id.").mutability(ReadOnly),
                        attr("$ref", Kind::Reference, "The group's URI.")
                            .references(&["Group"])
                            .mutability(ReadOnly),
                        attr("display", Kind::String, "The group's displayName.").mutability(ReadOnly),
                        kind_of("direct", &["direct"]).mutability(ReadOnly),
                    ],
                )
                .multi()
                .mutability(ReadOnly),
            ],
        },
        extensions: vec![Schema {
            id: ENTERPRISE_USER,
            name: "EnterpriseUser",
            description: "Enterprise User",
            attributes: vec![
                attr("employeeNumber", Kind::String, "The Bureau's employee number."),
                attr("costCenter", Kind::String, "The cost center."),
                attr("organization", Kind::String, "The organization (e.g. Bureau of Customs)."),
                attr("division", Kind::String, "The division, as the identity provider records it."),
                attr("department", Kind::String, "The department, as the identity provider records it; Bantay's units come from personnel orders."),
            ],
        }],
        common: common(),
    }
}

fn group() -> ResourceType {
    ResourceType {
        name: "Group",
        endpoint: "/Groups",
        description: "A group the identity provider keeps.",
        schema: Schema {
            id: GROUP,
            name: "Group",
            description: "Group",
            attributes: vec![
                attr("displayName", Kind::String, "The group's name.").required(),
                complex(
                    "members",
                    "The group's members: users or groups.",
                    vec![
                        attr("value", Kind::String, "The member's id.")
                            .mutability(Mutability::Immutable),
                        attr("$ref", Kind::Reference, "The member's URI.")
                            .references(&["User", "Group"])
                            .mutability(Mutability::Immutable),
                        attr("type", Kind::String, "User or Group.")
                            .canonical(&["User", "Group"])
                            .mutability(Mutability::Immutable),
                    ],
                )
                .multi(),
            ],
        },
        extensions: Vec::new(),
        common: common(),
    }
}

fn common() -> Vec<Attribute> {
    use Mutability::ReadOnly;
    vec![
        attr("id", Kind::String, "The server's identifier.")
            .exact()
            .mutability(ReadOnly)
            .returned(Returned::Always)
            .unique(),
        attr("externalId", Kind::String, "The client's identifier.").exact(),
        complex(
            "meta",
            "Resource metadata.",
            vec![
                attr("resourceType", Kind::String, "The resource type.")
                    .exact()
                    .mutability(ReadOnly),
                attr("created", Kind::DateTime, "When it was created.").mutability(ReadOnly),
                attr("lastModified", Kind::DateTime, "When it last changed.").mutability(ReadOnly),
                attr("location", Kind::Reference, "Its URI.").exact().mutability(ReadOnly),
                attr("version", Kind::String, "Its version.").exact().mutability(ReadOnly),
            ],
        )
        .mutability(ReadOnly),
    ]
}

fn all() -> &'static [ResourceType] {
    static TYPES: OnceLock<Vec<ResourceType>> = OnceLock::new();
    TYPES.get_or_init(|| vec![user(), group()])
}

/// The resource types served, in order.
pub fn resource_types() -> &'static [ResourceType] {
    all()
}

/// A resource type by name (`User`, `Group`).
pub fn resource_type(name: &str) -> Option<&'static ResourceType> {
    all().iter().find(|rt| rt.name == name)
}

/// Every schema served: each type's core schema, then the extensions.
pub fn schemas() -> Vec<&'static Schema> {
    let types = all();
    types.iter().map(|rt| &rt.schema).chain(types.iter().flat_map(|rt| &rt.extensions)).collect()
}

/// What `/ServiceProviderConfig` says (RFC 7643 §5): PATCH and filters yes (at most
/// `max_results` a page), bulk, sorting, ETags and password changes no.
pub fn service_provider_config(max_results: usize) -> Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://github.com/bantay/bantay#scim",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A SCIM token from `bantay tokens issue --person P --scim`, sent as `Authorization: Bearer <token>`.",
            "primary": true
        }]
    })
}

/// Checks a body (a POST, a PUT, or a resource after PATCH) against the type's schemas
/// and gives the resource to keep: attribute names in the schema's spelling, read-only
/// attributes dropped (RFC 7644 §3.5.1: ignored), nulls and empty values left out,
/// `schemas` listing the core schema and each extension present. `existing` is the
/// resource it replaces, for the immutable attributes.
pub fn accept(
    rt: &ResourceType,
    body: &Value,
    existing: Option<&Map<String, Value>>,
) -> Result<Map<String, Value>, ScimError> {
    let Some(input) = body.as_object() else {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("a {} must be a JSON object", rt.name),
        ));
    };
    let declared =
        input.iter().find(|(k, _)| k.eq_ignore_ascii_case("schemas")).map(|(_, v)| v).ok_or_else(
            || {
                ScimError::bad(
                    "invalidSyntax",
                    format!("`schemas` is missing: list \"{}\"", rt.schema.id),
                )
            },
        )?;
    let declared: Vec<&str> = match declared.as_array() {
        Some(items) => items.iter().map(|v| v.as_str().unwrap_or("")).collect(),
        None => return Err(ScimError::bad("invalidSyntax", "`schemas` must be an array of URNs")),
    };
    if !declared.iter().any(|d| d.eq_ignore_ascii_case(rt.schema.id)) {
        return Err(ScimError::bad(
            "invalidValue",
            format!("`schemas` must list \"{}\" for a {}", rt.schema.id, rt.name),
        ));
    }
    if let Some(other) =
        declared.iter().find(|d| rt.schema_ids().all(|id| !id.eq_ignore_ascii_case(d)))
    {
        return Err(ScimError::bad(
            "invalidValue",
            format!("`schemas` lists \"{other}\", which a {} does not have", rt.name),
        ));
    }
    let mut out = Map::new();
    let mut present = vec![Value::from(rt.schema.id)];
    for (key, value) in input {
        if ["schemas", "id", "meta"].iter().any(|k| k.eq_ignore_ascii_case(key)) {
            continue;
        }
        if let Some(ext) = rt.extension(key) {
            let Some(fields) = value.as_object() else {
                if value.is_null() {
                    continue;
                }
                return Err(ScimError::bad(
                    "invalidValue",
                    format!("`{}` must be an object", ext.id),
                ));
            };
            let mut kept = Map::new();
            // An extension's object may repeat `schemas` (scim2-models writes it).
            for (name, v) in fields.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("schemas")) {
                let a = ext
                    .attribute(name)
                    .ok_or_else(|| unknown(rt, &format!("{}:{name}", ext.id)))?;
                if let Some(v) = checked(a, v, &format!("{}:{}", ext.id, a.name))? {
                    kept.insert(a.name.to_owned(), v);
                }
            }
            if !kept.is_empty() {
                present.push(ext.id.into());
                out.insert(ext.id.to_owned(), Value::Object(kept));
            }
            continue;
        }
        let a = rt.core_attribute(key).ok_or_else(|| unknown(rt, key))?;
        if let Some(v) = checked(a, value, a.name)? {
            out.insert(a.name.to_owned(), v);
        }
    }
    out.insert("schemas".into(), Value::Array(present));
    if let Some(old) = existing {
        immutables_kept(rt, old, &out)?;
    }
    for a in rt.schema.attributes.iter().chain(rt.extensions.iter().flat_map(|e| &e.attributes)) {
        if a.required && a.mutability != Mutability::ReadOnly && !out.contains_key(a.name) {
            return Err(ScimError::bad(
                "invalidValue",
                format!("`{}` is required for a {}", a.name, rt.name),
            ));
        }
    }
    Ok(out)
}

fn unknown(rt: &ResourceType, name: &str) -> ScimError {
    let known: Vec<&str> = rt.schema.attributes.iter().map(|a| a.name).collect();
    ScimError::bad(
        "invalidValue",
        format!(
            "a {} has no attribute `{name}`; its attributes are {}, externalId and the extensions {}",
            rt.name,
            known.join(", "),
            rt.extensions.iter().map(|e| e.id).collect::<Vec<_>>().join(", ")
        ),
    )
}

/// An attribute's value checked against its definition: `None` for null or empty.
fn checked(a: &Attribute, value: &Value, at: &str) -> Result<Option<Value>, ScimError> {
    if a.mutability == Mutability::ReadOnly || value.is_null() {
        return Ok(None);
    }
    if !a.multi_valued {
        return single(a, value, at);
    }
    // A single value where a list belongs is read as a list of one, as identity
    // providers send it in PATCH operations.
    let items = match value {
        Value::Array(items) => items.as_slice(),
        other => std::slice::from_ref(other),
    };
    let mut kept = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(v) = single(a, item, &format!("{at}[{i}]"))? {
            if !kept.contains(&v) {
                kept.push(v);
            }
        }
    }
    if kept.iter().filter(|v| v.get("primary") == Some(&Value::Bool(true))).count() > 1 {
        return Err(ScimError::bad(
            "invalidValue",
            format!("`{at}`: at most one value may be primary"),
        ));
    }
    Ok((!kept.is_empty()).then_some(Value::Array(kept)))
}

fn single(a: &Attribute, value: &Value, at: &str) -> Result<Option<Value>, ScimError> {
    let wrong = |expected: &str| {
        ScimError::bad("invalidValue", format!("`{at}` must be {expected}, not {value}"))
    };
    Ok(match a.kind {
        _ if value.is_null() => None,
        Kind::String | Kind::Reference => {
            Some(Value::String(value.as_str().ok_or_else(|| wrong("a string"))?.to_owned()))
        }
        Kind::Binary => {
            let text = value.as_str().ok_or_else(|| wrong("base64 text"))?;
            let base64 = text.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
            if !base64 || text.len() % 4 != 0 {
                return Err(wrong("base64 text"));
            }
            Some(value.clone())
        }
        Kind::DateTime => {
            let text = value.as_str().ok_or_else(|| wrong("an xsd:dateTime"))?;
            bantay_core::Timestamp::parse(text).map_err(|_| wrong("an xsd:dateTime"))?;
            Some(value.clone())
        }
        // "True" and "False" as strings: what Microsoft Entra ID sends in PATCH.
        Kind::Boolean => match value {
            Value::Bool(_) => Some(value.clone()),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(Value::Bool(false)),
            _ => return Err(wrong("true or false")),
        },
        Kind::Integer => Some(value.as_i64().map(Value::from).ok_or_else(|| wrong("an integer"))?),
        Kind::Decimal => Some(value.as_f64().map(Value::from).ok_or_else(|| wrong("a number"))?),
        Kind::Complex => {
            let fields = value.as_object().ok_or_else(|| wrong("an object"))?;
            let mut kept = Map::new();
            for (name, v) in fields {
                let sub = a.sub(name).ok_or_else(|| {
                    let known: Vec<&str> = a.sub_attributes.iter().map(|s| s.name).collect();
                    ScimError::bad(
                        "invalidValue",
                        format!(
                            "`{at}` has no sub-attribute `{name}`; it has {}",
                            known.join(", ")
                        ),
                    )
                })?;
                if let Some(v) = checked(sub, v, &format!("{at}.{}", sub.name))? {
                    kept.insert(sub.name.to_owned(), v);
                }
            }
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
    })
}

/// RFC 7643 §2.2: an immutable attribute, once it has a value, keeps it.
fn immutables_kept(
    rt: &ResourceType,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<(), ScimError> {
    for a in &rt.schema.attributes {
        if a.mutability == Mutability::Immutable {
            if let (Some(before), Some(after)) = (old.get(a.name), new.get(a.name)) {
                if before != after {
                    return Err(ScimError::bad(
                        "mutability",
                        format!("`{}` is immutable: it cannot change once set", a.name),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// What of a shown resource the client sees (RFC 7644 §3.9): with `attributes`, those
/// and the ones always returned; otherwise everything returned by default less
/// `excluded`. Paths that name nothing are ignored, as the RFC allows.
pub fn project(
    rt: &ResourceType,
    resource: &Map<String, Value>,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in resource {
        if key == "schemas" {
            out.insert(key.clone(), value.clone());
            continue;
        }
        if let Some(ext) = rt.extension(key) {
            let Some(fields) = value.as_object() else { continue };
            let kept: Map<String, Value> = fields
                .iter()
                .filter_map(|(name, v)| {
                    let a = ext.attribute(name)?;
                    shown(a, Some(ext.id), v, attributes, excluded).map(|v| (name.clone(), v))
                })
                .collect();
            let whole = |paths: &[AttrPath]| {
                paths.iter().any(|p| {
                    p.name.is_empty()
                        && p.uri.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(ext.id))
                })
            };
            let fields = if whole(attributes) && !whole(excluded) { fields.clone() } else { kept };
            let dropped = whole(excluded) && attributes.is_empty();
            if !fields.is_empty() && !dropped {
                out.insert(key.clone(), Value::Object(fields));
            }
            continue;
        }
        if let Some(a) = rt.core_attribute(key) {
            if let Some(v) = shown(a, None, value, attributes, excluded) {
                out.insert(key.clone(), v);
            }
        }
    }
    out
}

fn names(path: &AttrPath, extension: Option<&str>, a: &Attribute) -> bool {
    let schema_matches = match (path.uri.as_deref(), extension) {
        (None, None) => true,
        (Some(uri), Some(ext)) => uri.eq_ignore_ascii_case(ext),
        // The core schema's URN may qualify a core attribute.
        (Some(uri), None) => !uri.contains(":extension:"),
        (None, Some(_)) => false,
    };
    schema_matches && path.name.eq_ignore_ascii_case(a.name)
}

fn shown(
    a: &Attribute,
    extension: Option<&str>,
    value: &Value,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Option<Value> {
    match a.returned {
        Returned::Never => return None,
        Returned::Always => return Some(value.clone()),
        _ => {}
    }
    let requested: Vec<&AttrPath> = attributes.iter().filter(|p| names(p, extension, a)).collect();
    let subs_of = |paths: &[&AttrPath]| -> Vec<String> {
        paths.iter().filter_map(|p| p.sub.clone()).collect()
    };
    if !attributes.is_empty() {
        if requested.is_empty() {
            return None;
        }
        if requested.iter().any(|p| p.sub.is_none()) {
            return Some(value.clone());
        }
        let keep = subs_of(&requested);
        return only_subs(value, |name| keep.iter().any(|k| k.eq_ignore_ascii_case(name)));
    }
    if a.returned == Returned::Request {
        return None;
    }
    let dropped: Vec<&AttrPath> = excluded.iter().filter(|p| names(p, extension, a)).collect();
    if dropped.iter().any(|p| p.sub.is_none()) {
        return None;
    }
    let drop = subs_of(&dropped);
    if drop.is_empty() {
        return Some(value.clone());
    }
    only_subs(value, |name| !drop.iter().any(|k| k.eq_ignore_ascii_case(name)))
}

/// A complex value (or each of a list of them) with only the sub-attributes `keep`
/// accepts; `None` when nothing is left.
fn only_subs(value: &Value, keep: impl Fn(&str) -> bool) -> Option<Value> {
    let one = |v: &Value| -> Option<Value> {
        let fields: Map<String, Value> = v
            .as_object()?
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (!fields.is_empty()).then_some(Value::Object(fields))
    };
    match value {
        Value::Array(items) => {
            let kept: Vec<Value> = items.iter().filter_map(one).collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        other => one(other),
    }
}

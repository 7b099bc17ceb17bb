//! PATCH (RFC 7644 §3.5.2): `add`, `remove` and `replace` operations, each with an
//! optional path — `title`, `name.givenName`, `emails[type eq "work"].value`,
//! `members[value eq "2819c223"]`, `urn:…:enterprise:2.0:User:department` or a whole
//! extension. The operations apply in order to a copy of the resource, and the result
//! is checked against the schema as a replacement would be ([`accept`]): a PATCH that
//! would leave the resource invalid changes nothing.
//!
//! Two habits of real identity providers are read as they mean: operation names in any
//! case (`"Replace"`), and `remove` of `members` with a value listing the members to
//! take out (Microsoft Entra ID), besides the RFC's `members[value eq "…"]`.

use serde_json::{Map, Value};

use super::filter::Filter;
use super::schema::{accept, Attribute, Kind, Mutability, ResourceType};
use super::{AttrPath, ScimError, PATCH_OP};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Add,
    Remove,
    Replace,
}

/// Where an operation applies.
enum Target<'a> {
    /// No path: the value is an object of attributes.
    Whole,
    /// A whole extension, named by its URN.
    Extension(&'static str),
    Attribute {
        extension: Option<&'static str>,
        attr: &'a Attribute,
        filter: Option<Filter>,
        sub: Option<&'a Attribute>,
    },
}

/// Applies a PATCH request body to `resource` (as kept, without `id` and `meta`) and
/// gives the resource to keep, checked against the schema.
pub fn apply_patch(
    rt: &ResourceType,
    resource: &Map<String, Value>,
    body: &Value,
) -> Result<Map<String, Value>, ScimError> {
    let Some(request) = body.as_object() else {
        return Err(ScimError::bad("invalidSyntax", "a PATCH body must be a JSON object"));
    };
    let declared = request.get("schemas").and_then(Value::as_array);
    if !declared.is_some_and(|s| s.iter().any(|v| v.as_str() == Some(PATCH_OP))) {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("`schemas` must be [\"{PATCH_OP}\"] in a PATCH body"),
        ));
    }
    let operations = request
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
        .and_then(|(_, v)| v.as_array())
        .ok_or_else(|| {
            ScimError::bad("invalidSyntax", "`Operations` must be an array of operations")
        })?;
    if operations.is_empty() {
        return Err(ScimError::bad("invalidSyntax", "`Operations` is empty: nothing to do"));
    }
    let mut patched = resource.clone();
    for (i, operation) in operations.iter().enumerate() {
        let at = format!("Operations[{i}]");
        let field = |name: &str| {
            operation
                .as_object()
                .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
        };
        let op = match field("op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
            Some("add") => OpKind::Add,
            Some("remove") => OpKind::Remove,
            Some("replace") => OpKind::Replace,
            _ => {
                return Err(ScimError::bad(
                    "invalidSyntax",
                    format!("{at}.op must be add, remove or replace"),
                ))
            }
        };
        let target = match field("path") {
            None | Some(Value::Null) => Target::Whole,
            Some(Value::String(p)) => target(rt, p)
                .map_err(|e| ScimError { detail: format!("{at}.path: {}", e.detail), ..e })?,
            Some(_) => {
                return Err(ScimError::bad("invalidPath", format!("{at}.path must be a string")))
            }
        };
        let value = field("value").cloned().unwrap_or(Value::Null);
        if op != OpKind::Remove && value.is_null() {
            return Err(ScimError::bad("invalidValue", format!("{at}: `{op:?}` needs a value")));
        }
        apply(rt, &mut patched, op, target, value)
            .map_err(|e| ScimError { detail: format!("{at}: {}", e.detail), ..e })?;
    }
    patched.retain(|_, v| !is_empty(v));
    accept(rt, &Value::Object(patched), Some(resource))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Reads a PATCH path: `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, each
/// optionally qualified by its schema's URN, or a bare extension URN.
fn target<'a>(rt: &'a ResourceType, text: &str) -> Result<Target<'a>, ScimError> {
    let (head, filter, tail) = match text.find('[') {
        Some(open) => {
            let close = text.rfind(']').filter(|&c| c > open).ok_or_else(|| {
                ScimError::bad("invalidPath", format!("the `[` in `{text}` is not closed"))
            })?;
            let tail = &text[close + 1..];
            let tail = match tail.strip_prefix('.') {
                Some(sub) => Some(sub),
                None if tail.is_empty() => None,
                None => {
                    return Err(ScimError::bad(
                        "invalidPath",
                        format!("`{tail}` after `]` in `{text}`"),
                    ))
                }
            };
            (&text[..open], Some(&text[open + 1..close]), tail)
        }
        None => (text, None, None),
    };
    let path = AttrPath::parse(head, rt)?;
    if path.name.is_empty() {
        let uri = path.uri.as_deref().unwrap_or_default();
        return match rt.extension(uri) {
            Some(ext) if filter.is_none() => Ok(Target::Extension(ext.id)),
            _ => Err(ScimError::bad("invalidPath", format!("`{text}` names no attribute"))),
        };
    }
    let resolved = rt.resolve(&path)?;
    let attr = resolved.attr;
    if attr.mutability == Mutability::ReadOnly
        || resolved.sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
    {
        return Err(ScimError::bad("mutability", format!("`{path}` is read-only")));
    }
    let filter = match filter {
        Some(f) => {
            if !attr.multi_valued || attr.kind != Kind::Complex || path.sub.is_some() {
                return Err(ScimError::bad(
                    "invalidPath",
                    format!(
                        "`{head}[…]`: only a multi-valued complex attribute takes a value filter"
                    ),
                ));
            }
            let filter = Filter::parse_within(f, rt)
                .map_err(|e| ScimError { scim_type: Some("invalidPath"), ..e })?;
            Some(filter)
        }
        None => None,
    };
    let sub = match tail {
        Some(s) => Some(attr.sub(s).ok_or_else(|| {
            ScimError::bad("invalidPath", format!("`{}` has no sub-attribute `{s}`", attr.name))
        })?),
        None => resolved.sub,
    };
    if sub.is_some_and(|s| s.mutability == Mutability::ReadOnly) {
        return Err(ScimError::bad("mutability", format!("`{text}` is read-only")));
    }
    Ok(Target::Attribute { extension: resolved.extension, attr, filter, sub })
}

fn apply(
    rt: &ResourceType,
    resource: &mut Map<String, Value>,
    op: OpKind,
    target: Target<'_>,
    value: Value,
) -> Result<(), ScimError> {
    match target {
        Target::Extension(ext) if op == OpKind::Remove => {
            resource.remove(ext);
            Ok(())
        }
        Target::Whole | Target::Extension(_) => {
            if op == OpKind::Remove {
                return Err(ScimError::bad(
                    "noTarget",
                    "remove needs a path naming what to remove",
                ));
            }
            let Value::Object(fields) = value else {
                return Err(ScimError::bad(
                    "invalidValue",
                    "without a path, the value must be an object of attributes",
                ));
            };
            for (key, v) in fields {
                // An extension's object may repeat `schemas` (scim2-models writes it).
                if key.eq_ignore_ascii_case("schemas") {
                    continue;
                }
                if let Target::Extension(ext) = target {
                    let attr =
                        rt.extension(ext).and_then(|e| e.attribute(&key)).ok_or_else(|| {
                            ScimError::bad(
                                "invalidValue",
                                format!("`{ext}` has no attribute `{key}`"),
                            )
                        })?;
                    set(container(resource, Some(ext))?, op, attr, None, None, v)?;
                    continue;
                }
                if let Some(ext) = rt.extension(&key) {
                    let ext = ext.id;
                    apply(rt, resource, op, Target::Extension(ext), v)?;
                    continue;
                }
                let attr = rt.core_attribute(&key).ok_or_else(|| {
                    ScimError::bad(
                        "invalidValue",
                        format!("a {} has no attribute `{key}`", rt.name),
                    )
                })?;
                if attr.mutability == Mutability::ReadOnly {
                    continue; // ignored, as in a replacement
                }
                set(container(resource, None)?, op, attr, None, None, v)?;
            }
            Ok(())
        }
        Target::Attribute { extension, attr, filter, sub } => {
            let object = container(resource, extension)?;
            match op {
                OpKind::Remove => remove(object, attr, filter.as_ref(), sub, value),
                _ => set(object, op, attr, filter.as_ref(), sub, value),
            }
        }
    }
}

fn container<'m>(
    resource: &'m mut Map<String, Value>,
    extension: Option<&str>,
) -> Result<&'m mut Map<String, Value>, ScimError> {
    let Some(ext) = extension else { return Ok(resource) };
    let slot = resource.entry(ext.to_owned()).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
        .ok_or_else(|| ScimError::bad("invalidValue", format!("`{ext}` is not an object")))
}

/// `add` or `replace` of `value` at `attr` (its `sub`, in the values `filter` selects).
fn set(
    object: &mut Map<String, Value>,
    op: OpKind,
    attr: &Attribute,
    filter: Option<&Filter>,
    sub: Option<&Attribute>,
    value: Value,
) -> Result<(), ScimError> {
    let name = attr.name;
    if let Some(filter) = filter {
        let Some(Value::Array(items)) = object.get_mut(name) else {
            return Err(ScimError::bad("noTarget", format!("`{name}` has no values to select")));
        };
        let mut hit = false;
        for item in items.iter_mut() {
            if filter.matches_value(attr, item)? {
                hit = true;
                match (sub, item.as_object_mut()) {
                    (Some(s), Some(fields)) => {
                        fields.insert(s.name.to_owned(), value.clone());
                    }
                    (None, Some(fields)) => match &value {
                        Value::Object(new) if op == OpKind::Add || op == OpKind::Replace => {
                            for (k, v) in new {
                                fields.insert(k.clone(), v.clone());
                            }
                        }
                        _ => *item = value.clone(),
                    },
                    _ => *item = value.clone(),
                }
            }
        }
        if !hit {
            return Err(ScimError::bad(
                "noTarget",
                format!("no value of `{name}` matches the filter"),
            ));
        }
        return Ok(());
    }
    if let Some(s) = sub {
        if attr.multi_valued {
            // `emails.value` without a filter: every value's sub-attribute (RFC 7644
            // §3.5.2.3 for replace; add reads the same).
            let Some(Value::Array(items)) = object.get_mut(name) else {
                return Err(ScimError::bad("noTarget", format!("`{name}` has no values")));
            };
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                item.insert(s.name.to_owned(), value.clone());
            }
            return Ok(());
        }
        let slot = object.entry(name.to_owned()).or_insert_with(|| Value::Object(Map::new()));
        match slot.as_object_mut() {
            Some(fields) => {
                fields.insert(s.name.to_owned(), value);
            }
            None => *slot = serde_json::json!({ s.name: value }),
        }
        return Ok(());
    }
    if attr.multi_valued {
        let new = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        let slot = object.entry(name.to_owned()).or_insert_with(|| Value::Array(Vec::new()));
        match (op, slot) {
            (OpKind::Add, Value::Array(items)) => {
                for v in new {
                    if !items.contains(&v) {
                        items.push(v);
                    }
                }
            }
            (_, slot) => *slot = Value::Array(new),
        }
        return Ok(());
    }
    match (attr.kind, object.get_mut(name), value) {
        // A complex attribute takes the sub-attributes given; the rest stay.
        (Kind::Complex, Some(Value::Object(fields)), Value::Object(new)) => {
            for (k, v) in new {
                fields.insert(k, v);
            }
        }
        (_, _, value) => {
            object.insert(name.to_owned(), value);
        }
    }
    Ok(())
}

fn remove(
    object: &mut Map<String, Value>,
    attr: &Attribute,
    filter: Option<&Filter>,
    sub: Option<&Attribute>,
    value: Value,
) -> Result<(), ScimError> {
    let name = attr.name;
    if attr.required && filter.is_none() && sub.is_none() {
        return Err(ScimError::bad(
            "mutability",
            format!("`{name}` is required: it cannot be removed"),
        ));
    }
    let Some(current) = object.get_mut(name) else {
        return match filter {
            Some(_) => Err(ScimError::bad("noTarget", format!("`{name}` has no values to select"))),
            None => Ok(()),
        };
    };
    match (filter, sub, current) {
        (Some(filter), sub, Value::Array(items)) => {
            let mut kept = Vec::with_capacity(items.len());
            let mut hit = false;
            for mut item in std::mem::take(items) {
                if filter.matches_value(attr, &item)? {
                    hit = true;
                    if let (Some(s), Some(fields)) = (sub, item.as_object_mut()) {
                        fields.remove(s.name);
                        kept.push(item);
                    }
                } else {
                    kept.push(item);
                }
            }
            *items = kept;
            if !hit {
                return Err(ScimError::bad(
                    "noTarget",
                    format!("no value of `{name}` matches the filter"),
                ));
            }
        }
        (Some(_), _, _) => {
            return Err(ScimError::bad("noTarget", format!("`{name}` has no values to select")))
        }
        (None, Some(s), Value::Array(items)) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                item.remove(s.name);
            }
        }
        (None, Some(s), Value::Object(fields)) => {
            fields.remove(s.name);
        }
        (None, None, Value::Array(items)) if !value.is_null() => {
            // Entra ID's form: the values to take out, matched by their `value`.
            let gone: Vec<Value> = match value {
                Value::Array(v) => v,
                other => vec![other],
            };
            items.retain(|item| {
                !gone.iter().any(|g| match (g.get("value"), item.get("value")) {
                    (Some(a), Some(b)) => a == b,
                    _ => g == item,
                })
            });
        }
        _ => {
            object.remove(name);
        }
    }
    Ok(())
}

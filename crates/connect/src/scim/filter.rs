//! SCIM filters (RFC 7644 §3.4.2.2): `userName eq "ana"`, `emails[type eq "work" and
//! value co "@customs.gov.ph"]`, `not (active eq false) or meta.lastModified gt
//! "2026-01-01T00:00:00Z"`. Operators and attribute names in any case; `not` binds
//! tighter than `and`, `and` than `or`. Comparison follows the attribute's definition:
//! strings ignore case unless the attribute is case-exact, times compare as instants,
//! booleans only for equality.

use serde_json::{Map, Value};

use super::schema::{Attribute, Kind, ResourceType};
use super::{AttrPath, ScimError};

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(AttrPath),
    Compare(AttrPath, Op, Value),
    /// `attr[filter]`: some value of the multi-valued `attr` satisfies the inner
    /// filter, whose names are `attr`'s sub-attributes.
    Values(AttrPath, Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Lt,
    Ge,
    Le,
}

impl Op {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "lt" => Op::Lt,
            "ge" => Op::Ge,
            "le" => Op::Le,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Word(&'a str),
    Text(String),
}

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidFilter", detail)
}

fn tokens(text: &str) -> Result<Vec<Token<'_>>, ScimError> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => (out.push(Token::Open), i += 1).1,
            b')' => (out.push(Token::Close), i += 1).1,
            b'[' => (out.push(Token::OpenBracket), i += 1).1,
            b']' => (out.push(Token::CloseBracket), i += 1).1,
            b'"' => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                let literal = text.get(i..=j).ok_or_else(|| {
                    invalid(format!("the string starting at character {} is not closed", i + 1))
                })?;
                let value: String = serde_json::from_str(literal)
                    .map_err(|e| invalid(format!("the string {literal} is not valid JSON: {e}")))?;
                out.push(Token::Text(value));
                i = j + 1;
            }
            _ => {
                let start = i;
                while i < bytes.len() && !b" \t\n\r()[]\"".contains(&bytes[i]) {
                    i += 1;
                }
                // Only ASCII bytes end a word, so both ends are character boundaries.
                out.push(Token::Word(text.get(start..i).unwrap_or_default()));
            }
        }
    }
    Ok(out)
}

struct Parser<'t, 'a> {
    tokens: &'t [Token<'a>],
    at: usize,
    rt: &'t ResourceType,
    /// Inside `attr[…]`: names are relative to that attribute.
    inside: bool,
}

impl Filter {
    /// Reads a filter for resources of `rt`, checking that every attribute it names is
    /// one `rt` declares.
    pub fn parse(text: &str, rt: &ResourceType) -> Result<Self, ScimError> {
        Self::read(text, rt, false)
    }

    /// Reads the filter inside a PATCH path's brackets (names relative to its attribute).
    pub(crate) fn parse_within(text: &str, rt: &ResourceType) -> Result<Self, ScimError> {
        Self::read(text, rt, true)
    }

    fn read(text: &str, rt: &ResourceType, inside: bool) -> Result<Self, ScimError> {
        let tokens = tokens(text)?;
        if tokens.is_empty() {
            return Err(invalid("the filter is empty"));
        }
        let mut p = Parser { tokens: &tokens, at: 0, rt, inside };
        let filter = p.or(0)?;
        match p.tokens.get(p.at) {
            None => Ok(filter),
            Some(t) => Err(invalid(format!("unexpected {} after a complete filter", describe(t)))),
        }
    }

    /// Whether a resource (as shown, with `id` and `meta`) satisfies the filter.
    pub fn matches(
        &self,
        rt: &ResourceType,
        resource: &Map<String, Value>,
    ) -> Result<bool, ScimError> {
        eval(self, &Scope::Top(rt), resource)
    }

    /// Whether one value of a multi-valued complex attribute satisfies the filter.
    pub(crate) fn matches_value(&self, attr: &Attribute, value: &Value) -> Result<bool, ScimError> {
        let empty = Map::new();
        eval(self, &Scope::Within(attr), value.as_object().unwrap_or(&empty))
    }
}

fn describe(t: &Token<'_>) -> String {
    match t {
        Token::Open => "`(`".into(),
        Token::Close => "`)`".into(),
        Token::OpenBracket => "`[`".into(),
        Token::CloseBracket => "`]`".into(),
        Token::Word(w) => format!("`{w}`"),
        Token::Text(s) => format!("the string {s:?}"),
    }
}

impl<'a> Parser<'_, 'a> {
    fn next(&mut self) -> Option<&Token<'a>> {
        let t = self.tokens.get(self.at);
        self.at += 1;
        t
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self, depth: usize) -> Result<Filter, ScimError> {
        if depth > MAX_DEPTH {
            return Err(invalid(format!("the filter nests deeper than {MAX_DEPTH} levels")));
        }
        let mut left = self.and(depth)?;
        while self.peek_word("or") {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and(depth)?));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, ScimError> {
        let mut left = self.unary(depth)?;
        while self.peek_word("and") {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary(depth)?));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, ScimError> {
        if self.peek_word("not") && self.tokens.get(self.at + 1) == Some(&Token::Open) {
            self.at += 1;
            return Ok(Filter::Not(Box::new(self.unary(depth + 1)?)));
        }
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or(depth + 1)?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(invalid("a `(` is not closed")),
                }
            }
            Some(Token::Word(word)) => {
                let word = *word;
                self.attribute_expression(word, depth)
            }
            Some(other) => {
                Err(invalid(format!("expected an attribute, found {}", describe(other))))
            }
            None => Err(invalid("the filter ends where an attribute was expected")),
        }
    }

    fn attribute_expression(&mut self, word: &str, depth: usize) -> Result<Filter, ScimError> {
        let path = self.path(word)?;
        if self.tokens.get(self.at) == Some(&Token::OpenBracket) {
            if self.inside {
                return Err(invalid(format!(
                    "`{word}[` inside brackets: value filters do not nest"
                )));
            }
            self.at += 1;
            let attr = self.rt.resolve(&path)?.attr;
            if attr.kind != Kind::Complex || path.sub.is_some() {
                return Err(invalid(format!(
                    "`{word}` is not a complex attribute to filter the values of"
                )));
            }
            let mut inner = Parser { tokens: self.tokens, at: self.at, rt: self.rt, inside: true };
            let filter = inner.or(depth + 1)?;
            check_within(&filter, attr)?;
            self.at = inner.at;
            return match self.next() {
                Some(Token::CloseBracket) => Ok(Filter::Values(path, Box::new(filter))),
                _ => Err(invalid(format!("the `[` after `{word}` is not closed"))),
            };
        }
        let op = match self.next() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("pr") => {
                return Ok(Filter::Present(path))
            }
            Some(Token::Word(w)) => Op::parse(w).ok_or_else(|| {
                invalid(format!(
                    "`{w}` is not an operator: use eq, ne, co, sw, ew, gt, lt, ge, le or pr"
                ))
            })?,
            _ => return Err(invalid(format!("`{word}` must be followed by an operator"))),
        };
        let value = match self.next() {
            Some(Token::Text(s)) => Value::String(s.clone()),
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => serde_json::from_str::<serde_json::Number>(w).map(Value::Number).map_err(|_| {
                    invalid(format!("`{w}` is not a value: quote strings (\"…\"); numbers, true, false and null go bare"))
                })?,
            },
            _ => return Err(invalid(format!("`{word}` and its operator must be followed by a value"))),
        };
        Ok(Filter::Compare(path, op, value))
    }

    fn path(&self, word: &str) -> Result<AttrPath, ScimError> {
        let path = AttrPath::parse(word, self.rt).map_err(|e| invalid(e.detail))?;
        if path.name.is_empty() {
            return Err(invalid(format!("`{word}` names a schema, not an attribute")));
        }
        if !self.inside {
            self.rt.resolve(&path).map_err(|e| invalid(e.detail))?;
        }
        Ok(path)
    }
}

/// The names inside `attr[…]` must be `attr`'s sub-attributes.
fn check_within(filter: &Filter, attr: &Attribute) -> Result<(), ScimError> {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => {
            check_within(a, attr)?;
            check_within(b, attr)
        }
        Filter::Not(a) => check_within(a, attr),
        Filter::Present(p) | Filter::Compare(p, _, _) => match (attr.sub(&p.name), &p.sub) {
            (Some(_), None) if p.uri.is_none() => Ok(()),
            _ => Err(invalid(format!("`{}` has no sub-attribute `{p}`", attr.name))),
        },
        Filter::Values(p, _) => Err(invalid(format!("`{p}[`: value filters do not nest"))),
    }
}

enum Scope<'a> {
    Top(&'a ResourceType),
    Within(&'a Attribute),
}

fn eval(
    filter: &Filter,
    scope: &Scope<'_>,
    object: &Map<String, Value>,
) -> Result<bool, ScimError> {
    Ok(match filter {
        Filter::And(a, b) => eval(a, scope, object)? && eval(b, scope, object)?,
        Filter::Or(a, b) => eval(a, scope, object)? || eval(b, scope, object)?,
        Filter::Not(a) => !eval(a, scope, object)?,
        Filter::Present(path) => {
            let (_, values) = lookup(scope, path, object)?;
            values.into_iter().any(present)
        }
        Filter::Compare(path, op, expected) => {
            let (attr, values) = lookup(scope, path, object)?;
            if expected.is_null() {
                let any = values.iter().copied().any(present);
                return match op {
                    Op::Eq => Ok(!any),
                    Op::Ne => Ok(any),
                    _ => Err(invalid(format!("`{path}`: null compares only with eq and ne"))),
                };
            }
            let mut any = false;
            for v in values {
                if compare(attr, path, v, *op, expected)? {
                    any = true;
                    break;
                }
            }
            any
        }
        Filter::Values(path, inner) => {
            let Scope::Top(rt) = scope else {
                return Err(invalid("value filters do not nest"));
            };
            let attr = rt.resolve(path)?.attr;
            let mut any = false;
            for v in at(object, rt, path).into_iter().flat_map(each) {
                if inner.matches_value(attr, v)? {
                    any = true;
                    break;
                }
            }
            any
        }
    })
}

/// The value of a path in an object, before multi-valued attributes are opened up.
fn at<'v>(object: &'v Map<String, Value>, rt: &ResourceType, path: &AttrPath) -> Option<&'v Value> {
    let resolved = rt.resolve(path).ok()?;
    let container = match resolved.extension {
        Some(ext) => object.get(ext)?.as_object()?,
        None => object,
    };
    container.get(resolved.attr.name)
}

fn each(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// The definition a comparison uses and every value the path reaches: `emails.value`
/// reaches each address; `emails` alone means its `value` sub-attribute (RFC 7644
/// §3.4.2.2).
fn lookup<'s, 'v>(
    scope: &Scope<'s>,
    path: &AttrPath,
    object: &'v Map<String, Value>,
) -> Result<(&'s Attribute, Vec<&'v Value>), ScimError> {
    let (attr, top) = match scope {
        Scope::Top(rt) => {
            let resolved = rt.resolve(path).map_err(|e| invalid(e.detail))?;
            (resolved.attr, at(object, rt, path))
        }
        Scope::Within(parent) => {
            let sub = parent.sub(&path.name).ok_or_else(|| {
                invalid(format!("`{}` has no sub-attribute `{}`", parent.name, path.name))
            })?;
            (sub, object.get(sub.name))
        }
    };
    let sub = match (&path.sub, attr.kind) {
        (Some(s), _) => attr.sub(s),
        (None, Kind::Complex) => attr.sub("value"),
        (None, _) => None,
    };
    let values: Vec<&Value> = top.into_iter().flat_map(each).collect();
    Ok(match sub {
        Some(sub) => {
            let name = sub.name;
            (sub, values.into_iter().filter_map(|v| v.get(name)).collect())
        }
        None if path.sub.is_some() => {
            return Err(invalid(format!("`{path}` names no sub-attribute")));
        }
        None => (attr, values),
    })
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn compare(
    attr: &Attribute,
    path: &AttrPath,
    actual: &Value,
    op: Op,
    expected: &Value,
) -> Result<bool, ScimError> {
    let ordering = |a: std::cmp::Ordering| match op {
        Op::Eq => a.is_eq(),
        Op::Ne => a.is_ne(),
        Op::Gt => a.is_gt(),
        Op::Lt => a.is_lt(),
        Op::Ge => a.is_ge(),
        Op::Le => a.is_le(),
        Op::Co | Op::Sw | Op::Ew => false,
    };
    match attr.kind {
        Kind::Boolean => {
            let Some(want) = expected.as_bool() else {
                return Err(invalid(format!(
                    "`{path}` is true or false; compare it with true or false"
                )));
            };
            match op {
                Op::Eq => Ok(actual.as_bool() == Some(want)),
                Op::Ne => Ok(actual.as_bool() != Some(want)),
                _ => Err(invalid(format!("`{path}` is a boolean: only eq and ne apply"))),
            }
        }
        Kind::Integer | Kind::Decimal => {
            let (Some(a), Some(e)) = (actual.as_f64(), expected.as_f64()) else {
                return match expected.as_f64() {
                    None => Err(invalid(format!("`{path}` is a number; compare it with a number"))),
                    Some(_) => Ok(false),
                };
            };
            if matches!(op, Op::Co | Op::Sw | Op::Ew) {
                return Err(invalid(format!("`{path}` is a number: co, sw and ew do not apply")));
            }
            Ok(a.partial_cmp(&e).is_some_and(ordering))
        }
        Kind::Complex => {
            Err(invalid(format!("`{path}` is complex: name one of its sub-attributes")))
        }
        Kind::DateTime if !matches!(op, Op::Co | Op::Sw | Op::Ew) => {
            let Some(text) = expected.as_str() else {
                return Err(invalid(format!(
                    "`{path}` is a time; compare it with a quoted xsd:dateTime"
                )));
            };
            let want = bantay_core::Timestamp::parse(text)
                .map_err(|e| invalid(format!("`{path}`: {e}")))?;
            let have = actual.as_str().and_then(|t| bantay_core::Timestamp::parse(t).ok());
            Ok(have.is_some_and(|h| ordering(h.cmp(&want))))
        }
        _ => {
            let Some(want) = expected.as_str() else {
                return Err(invalid(format!("`{path}` is text; compare it with a quoted string")));
            };
            let Some(have) = actual.as_str() else { return Ok(false) };
            let (have, want) = if attr.case_exact {
                (have.to_owned(), want.to_owned())
            } else {
                (have.to_lowercase(), want.to_lowercase())
            };
            Ok(match op {
                Op::Co => have.contains(&want),
                Op::Sw => have.starts_with(&want),
                Op::Ew => have.ends_with(&want),
                _ => ordering(have.cmp(&want)),
            })
        }
    }
}

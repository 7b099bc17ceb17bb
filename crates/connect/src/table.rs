//! The snapshot file formats and a line-oriented reader for them.
//!
//! Each table is a CSV file with a header line, or a JSON-lines file with one object a
//! line; both hold one record a line (a quoted CSV field may hold commas and `""`, not a
//! line break). That rule lets a large file be cut at any line break and read by several
//! threads at once, each knowing its line numbers.
//!
//! | file | columns (required in **bold**) |
//! |---|---|
//! | `persons` | **id**, name, port |
//! | `assignments` | **person**, **unit**, **valid_from**, valid_until, order |
//! | `resources` | **id**, **kind**, **class**, system, port |
//! | `grants` | **person**, **resource**, **clause**, **valid_from**, valid_until |
//!
//! Times are `YYYY-MM-DD` (midnight, Manila) or RFC 3339; `valid_until` is exclusive and
//! empty for open-ended.

use std::borrow::Cow;

/// One snapshot table: its file stem and columns.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    pub required: usize,
}

pub const PERSONS: Table = Table { name: "persons", columns: &["id", "name", "port"], required: 1 };
pub const ASSIGNMENTS: Table = Table {
    name: "assignments",
    columns: &["person", "unit", "valid_from", "valid_until", "order"],
    required: 3,
};
pub const RESOURCES: Table =
    Table { name: "resources", columns: &["id", "kind", "class", "system", "port"], required: 3 };
pub const GRANTS: Table = Table {
    name: "grants",
    columns: &["person", "resource", "clause", "valid_from", "valid_until"],
    required: 4,
};

/// Most columns any table has.
pub(crate) const MAX_COLUMNS: usize = 5;

/// How a file's lines become records.
#[derive(Debug, Clone)]
pub(crate) enum Layout {
    /// CSV: for each column of the table, its position in the file's header, if present.
    Csv {
        positions: [Option<usize>; MAX_COLUMNS],
        width: usize,
    },
    JsonLines,
}

impl Table {
    /// Reads a CSV header line into a layout, or says what is wrong with it.
    pub(crate) fn csv_layout(&self, header: &str) -> Result<Layout, String> {
        let mut names = Vec::new();
        split_csv_line(header, &mut names).map_err(|e| format!("the header {e}"))?;
        let mut positions = [None; MAX_COLUMNS];
        for (at, name) in names.iter().enumerate() {
            let name = name.trim();
            let Some(col) = self.columns.iter().position(|c| *c == name) else {
                return Err(format!(
                    "unknown column `{name}`; {}.csv has the columns {}",
                    self.name,
                    self.columns.join(",")
                ));
            };
            if positions[col].replace(at).is_some() {
                return Err(format!("column `{name}` appears twice in the header"));
            }
        }
        if let Some(missing) = (0..self.required).find(|&c| positions[c].is_none()) {
            return Err(format!(
                "the header lacks column `{}`; the first line must name the columns, e.g. {}",
                self.columns[missing],
                self.columns.join(",")
            ));
        }
        Ok(Layout::Csv { positions, width: names.len() })
    }

    /// Reads one line into the table's columns, in the table's order (an absent optional
    /// column reads as empty). Quoted CSV fields and JSON values are unescaped into
    /// `spill`, which the caller makes afresh for each line. `Err` names the field (if
    /// one) and what is wrong.
    pub(crate) fn record<'a>(
        &self,
        layout: &Layout,
        line: &'a str,
        spill: &'a mut Vec<Cow<'a, str>>,
    ) -> Result<Record<'a>, (Option<&'static str>, String)> {
        let mut out: Record<'a> = [""; MAX_COLUMNS];
        match layout {
            Layout::Csv { positions, width } => {
                let line = line.strip_suffix('\r').unwrap_or(line);
                let wrong_width = |found: usize| (None, wrong_width(found, *width));
                if memchr::memchr(b'"', line.as_bytes()).is_none() {
                    // The common case: no quotes, so every field borrows from the line.
                    let mut fields = [""; 16];
                    let n = split_plain(line, &mut fields);
                    if n > fields.len() {
                        return Err(wrong_width(n));
                    }
                    if n != *width {
                        return Err(wrong_width(n));
                    }
                    for (col, pos) in positions.iter().enumerate() {
                        if let Some(p) = pos {
                            out[col] = fields[*p];
                        }
                    }
                } else {
                    split_csv_line(line, spill).map_err(|e| (None, e))?;
                    if spill.len() != *width {
                        return Err(wrong_width(spill.len()));
                    }
                    let spill: &'a Vec<Cow<'a, str>> = spill;
                    for (col, pos) in positions.iter().enumerate() {
                        if let Some(p) = pos {
                            out[col] = &spill[*p];
                        }
                    }
                }
            }
            Layout::JsonLines => {
                let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line)
                    .map_err(|e| (None, format!("not a JSON object: {e}")))?;
                let mut values: [Option<String>; MAX_COLUMNS] = Default::default();
                for (key, value) in object {
                    let Some(col) = self.columns.iter().position(|c| *c == key) else {
                        return Err((
                            None,
                            format!(
                                "unknown field `{key}`; {} records have {}",
                                self.name,
                                self.columns.join(", ")
                            ),
                        ));
                    };
                    values[col] = match value {
                        serde_json::Value::String(s) => Some(s),
                        serde_json::Value::Null => None,
                        _ => return Err((Some(self.columns[col]), "must be a string".into())),
                    };
                }
                if let Some(missing) =
                    (0..self.required).find(|&c| values[c].as_deref().unwrap_or("").is_empty())
                {
                    return Err((Some(self.columns[missing]), "is missing or empty".into()));
                }
                spill.extend(values.into_iter().map(|v| Cow::Owned(v.unwrap_or_default())));
                let spill: &'a Vec<Cow<'a, str>> = spill;
                for (col, value) in spill.iter().enumerate() {
                    out[col] = value;
                }
            }
        }
        Ok(out)
    }
}

/// Splits a line with no quotes at its commas into `fields`; returns how many fields
/// there are (which may be more than `fields` holds). A byte loop: lines are short, and
/// `str::split` costs more per field than the whole comparison here.
fn split_plain<'a>(line: &'a str, fields: &mut [&'a str; 16]) -> usize {
    let mut n = 0;
    let mut start = 0;
    for (i, &b) in line.as_bytes().iter().enumerate() {
        if b == b',' {
            if let Some(slot) = fields.get_mut(n) {
                *slot = line.get(start..i).unwrap_or("");
            }
            n += 1;
            start = i + 1;
        }
    }
    if let Some(slot) = fields.get_mut(n) {
        *slot = line.get(start..).unwrap_or("");
    }
    n + 1
}

/// The error for a line with the wrong number of fields.
pub(crate) fn wrong_width(found: usize, width: usize) -> String {
    format!("{found} fields, but the header has {width}; quote a field that holds a comma")
}

/// A record's fields in its table's column order.
pub(crate) type Record<'a> = [&'a str; MAX_COLUMNS];

/// Splits one CSV line into fields (RFC 4180 quoting within the line: `"a, b"`, `""` for a
/// quote). Unquoted fields borrow from the line. A trailing `\r` is dropped.
pub fn split_csv_line<'a>(line: &'a str, fields: &mut Vec<Cow<'a, str>>) -> Result<(), String> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let bytes = line.as_bytes();
    let mut i = 0;
    loop {
        if bytes.get(i) == Some(&b'"') {
            // A quoted field: up to the closing quote, with `""` standing for `"`.
            let mut value = String::new();
            let mut j = i + 1;
            loop {
                match memchr::memchr(b'"', &bytes[j..]) {
                    None => return Err("has a quoted field with no closing quote".into()),
                    Some(k) => {
                        value.push_str(&line[j..j + k]);
                        j += k + 1;
                        if bytes.get(j) == Some(&b'"') {
                            value.push('"');
                            j += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            fields.push(Cow::Owned(value));
            match bytes.get(j) {
                None => return Ok(()),
                Some(b',') => i = j + 1,
                Some(_) => {
                    return Err(
                        "has text after a closing quote; a quoted field must end at a comma".into(),
                    )
                }
            }
        } else {
            match memchr::memchr(b',', &bytes[i..]) {
                Some(k) => {
                    fields.push(Cow::Borrowed(&line[i..i + k]));
                    i += k + 1;
                }
                None => {
                    fields.push(Cow::Borrowed(&line[i..]));
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Result<Vec<String>, String> {
        let mut fields = Vec::new();
        split_csv_line(line, &mut fields)?;
        Ok(fields.into_iter().map(Cow::into_owned).collect())
    }

    #[test]
    fn splits_quoted_and_plain_fields() {
        assert_eq!(split("a,b,,c\r").unwrap(), ["a", "b", "", "c"]);
        assert_eq!(
            split("\"Cruz, Juan\",\"say \"\"hi\"\"\",x").unwrap(),
            ["Cruz, Juan", "say \"hi\"", "x"]
        );
        assert_eq!(split("").unwrap(), [""]);
        assert_eq!(split("a,").unwrap(), ["a", ""]);
        assert!(split("\"open").unwrap_err().contains("closing quote"));
        assert!(split("\"a\"b").unwrap_err().contains("after a closing quote"));
    }

    #[test]
    fn headers_name_missing_and_unknown_columns() {
        assert!(GRANTS.csv_layout("person,resource,clause,valid_from").is_ok());
        let e = GRANTS.csv_layout("person,resource,valid_from").unwrap_err();
        assert!(e.contains("lacks column `clause`"), "{e}");
        let e = GRANTS.csv_layout("person,resource,clause,valid_from,colour").unwrap_err();
        assert!(e.contains("unknown column `colour`"), "{e}");
    }
}

//! Data extracts as tables of text, for certification (1.3.7): the extract file (CSV with
//! a header line, or JSON lines) and the source database's answer to the query, both in
//! the canonical form `bantay_ledger::certificate::Table` hashes.
//!
//! Cells are compared as text. From the source, a cell is the text PostgreSQL gives it in
//! JSON (`json_each_text(row_to_json(row))`: strings as they are, numbers as written,
//! `1250.50` stays `1250.50`, booleans `true`/`false`), NULL as NULL. In a CSV file an
//! empty unquoted cell is NULL and `""` the empty string; in JSON lines each line is an
//! object with exactly the query's columns, a string cell its text, any other value its
//! JSON text as written.

use std::path::Path;

use bantay_ledger::certificate::Table;
use serde_json::value::RawValue;
use sqlx::postgres::PgConnection;
use sqlx::{Connection as _, Executor as _, Statement as _};

use crate::error::ConnectError;

/// The text of a JSON value, as written, as a cell.
fn cell(raw: &RawValue) -> Option<String> {
    let text = raw.get();
    if text == "null" {
        return None;
    }
    match serde_json::from_str::<String>(text) {
        Ok(s) => Some(s),
        Err(_) => Some(text.to_owned()),
    }
}

/// Which reader an extract file needs, by its extension.
pub fn extract_format(path: &Path) -> Result<&'static str, ConnectError> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => Ok("csv"),
        Some("jsonl") | Some("ndjson") => Ok("jsonl"),
        _ => Err(ConnectError::Missing {
            path: path.to_owned(),
            hint: "an extract is a .csv file (with a header line) or a .jsonl file (one JSON object a line)".into(),
        }),
    }
}

/// Reads an extract file. JSON lines need the columns to expect (objects carry no order).
pub fn read_extract(path: &Path, columns: &[String]) -> Result<Table, ConnectError> {
    let format = extract_format(path)?;
    let bytes =
        std::fs::read(path).map_err(|source| ConnectError::Io { path: path.to_owned(), source })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| ConnectError::record(path, 1, None, format!("not UTF-8 text: {e}")))?;
    parse_extract(path, format, text, columns)
}

/// Reads an extract's text in `format` (`csv` or `jsonl`); `path` names it in errors.
pub fn parse_extract(
    path: &Path,
    format: &str,
    text: &str,
    columns: &[String],
) -> Result<Table, ConnectError> {
    match format {
        "csv" => read_csv(path, text),
        _ => read_jsonl(path, text, columns),
    }
}

fn read_csv(path: &Path, text: &str) -> Result<Table, ConnectError> {
    let records = csv_records(path, text)?;
    let mut records = records.into_iter();
    let Some((_, header)) = records.next() else {
        return Err(ConnectError::record(
            path,
            1,
            None,
            "empty: a CSV extract starts with a header line",
        ));
    };
    let columns: Vec<String> = header.into_iter().map(|c| c.unwrap_or_default()).collect();
    let mut rows = Vec::new();
    for (line, record) in records {
        if record.len() != columns.len() {
            return Err(ConnectError::record(
                path,
                line,
                None,
                format!("{} cells, but the header names {} columns", record.len(), columns.len()),
            ));
        }
        rows.push(record);
    }
    Ok(Table { columns, rows })
}

/// RFC 4180 records with their first line numbers: quoted cells may hold commas, quotes
/// (doubled) and line breaks; an empty unquoted cell is NULL.
/// A CSV record: the line it starts on and its cells (`None` for NULL).
type Record = (u64, Vec<Option<String>>);

fn csv_records(path: &Path, text: &str) -> Result<Vec<Record>, ConnectError> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1u64;
    while chars.peek().is_some() {
        let start = line;
        let mut record = Vec::new();
        loop {
            let mut value = String::new();
            let mut quoted = false;
            if chars.peek() == Some(&'"') {
                quoted = true;
                chars.next();
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            value.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            value.push(c);
                        }
                        None => {
                            return Err(ConnectError::record(
                                path,
                                start,
                                None,
                                "a quoted cell is not closed",
                            ))
                        }
                    }
                }
            }
            while let Some(&c) = chars.peek() {
                if c == ',' || c == '\n' || c == '\r' {
                    break;
                }
                if quoted {
                    return Err(ConnectError::record(
                        path,
                        line,
                        None,
                        format!("`{c}` after a closing quote"),
                    ));
                }
                value.push(c);
                chars.next();
            }
            record.push(if value.is_empty() && !quoted { None } else { Some(value) });
            match chars.next() {
                Some(',') => continue,
                Some('\r') => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    line += 1;
                    break;
                }
                _ => {
                    line += 1;
                    break;
                }
            }
        }
        records.push((start, record));
    }
    Ok(records)
}

fn read_jsonl(path: &Path, text: &str, columns: &[String]) -> Result<Table, ConnectError> {
    let mut rows = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let object: std::collections::BTreeMap<String, Box<RawValue>> = serde_json::from_str(raw)
            .map_err(|e| {
            ConnectError::record(path, line, None, format!("each line is one JSON object: {e}"))
        })?;
        if let Some(extra) = object.keys().find(|k| !columns.contains(k)) {
            return Err(ConnectError::record(
                path,
                line,
                Some(extra),
                "the query has no such column",
            ));
        }
        let mut row = Vec::with_capacity(columns.len());
        for column in columns {
            let value = object
                .get(column)
                .ok_or_else(|| ConnectError::record(path, line, Some(column), "missing"))?;
            row.push(cell(value));
        }
        rows.push(row);
    }
    Ok(Table { columns: columns.to_vec(), rows })
}

/// What went wrong at the source database.
#[derive(Debug, thiserror::Error)]
#[error("{doing}: {source}")]
pub struct SourceError {
    pub doing: &'static str,
    #[source]
    pub source: sqlx::Error,
}

/// Runs `query` on a PostgreSQL source in a read-only, repeatable-read transaction (a
/// query that would write is refused by the server) and returns its answer as a table.
pub async fn query_source(url: &str, query: &str) -> Result<Table, SourceError> {
    let err = |doing| move |source| SourceError { doing, source };
    let query = query.trim().trim_end_matches(';');
    let mut conn = PgConnection::connect(url).await.map_err(err("connecting to the source"))?;
    let mut tx = conn.begin().await.map_err(err("starting a transaction"))?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(err("making the transaction read-only"))?;
    // Run as given first: the server refuses anything that writes.
    tx.execute(sqlx::raw_sql(query)).await.map_err(err("running the query (read-only)"))?;
    let statement = tx.prepare(query).await.map_err(err("preparing the query"))?;
    let columns: Vec<String> =
        statement.columns().iter().map(|c| sqlx::Column::name(c).to_owned()).collect();
    // Each row's cells in column order, as JSON text.
    let wrapped = format!(
        "SELECT (SELECT json_agg(value) FROM json_each_text(row_to_json(q)))::text FROM ({query}) AS q"
    );
    let lines: Vec<Option<String>> =
        sqlx::query_scalar(&wrapped).fetch_all(&mut *tx).await.map_err(err("reading the rows"))?;
    tx.rollback().await.map_err(err("ending the transaction"))?;
    let mut rows = Vec::with_capacity(lines.len());
    for line in lines {
        let mut row: Vec<Option<String>> =
            line.and_then(|l| serde_json::from_str(&l).ok()).unwrap_or_default();
        row.resize(columns.len(), None);
        rows.push(row);
    }
    Ok(Table { columns, rows })
}

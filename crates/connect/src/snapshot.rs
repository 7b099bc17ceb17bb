//! Reading a snapshot directory: for a decision ([`load_snapshot`], everything in memory)
//! or for a scan ([`scan_snapshot`], grants streamed through several threads).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

use bantay_core::{
    AssignmentRecord, GrantRecord, Origin, PersonRecord, PolicyPack, RecordError, ResourceRecord,
    Scan, ScanBuilder, ScanReport, ScanWorker, Snapshot, SnapshotBuilder, Timestamp,
};

use crate::table::{
    wrong_width, Layout, Record, Table, ASSIGNMENTS, GRANTS, MAX_COLUMNS, PERSONS, RESOURCES,
};
use crate::ConnectError;

/// The four files of a snapshot, each `NAME.csv` or `NAME.jsonl`.
#[derive(Debug, Clone)]
pub struct SnapshotFiles {
    pub persons: PathBuf,
    pub assignments: PathBuf,
    pub resources: PathBuf,
    pub grants: PathBuf,
}

impl SnapshotFiles {
    /// Finds the files in a directory.
    pub fn in_dir(dir: &Path) -> Result<Self, ConnectError> {
        let find = |table: &Table| -> Result<PathBuf, ConnectError> {
            let csv = dir.join(format!("{}.csv", table.name));
            let jsonl = dir.join(format!("{}.jsonl", table.name));
            match (csv.is_file(), jsonl.is_file()) {
                (true, false) => Ok(csv),
                (false, true) => Ok(jsonl),
                (true, true) => Err(ConnectError::record(
                    &csv,
                    1,
                    None,
                    format!("both {0}.csv and {0}.jsonl are present; keep one", table.name),
                )),
                (false, false) => Err(ConnectError::Missing {
                    path: csv,
                    hint: format!(
                        "a snapshot directory holds persons, assignments, resources and grants as .csv or .jsonl; {}.csv has the columns {}",
                        table.name,
                        table.columns.join(",")
                    ),
                }),
            }
        };
        Ok(Self {
            persons: find(&PERSONS)?,
            assignments: find(&ASSIGNMENTS)?,
            resources: find(&RESOURCES)?,
            grants: find(&GRANTS)?,
        })
    }
}

const CHUNK_BYTES: usize = 4 << 20;

/// A file cut into chunks of whole lines, each with the number of its first line.
struct Chunks {
    path: PathBuf,
    file: File,
    carry: Vec<u8>,
    next_line: u64,
    eof: bool,
    /// Bytes of the file not read yet, as its size said at opening.
    unread: u64,
}

struct Chunk {
    bytes: Vec<u8>,
    first_line: u64,
}

impl Chunks {
    fn open(path: &Path) -> Result<Self, ConnectError> {
        let io = |source| ConnectError::Io { path: path.to_owned(), source };
        let file = File::open(path).map_err(io)?;
        let unread = file.metadata().map_err(io)?.len();
        Ok(Self {
            path: path.to_owned(),
            file,
            carry: Vec::new(),
            next_line: 1,
            eof: false,
            unread,
        })
    }

    /// The next chunk of whole lines (the last may lack its line break), or `None` at the
    /// end. A line longer than a chunk makes its chunk longer.
    fn next(&mut self) -> Result<Option<Chunk>, ConnectError> {
        let mut bytes = std::mem::take(&mut self.carry);
        let mut want = CHUNK_BYTES.max(bytes.len() + 1);
        loop {
            if !self.eof && bytes.len() < want {
                let need = (want - bytes.len()) as u64;
                // Small files get small buffers; the +1 finds the end without another read.
                bytes.reserve(need.min(self.unread + 1) as usize);
                let n = (&mut self.file)
                    .take(need)
                    .read_to_end(&mut bytes)
                    .map_err(|source| ConnectError::Io { path: self.path.clone(), source })?;
                self.unread = self.unread.saturating_sub(n as u64);
                self.eof = (n as u64) < need;
            }
            if self.eof {
                break;
            }
            // Keep the partial last line for the next chunk.
            match memchr::memrchr(b'\n', &bytes) {
                Some(end) => {
                    self.carry = bytes.split_off(end + 1);
                    break;
                }
                None => want = bytes.len() + CHUNK_BYTES,
            }
        }
        if bytes.is_empty() {
            return Ok(None);
        }
        let first_line = self.next_line;
        self.next_line += memchr::memchr_iter(b'\n', &bytes).count() as u64;
        Ok(Some(Chunk { bytes, first_line }))
    }
}

/// The layout of a table file: from its header line (CSV) or its extension (JSON lines).
fn layout_of(path: &Path, table: &Table, first_line: Option<&str>) -> Result<Layout, ConnectError> {
    if path.extension().is_some_and(|e| e == "jsonl") {
        return Ok(Layout::JsonLines);
    }
    let Some(header) = first_line else {
        return Err(ConnectError::record(
            path,
            1,
            None,
            format!(
                "is empty; the first line must name the columns, e.g. {}",
                table.columns.join(",")
            ),
        ));
    };
    table.csv_layout(header).map_err(|e| ConnectError::record(path, 1, None, e))
}

/// Calls `f` for each record of a chunk, with its line number. Stops at the first error.
fn for_each_record(
    path: &Path,
    table: &Table,
    layout: &Layout,
    chunk: &Chunk,
    skip_header: bool,
    mut f: impl FnMut(u64, &Record<'_>) -> Result<(), RecordError>,
) -> Result<(), ConnectError> {
    let text = std::str::from_utf8(&chunk.bytes).map_err(|e| {
        let before = &chunk.bytes[..e.valid_up_to()];
        let line = chunk.first_line + memchr::memchr_iter(b'\n', before).count() as u64;
        ConnectError::record(path, line, None, "is not UTF-8 text; save the file as UTF-8")
    })?;
    let bytes = text.as_bytes();
    if let Layout::Csv { positions, width } = layout {
        if memchr::memchr(b'"', bytes).is_none() {
            return for_each_plain_record(path, positions, *width, text, chunk, skip_header, f);
        }
    }
    let mut number = chunk.first_line;
    let mut start = 0;
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |k| start + k);
        let line = &text[start..end];
        let skip = (skip_header && number == chunk.first_line) || line.is_empty() || line == "\r";
        if !skip {
            let mut spill = Vec::new();
            let record = table
                .record(layout, line, &mut spill)
                .map_err(|(field, message)| ConnectError::record(path, number, field, message))?;
            f(number, &record)
                .map_err(|e| ConnectError::record(path, number, Some(e.field), e.message))?;
        }
        start = end + 1;
        number += 1;
    }
    Ok(())
}

/// The fast path of [`for_each_record`] for CSV with no quotes, the common case: one SIMD
/// pass over the chunk finds every comma and line break, and every field borrows from it.
fn for_each_plain_record(
    path: &Path,
    positions: &[Option<usize>; MAX_COLUMNS],
    width: usize,
    text: &str,
    chunk: &Chunk,
    skip_header: bool,
    mut f: impl FnMut(u64, &Record<'_>) -> Result<(), RecordError>,
) -> Result<(), ConnectError> {
    let bytes = text.as_bytes();
    let mut fields = [""; 16];
    let (mut n, mut field_start, mut number) = (0, 0, chunk.first_line);
    let separators = memchr::memchr2_iter(b',', b'\n', bytes).chain(std::iter::once(bytes.len()));
    for at in separators {
        if let Some(slot) = fields.get_mut(n) {
            *slot = text.get(field_start..at).unwrap_or("");
        }
        n += 1;
        field_start = at + 1;
        if at < bytes.len() && bytes[at] == b',' {
            continue;
        }
        // The end of a line.
        if let Some(last) = fields.get_mut(n - 1) {
            *last = last.strip_suffix('\r').unwrap_or(last);
        }
        let empty = n == 1 && fields[0].is_empty();
        if !(empty || (skip_header && number == chunk.first_line)) {
            if n != width {
                return Err(ConnectError::record(path, number, None, wrong_width(n, width)));
            }
            let mut record: Record<'_> = [""; MAX_COLUMNS];
            for (col, pos) in positions.iter().enumerate() {
                if let Some(p) = pos {
                    record[col] = fields[*p];
                }
            }
            f(number, &record)
                .map_err(|e| ConnectError::record(path, number, Some(e.field), e.message))?;
        }
        n = 0;
        number += 1;
    }
    Ok(())
}

/// Reads a whole table, one record at a time, in order.
fn read_table(
    path: &Path,
    table: &Table,
    mut f: impl FnMut(u64, &Record<'_>) -> Result<(), RecordError>,
) -> Result<(), ConnectError> {
    let mut chunks = Chunks::open(path)?;
    let mut layout = None;
    while let Some(chunk) = chunks.next()? {
        let first = chunk.first_line == 1;
        if layout.is_none() {
            let header = first_line_of(&chunk);
            layout = Some(layout_of(path, table, header.as_deref())?);
        }
        if let Some(layout) = &layout {
            let skip = first && matches!(layout, Layout::Csv { .. });
            for_each_record(path, table, layout, &chunk, skip, &mut f)?;
        }
    }
    if layout.is_none() {
        layout_of(path, table, None)?;
    }
    Ok(())
}

fn first_line_of(chunk: &Chunk) -> Option<String> {
    if chunk.bytes.is_empty() {
        return None;
    }
    let end = memchr::memchr(b'\n', &chunk.bytes).unwrap_or(chunk.bytes.len());
    Some(String::from_utf8_lossy(&chunk.bytes[..end]).into_owned())
}

fn person<'a>(r: &Record<'a>) -> PersonRecord<'a> {
    PersonRecord { id: r[0], name: r[1], port: r[2] }
}

fn assignment<'a>(r: &Record<'a>) -> AssignmentRecord<'a> {
    AssignmentRecord { person: r[0], unit: r[1], valid_from: r[2], valid_until: r[3], order: r[4] }
}

fn resource<'a>(r: &Record<'a>) -> ResourceRecord<'a> {
    ResourceRecord { id: r[0], kind: r[1], class: r[2], system: r[3], port: r[4] }
}

fn grant<'a>(r: &Record<'a>) -> GrantRecord<'a> {
    GrantRecord { person: r[0], resource: r[1], clause: r[2], valid_from: r[3], valid_until: r[4] }
}

/// Loads a whole snapshot into memory (for decisions and small organisations).
pub fn load_snapshot(files: &SnapshotFiles, pack: &PolicyPack) -> Result<Snapshot, ConnectError> {
    let mut b = SnapshotBuilder::new(pack);
    read_table(&files.persons, &PERSONS, |_, r| b.person(person(r)).map(drop))?;
    read_table(&files.assignments, &ASSIGNMENTS, |_, r| b.assignment(assignment(r)))?;
    read_table(&files.resources, &RESOURCES, |_, r| b.resource(resource(r)).map(drop))?;
    let grants_file = files.grants.display().to_string();
    read_table(&files.grants, &GRANTS, |line, r| {
        b.grant(grant(r), Some(Origin { file: grants_file.clone(), line }))
    })?;
    Ok(b.finish())
}

/// What a scan read and found. The findings are made as [`ScanReport::findings`] is
/// read, so that millions of them stream out without being held.
#[derive(Debug)]
pub struct ScanOutcome<'p> {
    pub at: Timestamp,
    pub persons: usize,
    pub resources: usize,
    pub grants_read: u64,
    pub grants_active: u64,
    pub decisions_evaluated: usize,
    pub report: ScanReport<'p>,
}

/// Scans a snapshot at `at` with `threads` threads checking grants. Fails whole on the
/// first bad line (the one with the lowest number, whichever thread finds it).
pub fn scan_snapshot<'p>(
    files: &SnapshotFiles,
    pack: &'p PolicyPack,
    at: Timestamp,
    threads: usize,
) -> Result<ScanOutcome<'p>, ConnectError> {
    let mut b = ScanBuilder::new(pack, at);
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len() as usize).unwrap_or(0);
    // Roughly 30 bytes a person and 40 a resource line: enough to avoid rehashing.
    b.reserve(size(&files.persons) / 24, size(&files.resources) / 32);
    read_table(&files.persons, &PERSONS, |_, r| b.person(person(r)))?;
    read_table(&files.assignments, &ASSIGNMENTS, |_, r| b.assignment(assignment(r)))?;
    read_table(&files.resources, &RESOURCES, |_, r| b.resource(resource(r)))?;
    let scan = b.finish();
    let tallies: Vec<_> = check_grants(&files.grants, &scan, threads.max(1))?
        .into_iter()
        .map(ScanWorker::into_tally)
        .collect();
    let grants_file = files.grants.display().to_string();
    let (persons, resources) = (scan.persons(), scan.resources());
    let grants_read = tallies.iter().map(|t| t.read).sum();
    let grants_active = tallies.iter().map(|t| t.active).sum();
    let report = scan.finish(tallies, &grants_file);
    Ok(ScanOutcome {
        at,
        persons,
        resources,
        grants_read,
        grants_active,
        decisions_evaluated: report.scan().decisions_evaluated(),
        report,
    })
}

/// Streams the grants file through `threads` workers, this thread reading chunks.
fn check_grants<'s, 'p>(
    path: &Path,
    scan: &'s Scan<'p>,
    threads: usize,
) -> Result<Vec<ScanWorker<'s, 'p>>, ConnectError> {
    let mut chunks = Chunks::open(path)?;
    let Some(first) = chunks.next()? else {
        layout_of(path, &GRANTS, None)?;
        return Ok(Vec::new());
    };
    let layout = layout_of(path, &GRANTS, first_line_of(&first).as_deref())?;
    let skip_header = matches!(layout, Layout::Csv { .. });
    let stop = AtomicBool::new(false);
    let (send, receive) = mpsc::sync_channel::<Chunk>(threads);
    let receive = Mutex::new(receive);
    let work = |worker: &mut ScanWorker<'s, 'p>| -> Result<(), ConnectError> {
        loop {
            let next = match receive.lock() {
                Ok(r) => r.recv(),
                Err(_) => return Ok(()),
            };
            let Ok(chunk) = next else { return Ok(()) };
            let skip = skip_header && chunk.first_line == 1;
            let result = for_each_record(path, &GRANTS, &layout, &chunk, skip, |line, r| {
                worker.check(grant(r), line)
            });
            if result.is_err() {
                stop.store(true, Ordering::Relaxed);
                return result;
            }
        }
    };
    let (reading, joined) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut worker = scan.worker();
                    work(&mut worker).map(|()| worker)
                })
            })
            .collect();
        let mut reading = Ok(());
        let mut next = Some(first);
        while let Some(chunk) = next {
            if stop.load(Ordering::Relaxed) || send.send(chunk).is_err() {
                break;
            }
            match chunks.next() {
                Ok(c) => next = c,
                Err(e) => {
                    reading = Err(e);
                    break;
                }
            }
        }
        drop(send);
        let joined: Vec<_> = handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(ConnectError::record(path, 0, None, "a scan thread failed"))
                })
            })
            .collect();
        (reading, joined)
    });
    reading?;
    // Several threads may each have met a bad line; report the first in the file.
    let mut workers = Vec::with_capacity(threads);
    let mut first_error: Option<ConnectError> = None;
    for result in joined {
        match result {
            Ok(worker) => workers.push(worker),
            Err(e) => {
                if first_error.as_ref().is_none_or(|f| e.line() < f.line()) {
                    first_error = Some(e);
                }
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(workers),
    }
}

//! Following an authentication log as it grows, as `tail -F` does: lines are read as
//! they are written and judged through [`Service::ingest_log_from`], each with its line
//! number in the file. A rotated file (renamed, a new one in its place) is read to its
//! end before the new one is followed from its start; a truncated file is followed from
//! its start. A file that is not there yet is waited for.
//!
//! Only complete lines are read: a line still being written waits for its line feed. A
//! piece whose ingest fails (the database is down) is kept and tried again.

use std::os::unix::fs::MetadataExt as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt as _;

use crate::service::{Actor, Service};

/// Follows `path` until the process ends, looking for new lines every `poll`.
pub fn follow_file(
    service: Arc<Service>,
    path: PathBuf,
    poll: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut follower = Follower::new(path);
        let mut tick = tokio::time::interval(poll);
        loop {
            tick.tick().await;
            follower.step(&service).await;
        }
    })
}

struct Follower {
    path: PathBuf,
    name: String,
    file: Option<tokio::fs::File>,
    inode: u64,
    /// Bytes of the current file read so far.
    offset: u64,
    /// The file's line number of the first line in `pending`.
    line: u64,
    /// Complete lines read and not yet judged.
    pending: Vec<u8>,
    /// A line still being written.
    partial: Vec<u8>,
}

impl Follower {
    fn new(path: PathBuf) -> Self {
        let name = path.display().to_string();
        Self {
            path,
            name,
            file: None,
            inode: 0,
            offset: 0,
            line: 1,
            pending: Vec::new(),
            partial: Vec::new(),
        }
    }

    async fn step(&mut self, service: &Service) {
        if let Err(e) = self.read(service).await {
            tracing::warn!("following {}: {e}", self.name);
        }
        if !self.pending.is_empty() {
            self.judge(service).await;
        }
    }

    /// Reads what was appended, switching files on rotation or truncation.
    async fn read(&mut self, service: &Service) -> std::io::Result<()> {
        let meta = match tokio::fs::metadata(&self.path).await {
            Ok(meta) => meta,
            // Not there (yet, or between a rename and the new file): wait.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let rotated = self.file.is_some() && meta.ino() != self.inode;
        let truncated = self.file.is_some() && !rotated && meta.len() < self.offset;
        if rotated {
            // The old file may have grown after the last look: read it to its end.
            self.drain().await?;
            self.finish_file(service).await;
        }
        if truncated {
            self.partial.clear();
            self.finish_file(service).await;
        }
        if self.file.is_none() {
            self.file = Some(tokio::fs::File::open(&self.path).await?);
            self.inode = meta.ino();
        }
        self.drain().await
    }

    async fn drain(&mut self) -> std::io::Result<()> {
        let Some(file) = self.file.as_mut() else { return Ok(()) };
        let mut buffer = Vec::new();
        let n = file.read_to_end(&mut buffer).await?;
        self.offset += n as u64;
        self.partial.extend_from_slice(&buffer);
        if let Some(end) = memchr::memrchr(b'\n', &self.partial) {
            let rest = self.partial.split_off(end + 1);
            self.pending.append(&mut self.partial);
            self.partial = rest;
        }
        Ok(())
    }

    /// Judges what is left of the current file (a last line without a line feed too)
    /// and starts the next from its first line.
    async fn finish_file(&mut self, service: &Service) {
        if !self.partial.is_empty() {
            self.pending.append(&mut self.partial);
            self.pending.push(b'\n');
        }
        if !self.pending.is_empty() {
            self.judge(service).await;
        }
        // Lines the ingest could not take are dropped with the file they came from
        // rather than numbered as the next file's.
        self.pending.clear();
        self.file = None;
        self.offset = 0;
        self.line = 1;
    }

    async fn judge(&mut self, service: &Service) {
        let actor = Actor::system("tail");
        let context = service.log_context();
        let lines = memchr::memchr_iter(b'\n', &self.pending).count() as u64;
        let read = service
            .ingest_log_from(&actor, &self.name, self.line, self.pending.as_slice(), &context)
            .await;
        match read {
            Ok(ingested) => {
                if !ingested.opened.is_empty() {
                    tracing::info!("{}: {} findings opened", self.name, ingested.opened.len());
                }
                self.line += lines;
                self.pending.clear();
            }
            Err(e) => tracing::warn!("{}: {lines} lines not yet read: {e}", self.name),
        }
    }
}

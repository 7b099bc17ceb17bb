//! `bantay ledger verify`: recomputes every leaf from the stored event bytes, the tree at
//! every signed head, every head's signature with the key in force at its size, and the
//! chain of keys itself; stops at the first problem and names its sequence number.
//!
//! Nothing stored is trusted: not the leaf column (it only helps to point at the altered
//! row), not the key table (keys come from the key events inside the ledger).

use bantay_ledger::{event_seq, leaf_hash, Frontier, Hash, SignedTreeHead};
use ed25519_dalek::{Signature, VerifyingKey};
use futures_util::TryStreamExt;

use crate::database::{dispatch_pool, Pool};
use crate::error::{Doing, Result};
use crate::keys::public_key_hex;
use crate::ledger::{endorsement_bytes, Store};
use crate::state::Change;

/// The first thing found wrong, with the event (or head) it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("event {seq} is missing: the stored events jump from {} to {next}", seq.wrapping_sub(1) as i64)]
    Missing { seq: u64, next: u64 },
    #[error("event {seq} was changed: its bytes no longer hash to its leaf")]
    Altered { seq: u64 },
    #[error("event {seq}'s row holds {}: rows were moved or swapped", held.map_or("no readable event".to_owned(), |h| format!("event {h}")))]
    Moved { seq: u64, held: Option<u64> },
    #[error("event {seq}: {why}")]
    BadKeyEvent { seq: u64, why: String },
    #[error("event {seq}: the ledger's first key is {found}, not the key you trust ({trusted})")]
    UntrustedKey { seq: u64, found: String, trusted: String },
    #[error("the head of {size} events (signed at {time}) does not match the events: one of events {from}..{last} was changed together with its leaf", last = size - 1)]
    HeadMismatch { size: u64, time: i64, from: u64 },
    #[error("the head of {size} events (signed at {time}) has a bad signature for the key in force from event {key_seq}: the head was altered or signed by another key")]
    BadSignature { size: u64, time: i64, key_seq: u64 },
    #[error("events from {seq} on are missing: the ledger ends at event {} but {what} covers {size} events", seq.wrapping_sub(1) as i64)]
    Cut { seq: u64, size: u64, what: String },
}

impl Problem {
    /// The first sequence number concerned.
    pub fn seq(&self) -> u64 {
        match self {
            Problem::Missing { seq, .. }
            | Problem::Altered { seq }
            | Problem::Moved { seq, .. }
            | Problem::BadKeyEvent { seq, .. }
            | Problem::UntrustedKey { seq, .. }
            | Problem::Cut { seq, .. } => *seq,
            Problem::HeadMismatch { from, .. } => *from,
            Problem::BadSignature { size, .. } => size.saturating_sub(1),
        }
    }
}

/// What the verifier is told to trust from outside the database.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// The ledger's first public key, as printed by `bantay init`.
    pub first_key: Option<VerifyingKey>,
    /// A head kept outside the database (`bantay ledger head --output json`).
    pub head: Option<SignedTreeHead>,
}

/// What `verify` checked.
#[derive(Debug, Clone)]
pub struct Verification {
    pub events: u64,
    /// Bytes of event data hashed.
    pub bytes: u64,
    pub heads: u64,
    /// Signing keys by the event that introduced them.
    pub keys: Vec<(u64, VerifyingKey)>,
    /// The root of the whole ledger.
    pub root: Hash,
    pub problem: Option<Problem>,
}

#[derive(Debug)]
struct Head {
    size: u64,
    root: Vec<u8>,
    time: i64,
    key_seq: u64,
    signature: Vec<u8>,
    /// A head handed in from outside, already signature-checked by its holder.
    external: bool,
}

struct Walk<'t> {
    trust: &'t Trust,
    frontier: Frontier,
    keys: Vec<(u64, VerifyingKey)>,
    heads: std::iter::Peekable<std::vec::IntoIter<Head>>,
    checked_heads: u64,
    last_good: u64,
    bytes: u64,
}

impl Walk<'_> {
    fn event(&mut self, seq: u64, leaf: &[u8], bytes: &[u8]) -> Result<(), Problem> {
        let expected = self.frontier.size();
        if seq != expected {
            return Err(Problem::Missing { seq: expected, next: seq });
        }
        let computed = leaf_hash(bytes);
        if leaf != computed {
            return Err(Problem::Altered { seq });
        }
        let held = event_seq(bytes);
        if held != Some(seq) {
            return Err(Problem::Moved { seq, held });
        }
        // Only key events can contain this (with unescaped quotes, outside strings); the
        // rare other event that has such a pair nested in its body is parsed and passes.
        if seq == 0 || memchr::memmem::find(bytes, b"\"kind\":\"ledger.").is_some() {
            self.key_event(seq, bytes)?;
        }
        self.bytes += bytes.len() as u64;
        self.frontier.push(computed);
        self.heads_up_to_here()
    }

    fn key_event(&mut self, seq: u64, bytes: &[u8]) -> Result<(), Problem> {
        let bad = |why: String| Problem::BadKeyEvent { seq, why };
        let event: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
        let kind = event["kind"].as_str().unwrap_or_default();
        if seq == 0 && kind != "ledger.initialised" {
            return Err(bad(format!("the first event must be ledger.initialised, not `{kind}`")));
        }
        if !kind.starts_with("ledger.") || kind == "ledger.note" {
            return Ok(());
        }
        let change = Change::parse(kind, &event["body"]).map_err(|e| bad(e.to_string()))?;
        match change {
            Change::LedgerInitialised { public_key } if seq == 0 => {
                let key = VerifyingKey::from_bytes(&public_key)
                    .map_err(|_| bad("malformed public key".into()))?;
                if let Some(trusted) = &self.trust.first_key {
                    if *trusted != key {
                        return Err(Problem::UntrustedKey {
                            seq,
                            found: public_key_hex(&key),
                            trusted: public_key_hex(trusted),
                        });
                    }
                }
                self.keys.push((seq, key));
            }
            Change::KeyRotated { public_key, endorsement } if seq > 0 => {
                let key = VerifyingKey::from_bytes(&public_key)
                    .map_err(|_| bad("malformed public key".into()))?;
                let Some((_, current)) = self.keys.last() else {
                    return Err(bad("a rotation before any key".into()));
                };
                let signature = Signature::from_bytes(&endorsement);
                current.verify_strict(&endorsement_bytes(&key), &signature).map_err(|_| {
                    bad("the rotation is not endorsed by the key it replaces".into())
                })?;
                self.keys.push((seq, key));
            }
            _ => return Err(bad(format!("`{kind}` is not allowed at this position"))),
        }
        Ok(())
    }

    /// Checks every head whose size the walk has reached.
    fn heads_up_to_here(&mut self) -> Result<(), Problem> {
        let size = self.frontier.size();
        while let Some(head) = self.heads.next_if(|h| h.size <= size) {
            if head.size < size {
                // Only a head of size 0 or a duplicate can be behind; neither is stored.
                continue;
            }
            let root = self.frontier.root();
            if head.root[..] != root[..] {
                return Err(Problem::HeadMismatch { size, time: head.time, from: self.last_good });
            }
            if !head.external {
                // The key in force at this size: the last key event inside the head's tree.
                // Event 0 is always a key event (checked above), so a head always has one.
                let in_force = self.keys.iter().rev().find(|(s, _)| *s < size).copied();
                let signature = <[u8; 64]>::try_from(&head.signature[..]).ok();
                let good = match (in_force, signature) {
                    (Some((key_seq, key)), Some(signature)) => {
                        key_seq == head.key_seq
                            && SignedTreeHead { size, root, time: head.time, signature }
                                .verify(&key)
                    }
                    _ => false,
                };
                if !good {
                    let key_seq = in_force.map_or(head.key_seq, |(seq, _)| seq);
                    return Err(Problem::BadSignature { size, time: head.time, key_seq });
                }
            }
            self.checked_heads += 1;
            self.last_good = size;
        }
        Ok(())
    }
}

fn malformed(db: &crate::database::Database, message: String) -> crate::error::StoreError {
    crate::error::StoreError::Inconsistent { location: db.location().to_owned(), message }
}

/// Events per page on SQLite.
const PAGE: i64 = 4096;

/// One page of events in four values: the rows' seqs and their events' lengths as
/// comma-separated lists, their 32-byte leaves, and their events' bytes, each run
/// together. Every part has a known length, so no byte inside an event can be taken for a
/// boundary. The aggregates walk the same scan, so their orders agree whatever order it
/// is; the seqs say which row each element was. A page past the end is all NULL.
const SQLITE_PAGE: &str = "SELECT group_concat(seq), group_concat(length(event)), \
     CAST(group_concat(leaf, '') AS BLOB), CAST(group_concat(event, '') AS BLOB) \
     FROM ledger_events WHERE seq >= $1 AND seq < $2";

pub(crate) type Page = (Option<String>, Option<String>, Option<Vec<u8>>, Option<Vec<u8>>);

/// A stored row: seq, leaf, event bytes.
type StoredEvent<'p> = (u64, &'p [u8], &'p [u8]);

/// Splits a page into (seq, leaf, event) rows; `None` if the parts do not fit together.
fn unpack(page: &Page) -> Option<Vec<StoredEvent<'_>>> {
    let (Some(seqs), Some(lengths), Some(leaves), Some(events)) = page else {
        return Some(Vec::new());
    };
    let mut rows = Vec::with_capacity(PAGE as usize);
    let mut at = 0;
    for ((seq, length), leaf) in seqs.split(',').zip(lengths.split(',')).zip(leaves.chunks(32)) {
        let (seq, length): (u64, usize) = (seq.parse().ok()?, length.parse().ok()?);
        let event = events.get(at..at + length)?;
        rows.push((seq, leaf, event));
        at += length;
    }
    (at == events.len() && leaves.len() == 32 * rows.len()).then_some(rows)
}

impl Store {
    /// Verifies the whole ledger; see the module's documentation.
    ///
    /// The ledger is live: a writer may commit between the reading of its current head and
    /// the reading of the events (on PostgreSQL even a killed writer's last commit, which
    /// the server finishes after the client is gone), so that more events are read than
    /// the head read before counts. Such a cut is checked again against the head as it is
    /// now; if the head moved, the ledger is verified again. A head that stays put while
    /// events lie beyond it is reported.
    pub async fn verify(&self, trust: &Trust) -> Result<Verification> {
        let mut tries = 0;
        loop {
            let (verification, head_read) = self.verify_once(trust).await?;
            let cut_by_a_writer = matches!(
                verification.problem,
                Some(Problem::Cut { seq, size, .. }) if size == head_read && seq > size
            );
            tries += 1;
            if !cut_by_a_writer || tries == 5 || self.size().await? == head_read {
                return Ok(verification);
            }
        }
    }

    /// One pass of [`Store::verify`], and the size of the current head it read.
    async fn verify_once(&self, trust: &Trust) -> Result<(Verification, u64)> {
        let db = self.database();
        type HeadRow = (i64, Vec<u8>, i64, i64, Vec<u8>);
        let rows: Vec<HeadRow> = dispatch_pool!(&db.pool, pool => {
            sqlx::query_as("SELECT size, root, time, key_seq, signature FROM ledger_heads ORDER BY size")
                .fetch_all(pool)
                .await
        })
        .map_err(|e| db.classify(e, "reading the signed heads"))?;
        let mut heads: Vec<Head> = rows
            .into_iter()
            .map(|(size, root, time, key_seq, signature)| Head {
                size: size as u64,
                root,
                time,
                key_seq: key_seq as u64,
                signature,
                external: false,
            })
            .collect();
        let (state_size, state_root): (i64, Vec<u8>) = dispatch_pool!(&db.pool, pool => {
            sqlx::query_as("SELECT size, root FROM ledger_state WHERE id = 1").fetch_one(pool).await
        })
        .doing("reading the ledger's head")?;
        if let Some(h) = &trust.head {
            heads.push(Head {
                size: h.size,
                root: h.root.to_vec(),
                time: h.time,
                key_seq: 0,
                signature: Vec::new(),
                external: true,
            });
            heads.sort_by_key(|h| h.size);
        }
        let last_head = heads.last().map(|h| (h.size, h.time, h.external));
        let mut walk = Walk {
            trust,
            frontier: Frontier::new(),
            keys: Vec::new(),
            heads: heads.into_iter().peekable(),
            checked_heads: 0,
            last_good: 0,
            bytes: 0,
        };
        let mut problem = None;
        match &db.pool {
            Pool::Sqlite(pool) => {
                // SQLite hands rows over one by one through sqlx's worker thread, which
                // costs more than hashing them; pages of rows packed into one value each
                // cost one hand-over per page.
                let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM ledger_events")
                    .fetch_one(pool)
                    .await
                    .map_err(|e| db.classify(e, "reading the events"))?;
                // Two pages in flight on two connections while this thread hashes.
                let last = last.unwrap_or(-1);
                let fetch = |from: i64| {
                    let pool = pool.clone();
                    tokio::spawn(async move {
                        sqlx::query_as::<_, Page>(SQLITE_PAGE)
                            .bind(from)
                            .bind(from + PAGE)
                            .fetch_one(&pool)
                            .await
                    })
                };
                let mut in_flight = std::collections::VecDeque::new();
                let mut next = 0i64;
                'pages: loop {
                    while in_flight.len() < 2 && next <= last {
                        in_flight.push_back(fetch(next));
                        next += PAGE;
                    }
                    // Let the new fetches reach SQLite's threads before hashing starts.
                    tokio::task::yield_now().await;
                    let Some(handle) = in_flight.pop_front() else { break };
                    let page = handle
                        .await
                        .map_err(|e| malformed(db, format!("a page reader stopped: {e}")))?
                        .map_err(|e| db.classify(e, "reading the events"))?;
                    // A page whose every row was deleted is empty: the next row names the gap.
                    let Some(rows) = unpack(&page) else {
                        return Err(malformed(db, "a page of events does not add up".into()));
                    };
                    for (seq, leaf, bytes) in rows {
                        if let Err(p) = walk.event(seq, leaf, bytes) {
                            problem = Some(p);
                            break 'pages;
                        }
                    }
                }
                for handle in in_flight {
                    handle.abort();
                }
            }
            Pool::Postgres(pool) => {
                let mut rows = sqlx::query_as::<_, (i64, Vec<u8>, Vec<u8>)>(
                    "SELECT seq, leaf, event FROM ledger_events ORDER BY seq",
                )
                .fetch(pool);
                while let Some((seq, leaf, bytes)) =
                    rows.try_next().await.map_err(|e| db.classify(e, "reading the events"))?
                {
                    if let Err(p) = walk.event(seq as u64, &leaf, &bytes) {
                        problem = Some(p);
                        break;
                    }
                }
            }
        }
        let events = walk.frontier.size();
        if problem.is_none() {
            if let Some((size, time, external)) = last_head.filter(|&(size, ..)| size > events) {
                let what = if external {
                    format!("the head you hold (signed at {time})")
                } else {
                    format!("the head signed at {time}")
                };
                problem = Some(Problem::Cut { seq: events, size, what });
            } else if state_size as u64 != events {
                problem = Some(Problem::Cut {
                    seq: events,
                    size: state_size as u64,
                    what: "the ledger's current head".into(),
                });
            } else if events > 0 && state_root[..] != walk.frontier.root()[..] {
                problem =
                    Some(Problem::HeadMismatch { size: events, time: 0, from: walk.last_good });
            }
        }
        let verification = Verification {
            events,
            bytes: walk.bytes,
            heads: walk.checked_heads,
            keys: walk.keys,
            root: walk.frontier.root(),
            problem,
        };
        Ok((verification, state_size as u64))
    }
}

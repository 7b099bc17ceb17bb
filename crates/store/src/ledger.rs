//! The ledger in the database: appending events together with their state changes in one
//! transaction, signing a tree head for every commit, key rotation, proofs and export.
//!
//! Appends are serialized across processes by the database itself: SQLite's single
//! writer (`BEGIN IMMEDIATE`), PostgreSQL's row lock on `ledger_state`. Each process keeps
//! the Merkle tree in memory and first catches up with whatever others appended.

use std::collections::HashSet;

use bantay_ledger::{
    canonical_event, leaf_hash, Hash, InclusionBundle, MerkleTree, SignedTreeHead,
};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use futures_util::TryStreamExt;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::database::{dispatch_pool, dispatch_tx, Database, DatabaseUrl, OpenMode, Tx};
use crate::error::{Doing, Result, StoreError};
use crate::keys::public_key_hex;
use crate::queries::CredentialRow;
use crate::state::{apply, apply_all, Change, STATE_TABLES};

/// An event to append; the ledger gives it its sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: String,
    /// A person's id, or `system:…` for Bantay itself.
    pub actor: String,
    /// Unix seconds at which it happened.
    pub time: i64,
    pub body: Value,
}

impl NewEvent {
    pub fn new(kind: &str, actor: &str, time: i64, body: Value) -> Self {
        Self { kind: kind.to_owned(), actor: actor.to_owned(), time, body }
    }
}

/// What a committed append produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Sequence number of the first event appended.
    pub first: u64,
    pub count: u64,
    /// The head signed at the commit, covering these events.
    pub head: SignedTreeHead,
}

/// A stored head with the key that signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHead {
    pub head: SignedTreeHead,
    /// The event that introduced the signing key.
    pub key_seq: u64,
    pub public_key: VerifyingKey,
}

/// The signing key in force and the event that introduced it.
#[derive(Debug)]
struct Signer {
    key: SigningKey,
    since: u64,
}

#[derive(Debug, Default)]
struct Writer {
    tree: MerkleTree,
    signer: Option<Signer>,
}

/// The bytes a key rotation's endorsement signs: the new public key under a domain tag.
pub fn endorsement_bytes(new_key: &VerifyingKey) -> Vec<u8> {
    let mut out = b"bantay-key-rotation\x00\x01".to_vec();
    out.extend_from_slice(new_key.as_bytes());
    out
}

/// A Bantay database with its ledger.
#[derive(Debug)]
pub struct Store {
    db: Database,
    writer: Mutex<Writer>,
}

impl Store {
    pub async fn open(url: &DatabaseUrl, mode: OpenMode) -> Result<Self> {
        let db = Database::open(url, mode).await?;
        Ok(Self { db, writer: Mutex::new(Writer::default()) })
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Number of events in the ledger.
    pub async fn size(&self) -> Result<u64> {
        let size: i64 = dispatch_pool!(&self.db.pool, pool => {
            sqlx::query_scalar("SELECT size FROM ledger_state WHERE id = 1").fetch_one(pool).await
        })
        .map_err(|e| self.db.classify(e, "reading the ledger's size"))?;
        Ok(size as u64)
    }

    /// The signing key in force: the event that introduced it and the key.
    pub async fn current_key(&self) -> Result<Option<(u64, VerifyingKey)>> {
        let row: Option<(i64, Vec<u8>)> = dispatch_pool!(&self.db.pool, pool => {
            sqlx::query_as("SELECT seq, public_key FROM ledger_keys ORDER BY seq DESC LIMIT 1")
                .fetch_optional(pool)
                .await
        })
        .doing("reading the signing key")?;
        row.map(|(seq, bytes)| Ok((seq as u64, verifying_key(&bytes, &self.db)?))).transpose()
    }

    /// The newest `limit` events, newest first, as stored (canonical JSON).
    pub async fn recent_events(&self, limit: u32) -> Result<Vec<Vec<u8>>> {
        dispatch_pool!(&self.db.pool, pool => {
            sqlx::query_scalar("SELECT event FROM ledger_events ORDER BY seq DESC LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })
        .doing("reading the newest events")
    }

    /// Every key the ledger has signed with, oldest first (documents signed before a
    /// rotation still check).
    pub async fn signing_keys(&self) -> Result<Vec<VerifyingKey>> {
        let rows: Vec<Vec<u8>> = dispatch_pool!(&self.db.pool, pool => {
            sqlx::query_scalar("SELECT public_key FROM ledger_keys ORDER BY seq").fetch_all(pool).await
        })
        .doing("reading the signing keys")?;
        rows.iter().map(|bytes| verifying_key(bytes, &self.db)).collect()
    }

    /// Starts a new ledger signed by `key`: the first event records its public key; then
    /// `events` (the organisation's units, say) in the same transaction.
    pub async fn init(
        &self,
        key: SigningKey,
        actor: &str,
        now: i64,
        events: Vec<NewEvent>,
    ) -> Result<Appended> {
        let body = serde_json::json!({ "public_key": public_key_hex(&key.verifying_key()) });
        let mut all = vec![NewEvent::new("ledger.initialised", actor, now, body)];
        all.extend(events);
        let all: Vec<&NewEvent> = all.iter().collect();
        let changes = parse_all(&all, true)?;
        let mut writer = self.writer.lock().await;
        writer.signer = Some(Signer { key, since: 0 });
        let appended = self.commit(&mut writer, &all, changes, now, Terms::default()).await;
        if appended.is_err() {
            writer.signer = None;
        }
        appended
    }

    /// Accepts `key` for signing if it is the ledger's current key.
    pub async fn unlock(&self, key: SigningKey) -> Result<()> {
        let Some((since, current)) = self.current_key().await? else {
            return Err(StoreError::NotInitialised { location: self.db.location().to_owned() });
        };
        if key.verifying_key() != current {
            return Err(StoreError::WrongKey {
                offered: public_key_hex(&key.verifying_key()),
                current: public_key_hex(&current),
                since,
            });
        }
        self.writer.lock().await.signer = Some(Signer { key, since });
        Ok(())
    }

    /// Appends `events` and their state changes in one transaction and signs the new
    /// head. Either all of them are in the ledger and the state, or none.
    pub async fn append(&self, events: Vec<NewEvent>, now: i64) -> Result<Appended> {
        let events: Vec<&NewEvent> = events.iter().collect();
        self.append_refs(&events, now).await
    }

    /// [`Store::append`] for events owned elsewhere (group commit keeps them, to retry
    /// one by one if the group fails).
    pub(crate) async fn append_refs(&self, events: &[&NewEvent], now: i64) -> Result<Appended> {
        let changes = parse_all(events, false)?;
        let mut writer = self.writer.lock().await;
        self.commit(&mut writer, events, changes, now, Terms::default()).await
    }

    /// Appends `events` only if the ledger still holds `expected` events: a decision
    /// made on the state as of `expected` is written only if nothing changed since
    /// ([`StoreError::LedgerMoved`] otherwise; decide again and retry). Read the size
    /// *before* the state the decision rests on, so the state is never older than it.
    pub async fn append_at(
        &self,
        expected: u64,
        events: Vec<NewEvent>,
        now: i64,
    ) -> Result<Appended> {
        let events: Vec<&NewEvent> = events.iter().collect();
        let changes = parse_all(&events, false)?;
        let mut writer = self.writer.lock().await;
        let terms = Terms { expected: Some(expected), ..Terms::default() };
        self.commit(&mut writer, &events, changes, now, terms).await
    }

    /// Signs `message` with the ledger's signing key, for documents Bantay issues on the
    /// ledger's authority (a datacenter pass). Returns the signature and the public key
    /// that checks it. Callers put a domain tag of their own at the start of `message`.
    pub async fn sign(&self, message: &[u8]) -> Result<([u8; 64], VerifyingKey)> {
        let writer = self.writer.lock().await;
        let signer = writer.signer.as_ref().ok_or(StoreError::NoSigningKey)?;
        Ok((signer.key.sign(message).to_bytes(), signer.key.verifying_key()))
    }

    /// The stored leaf hash of event `seq`.
    pub async fn leaf(&self, seq: u64) -> Result<Option<Hash>> {
        let leaf: Option<Vec<u8>> = dispatch_pool!(&self.db.pool, pool => {
            sqlx::query_scalar("SELECT leaf FROM ledger_events WHERE seq = $1")
                .bind(seq as i64)
                .fetch_optional(pool)
                .await
        })
        .doing("reading a leaf")?;
        leaf.map(|l| {
            Hash::try_from(l.as_slice())
                .map_err(|_| self.inconsistent(format!("event {seq} has a malformed leaf hash")))
        })
        .transpose()
    }

    /// Hands signing over to `new`. The rotation event carries the new public key and the
    /// current key's signature over it, so that the chain of keys is itself evidence;
    /// heads signed before it still verify with the key of their time.
    pub async fn rotate_key(&self, new: SigningKey, actor: &str, now: i64) -> Result<Appended> {
        let mut writer = self.writer.lock().await;
        let Some(signer) = &writer.signer else {
            return Err(StoreError::NotInitialised { location: self.db.location().to_owned() });
        };
        let endorsement = signer.key.sign(&endorsement_bytes(&new.verifying_key()));
        let body = serde_json::json!({
            "public_key": public_key_hex(&new.verifying_key()),
            "endorsement": hex::encode(endorsement.to_bytes()),
        });
        let events = [NewEvent::new("ledger.key_rotated", actor, now, body)];
        let events: Vec<&NewEvent> = events.iter().collect();
        let changes = parse_all(&events, true)?;
        self.commit(
            &mut writer,
            &events,
            changes,
            now,
            Terms { rotate_to: Some(new), ..Terms::default() },
        )
        .await
    }

    /// Appends `events` and, in the same transaction, keeps a person's secrets (replacing
    /// what was kept). Secrets stay outside the ledger, but are never kept without the
    /// event that records them set (`credential.set`), nor that event without them.
    pub async fn append_with_credential(
        &self,
        events: Vec<NewEvent>,
        now: i64,
        credential: &CredentialRow,
    ) -> Result<Appended> {
        let events: Vec<&NewEvent> = events.iter().collect();
        let changes = parse_all(&events, false)?;
        let mut writer = self.writer.lock().await;
        let terms = Terms { credential: Some(credential), ..Terms::default() };
        self.commit(&mut writer, &events, changes, now, terms).await
    }

    /// The one transaction of an append, on `terms`.
    async fn commit(
        &self,
        writer: &mut Writer,
        events: &[&NewEvent],
        changes: Vec<Change>,
        now: i64,
        terms: Terms<'_>,
    ) -> Result<Appended> {
        let Terms { rotate_to, expected, credential } = terms;
        if writer.signer.is_none() && rotate_to.is_none() {
            return Err(StoreError::NoSigningKey);
        }
        let mut tx = self.db.begin().await?;
        let base = self.catch_up(&mut tx, &mut writer.tree).await?;
        if let Some(expected) = expected.filter(|&e| e != base) {
            return Err(StoreError::LedgerMoved { expected, found: base });
        }
        // Checked under the head's lock: two `init`s racing on one empty database cannot
        // both start a ledger.
        if base > 0 && matches!(changes.first(), Some(Change::LedgerInitialised { .. })) {
            return Err(StoreError::AlreadyInitialised {
                location: self.db.location().to_owned(),
                events: base,
            });
        }
        let mut result =
            self.write(&mut tx, writer, base, events, &changes, now, rotate_to.as_ref()).await;
        if let (Ok(_), Some(row)) = (&result, credential) {
            if let Err(e) = keep_credential(&mut tx, row).await {
                result = Err(e);
            }
        }
        let result = match result {
            Ok(head) => tx.commit().await.map(|()| head),
            Err(e) => Err(e),
        };
        match result {
            Ok(head) => {
                if let Some(key) = rotate_to {
                    writer.signer = Some(Signer { key, since: base });
                }
                Ok(Appended { first: base, count: head.size - base, head })
            }
            Err(e) => {
                // Nothing was committed: forget the leaves this attempt added.
                writer.tree.truncate(base);
                Err(e)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn write(
        &self,
        tx: &mut Tx,
        writer: &mut Writer,
        base: u64,
        events: &[&NewEvent],
        changes: &[Change],
        now: i64,
        rotate_to: Option<&SigningKey>,
    ) -> Result<SignedTreeHead> {
        let mut seqs = Vec::with_capacity(events.len());
        let mut leaves = Vec::with_capacity(events.len());
        let mut bytes = Vec::with_capacity(events.len());
        let times: Vec<i64> = events.iter().map(|e| e.time).collect();
        for (i, e) in events.iter().enumerate() {
            let seq = base + i as u64;
            let canonical = canonical_event(seq, e.time, &e.kind, &e.actor, &e.body)?;
            let leaf = leaf_hash(&canonical);
            writer.tree.push(leaf);
            seqs.push(seq as i64);
            leaves.push(leaf.to_vec());
            bytes.push(canonical);
        }
        insert_events(tx, &seqs, leaves, bytes).await?;
        apply_all(tx, base, &times, changes).await?;
        let size = writer.tree.size();
        let root = writer.tree.root();
        let (key, since) = match (rotate_to, &writer.signer) {
            (Some(key), _) => (key, base),
            (None, Some(signer)) => (&signer.key, signer.since),
            (None, None) => return Err(StoreError::NoSigningKey),
        };
        let head = SignedTreeHead::sign(key, size, root, now);
        dispatch_tx!(tx, c => sqlx::query(
            "INSERT INTO ledger_heads (size, root, time, key_seq, signature) VALUES ($1, $2, $3, $4, $5)")
            .bind(size as i64).bind(&root[..]).bind(now).bind(since as i64).bind(&head.signature[..])
            .execute(c).await.map(|r| r.rows_affected()))
        .doing("storing the signed head")?;
        dispatch_tx!(tx, c => sqlx::query("UPDATE ledger_state SET size = $1, root = $2 WHERE id = 1")
            .bind(size as i64).bind(&root[..]).execute(c).await.map(|r| r.rows_affected()))
        .doing("moving the ledger's head")?;
        Ok(head)
    }

    /// Locks the ledger's head for this transaction and brings the in-memory tree up to
    /// it (loading what other processes appended). Returns the ledger's size.
    async fn catch_up(&self, tx: &mut Tx, tree: &mut MerkleTree) -> Result<u64> {
        let (size, root): (i64, Vec<u8>) = match tx {
            Tx::Sqlite(c) => {
                sqlx::query_as("SELECT size, root FROM ledger_state WHERE id = 1")
                    .fetch_one(&mut **c)
                    .await
            }
            Tx::Postgres(c) => {
                sqlx::query_as("SELECT size, root FROM ledger_state WHERE id = 1 FOR UPDATE")
                    .fetch_one(&mut **c)
                    .await
            }
        }
        .map_err(|e| self.db.classify(e, "locking the ledger's head"))?;
        let size = size as u64;
        if tree.size() > size {
            tree.truncate(size);
        }
        if tree.size() < size {
            let loaded = match tx {
                Tx::Sqlite(c) => self.load_leaves_paged(c, tree, size).await,
                Tx::Postgres(c) => sqlx::query_as::<_, (i64, Vec<u8>)>(
                    "SELECT seq, leaf FROM ledger_events WHERE seq >= $1 ORDER BY seq",
                )
                .bind(tree.size() as i64)
                .fetch(&mut **c)
                .map_err(|e| StoreError::Sql { doing: "loading the ledger", source: e })
                .try_fold(&mut *tree, |tree, (seq, leaf)| async move {
                    let leaf: Hash = leaf.try_into().map_err(|_| {
                        self.inconsistent(format!(
                            "event {seq} has a leaf hash of the wrong length"
                        ))
                    })?;
                    if seq as u64 != tree.size() {
                        return Err(self.inconsistent(format!("event {} is missing", tree.size())));
                    }
                    tree.push(leaf);
                    Ok(tree)
                })
                .await
                .map(|_| ()),
            };
            if let Err(e) = loaded {
                tree.truncate(0);
                return Err(e);
            }
            if tree.size() != size {
                let have = tree.size();
                tree.truncate(0);
                return Err(self
                    .inconsistent(format!("the head says {size} events, the table holds {have}")));
            }
        }
        let stored = if size == 0 { Vec::new() } else { root };
        if size > 0 && tree.root()[..] != stored[..] {
            tree.truncate(0);
            return Err(self.inconsistent("the stored root does not match the events".into()));
        }
        Ok(size)
    }

    /// Loads the stored leaves from the tree's size up to `size`, in pages of 65,536 run
    /// together into one value each (SQLite hands rows over one at a time, slowly).
    async fn load_leaves_paged(
        &self,
        c: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        tree: &mut MerkleTree,
        size: u64,
    ) -> Result<()> {
        const PAGE: u64 = 65_536;
        while tree.size() < size {
            let from = tree.size();
            let to = (from + PAGE).min(size);
            let (count, first, leaves): (i64, Option<i64>, Option<Vec<u8>>) = sqlx::query_as(
                "SELECT COUNT(*), MIN(seq), CAST(group_concat(leaf, '') AS BLOB) \
                 FROM ledger_events WHERE seq >= $1 AND seq < $2",
            )
            .bind(from as i64)
            .bind(to as i64)
            .fetch_one(&mut **c)
            .await
            .map_err(|e| self.db.classify(e, "loading the ledger"))?;
            let leaves = leaves.unwrap_or_default();
            if count as u64 != to - from || first != Some(from as i64) {
                return Err(
                    self.inconsistent(format!("events are missing between {from} and {to}"))
                );
            }
            if leaves.len() as u64 != 32 * (to - from) {
                return Err(self.inconsistent(format!(
                    "a leaf hash between events {from} and {to} has the wrong length"
                )));
            }
            for leaf in leaves.chunks_exact(32) {
                let mut hash = [0u8; 32];
                hash.copy_from_slice(leaf);
                tree.push(hash);
            }
        }
        Ok(())
    }

    fn inconsistent(&self, message: String) -> StoreError {
        StoreError::Inconsistent { location: self.db.location().to_owned(), message }
    }

    /// The newest signed head, or the one of exactly `size` events.
    pub async fn head(&self, size: Option<u64>) -> Result<Option<StoredHead>> {
        Ok(self.head_with_event(size, None).await?.map(|(head, _)| head))
    }

    /// The head (newest, or of `size` events) and, in the same round trip, the bytes of
    /// event `seq` if it is stored.
    async fn head_with_event(
        &self,
        size: Option<u64>,
        seq: Option<u64>,
    ) -> Result<Option<(StoredHead, Option<Vec<u8>>)>> {
        type Row = (i64, Vec<u8>, i64, i64, Vec<u8>, Vec<u8>, Option<Vec<u8>>);
        const SELECT: &str =
            "SELECT h.size, h.root, h.time, h.key_seq, h.signature, k.public_key, \
             (SELECT event FROM ledger_events WHERE seq = $1) \
             FROM ledger_heads h JOIN ledger_keys k ON k.seq = h.key_seq";
        let seq = seq.map_or(-1, |s| s as i64);
        let row: Option<Row> = match size {
            None => dispatch_pool!(&self.db.pool, pool => sqlx::query_as(&format!("{SELECT} ORDER BY h.size DESC LIMIT 1")).bind(seq).fetch_optional(pool).await),
            Some(n) => dispatch_pool!(&self.db.pool, pool => sqlx::query_as(&format!("{SELECT} WHERE h.size = $2")).bind(seq).bind(n as i64).fetch_optional(pool).await),
        }
        .map_err(|e| self.db.classify(e, "reading the signed head"))?;
        let Some((size, root, time, key_seq, signature, public_key, event)) = row else {
            return Ok(None);
        };
        let head = SignedTreeHead {
            size: size as u64,
            root: root.try_into().map_err(|_| {
                self.inconsistent(format!("the head of size {size} has a malformed root"))
            })?,
            time,
            signature: signature.try_into().map_err(|_| {
                self.inconsistent(format!("the head of size {size} has a malformed signature"))
            })?,
        };
        let public_key = verifying_key(&public_key, &self.db)?;
        Ok(Some((StoredHead { head, key_seq: key_seq as u64, public_key }, event)))
    }

    /// An inclusion proof of event `seq` under the newest head (or the head of `size`).
    pub async fn prove(&self, seq: u64, size: Option<u64>) -> Result<InclusionBundle> {
        let Some((stored, event)) = self.head_with_event(size, Some(seq)).await? else {
            return Err(match size {
                Some(n) => self.inconsistent(format!(
                    "there is no signed head of size {n}; `bantay ledger head --output json` shows the newest"
                )),
                None => StoreError::NotInitialised { location: self.db.location().to_owned() },
            });
        };
        let (Some(event), true) = (event, seq < stored.head.size) else {
            return Err(StoreError::Proof(bantay_ledger::ProofError::NoSuchLeaf {
                index: seq,
                size: stored.head.size,
            }));
        };
        let mut writer = self.writer.lock().await;
        // A tree's prefix never changes: only a tree shorter than the head needs loading.
        if writer.tree.size() < stored.head.size {
            let mut tx = self.db.begin().await?;
            self.catch_up(&mut tx, &mut writer.tree).await?;
        }
        let proof = writer.tree.inclusion_proof(seq, stored.head.size)?;
        Ok(InclusionBundle::new(&event, seq, &stored.head, &stored.public_key, &proof))
    }

    /// Writes every event's canonical bytes, one per line, in order.
    pub async fn export(&self, out: &mut dyn std::io::Write) -> Result<u64> {
        let mut count = 0u64;
        let mut io_error = None;
        dispatch_pool!(&self.db.pool, pool => {
            let mut rows = sqlx::query_scalar::<_, Vec<u8>>("SELECT event FROM ledger_events ORDER BY seq").fetch(pool);
            while let Some(event) = rows.try_next().await.doing("exporting the ledger")? {
                if let Err(e) = out.write_all(&event).and_then(|()| out.write_all(b"\n")) {
                    io_error = Some(e);
                    break;
                }
                count += 1;
            }
        });
        match io_error {
            Some(source) => Err(StoreError::Io { what: "the export", source }),
            None => Ok(count),
        }
    }

    /// Rebuilds the state tables by replaying the ledger, compares them with the live
    /// tables and rolls back: the live state is untouched. Returns the rows that differ
    /// (`-` live only, `+` replay only); empty when replay gives exactly the live state.
    pub async fn replay_differences(&self) -> Result<Vec<String>> {
        let _writer = self.writer.lock().await;
        let mut tx = self.db.begin().await?;
        let live = crate::state::state_rows_in(&mut tx).await?;
        for table in STATE_TABLES {
            dispatch_tx!(&mut tx, c => sqlx::query(&format!("DELETE FROM {table}")).execute(c).await.map(|r| r.rows_affected()))
                .doing("emptying a state table for replay")?;
        }
        let mut next: i64 = 0;
        loop {
            let page: Vec<(i64, Vec<u8>)> = dispatch_tx!(&mut tx, c => {
                sqlx::query_as("SELECT seq, event FROM ledger_events WHERE seq >= $1 ORDER BY seq LIMIT 10000")
                    .bind(next)
                    .fetch_all(c)
                    .await
            })
            .doing("reading events to replay")?;
            let Some(&(last, _)) = page.last() else { break };
            for (seq, bytes) in page {
                let event: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| self.inconsistent(format!("event {seq} is not JSON: {e}")))?;
                let kind = event["kind"].as_str().unwrap_or_default();
                let time = event["time"].as_i64().unwrap_or_default();
                let change = Change::parse(kind, &event["body"])?;
                apply(&mut tx, seq as u64, time, &change).await?;
            }
            next = last + 1;
        }
        let replayed = crate::state::state_rows_in(&mut tx).await?;
        drop(tx); // roll back: the live state stays as it was
        let (live_set, replayed_set): (HashSet<&String>, HashSet<&String>) =
            (live.iter().collect(), replayed.iter().collect());
        let mut differences: Vec<String> = live
            .iter()
            .filter(|row| !replayed_set.contains(row))
            .map(|row| format!("- {row}"))
            .collect();
        differences.extend(
            replayed.iter().filter(|row| !live_set.contains(row)).map(|row| format!("+ {row}")),
        );
        Ok(differences)
    }
}

fn verifying_key(bytes: &[u8], db: &Database) -> Result<VerifyingKey> {
    <[u8; 32]>::try_from(bytes).ok().and_then(|b| VerifyingKey::from_bytes(&b).ok()).ok_or_else(
        || StoreError::Inconsistent {
            location: db.location().to_owned(),
            message: "a stored public key is malformed".into(),
        },
    )
}

/// Checks every event's kind and body before anything is written. `ledger.*` key events
/// come only from `init` and `rotate_key` (`internal`).
fn parse_all(events: &[&NewEvent], internal: bool) -> Result<Vec<Change>> {
    events
        .iter()
        .map(|e| {
            if !internal && matches!(e.kind.as_str(), "ledger.initialised" | "ledger.key_rotated") {
                return Err(StoreError::Event {
                    kind: e.kind.clone(),
                    message: "key events are written by `bantay init` and `bantay ledger rotate-key` only".into(),
                });
            }
            Change::parse(&e.kind, &e.body)
        })
        .collect()
}

/// What an append does beside writing its events.
#[derive(Default)]
struct Terms<'a> {
    /// A key that signs from the first event of this batch on (only for a rotation).
    rotate_to: Option<SigningKey>,
    /// The ledger's size the caller's decision rests on.
    expected: Option<u64>,
    /// A person's secrets to keep with the events.
    credential: Option<&'a CredentialRow>,
}

/// Keeps a person's secrets, replacing what was kept.
async fn keep_credential(tx: &mut Tx, row: &CredentialRow) -> Result<()> {
    dispatch_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO credentials (person, password, totp, changed) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (person) DO UPDATE SET password = excluded.password, \
             totp = excluded.totp, changed = excluded.changed",
        )
        .bind(&row.person)
        .bind(&row.password)
        .bind(&row.totp)
        .bind(row.changed)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })
    .doing("keeping a credential")?;
    Ok(())
}

/// Inserts the events' rows: on PostgreSQL as arrays in one statement, on SQLite as
/// multi-row VALUES in chunks.
async fn insert_events(
    tx: &mut Tx,
    seqs: &[i64],
    leaves: Vec<Vec<u8>>,
    bytes: Vec<Vec<u8>>,
) -> Result<()> {
    match tx {
        Tx::Postgres(c) => {
            sqlx::query(
                "INSERT INTO ledger_events (seq, leaf, event) \
                 SELECT * FROM UNNEST($1::bigint[], $2::bytea[], $3::bytea[])",
            )
            .bind(seqs)
            .bind(leaves)
            .bind(bytes)
            .execute(&mut **c)
            .await
            .doing("appending events")?;
        }
        Tx::Sqlite(c) => {
            const CHUNK: usize = 100;
            let mut rows = seqs.iter().zip(leaves).zip(bytes).peekable();
            while rows.peek().is_some() {
                let chunk: Vec<_> = rows.by_ref().take(CHUNK).collect();
                let mut sql = String::from("INSERT INTO ledger_events (seq, leaf, event) VALUES ");
                // Anonymous `?`: SQLite looks named parameters up by a linear scan, which
                // made binding a 300-parameter statement quadratic.
                for i in 0..chunk.len() {
                    sql.push_str(if i > 0 { ",(?,?,?)" } else { "(?,?,?)" });
                }
                let mut query = sqlx::query(&sql);
                for ((seq, leaf), event) in chunk {
                    query = query.bind(*seq).bind(leaf).bind(event);
                }
                query.execute(&mut **c).await.doing("appending events")?;
            }
        }
    }
    Ok(())
}

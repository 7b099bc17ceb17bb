//! `bantay ledger …`: verify the ledger, show its signed head, prove that an event is in
//! it, check such a proof offline, export it, rotate the signing key, record a note.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bantay_ledger::{InclusionBundle, SignedTreeHead};
use bantay_store::{
    create_key_file, parse_public_key, public_key_hex, read_key_file, NewEvent, OpenMode, Store,
    StoredHead, Trust,
};
use serde::{Deserialize, Serialize};

use crate::output::Output;
use crate::place::{runtime, Place};

#[derive(Debug, clap::Subcommand)]
pub enum LedgerCommand {
    /// Recompute every event's leaf, the tree at every signed head and every head's
    /// signature; name the first event that is missing, moved or changed. Exit 1 if any.
    Verify {
        /// The ledger's first public key, as `bantay init` printed it: the ledger must
        /// start with it.
        #[arg(long)]
        public_key: Option<String>,
        /// A head kept outside the database (`bantay ledger head --output json`): the
        /// ledger must still contain it.
        #[arg(long)]
        head: Option<PathBuf>,
        /// Also rebuild the state tables by replaying the ledger and compare them with
        /// the live ones (rolled back afterwards).
        #[arg(long)]
        state: bool,
    },
    /// Print the newest signed tree head (`--output json` gives a file `verify --head`
    /// and `verify-proof` read).
    Head,
    /// Print a proof (JSON) that event SEQ is in the ledger, against the newest head or
    /// the head of `--size` events.
    Prove {
        seq: u64,
        #[arg(long)]
        size: Option<u64>,
    },
    /// Check a proof written by `prove`, offline: only the proof file and the public key
    /// you trust are read. Exit 1 if it does not hold.
    VerifyProof {
        /// The public key you trust (64 hex digits) or a file holding it.
        #[arg(long)]
        public_key: String,
        proof: PathBuf,
    },
    /// Write every event as one canonical JSON line, in order.
    Export,
    /// Make a new signing key (written to NEW_KEY), endorse it with the current key and
    /// record the rotation; heads signed before it still verify.
    RotateKey {
        /// Where to write the new key file.
        new_key: PathBuf,
    },
    /// Record a remark in the ledger.
    Note {
        text: String,
        /// Who records it.
        #[arg(long, default_value = "system:cli")]
        actor: String,
    },
    /// Testing aid: append COUNT notes in batches of BATCH, printing each acknowledged
    /// sequence number as soon as its commit returns.
    #[command(hide = true)]
    AppendLoop {
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 1)]
        batch: u64,
        #[arg(long, default_value = "system:test")]
        actor: String,
    },
}

/// A signed head as a file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadFile {
    size: u64,
    root: String,
    time: i64,
    signature: String,
    public_key: String,
    key_seq: u64,
}

impl HeadFile {
    fn new(stored: &StoredHead) -> Self {
        Self {
            size: stored.head.size,
            root: hex::encode(stored.head.root),
            time: stored.head.time,
            signature: hex::encode(stored.head.signature),
            public_key: public_key_hex(&stored.public_key),
            key_seq: stored.key_seq,
        }
    }

    /// Reads a head file and checks its own signature.
    fn read(path: &std::path::Path) -> anyhow::Result<SignedTreeHead> {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        let file: HeadFile = serde_json::from_str(&text).with_context(|| {
            format!("{}: not a head file from `bantay ledger head --output json`", path.display())
        })?;
        let hex32 = |field: &str, text: &str| -> anyhow::Result<[u8; 32]> {
            hex::decode(text)
                .ok()
                .and_then(|b| b.try_into().ok())
                .with_context(|| format!("{}: {field}: expected 64 hex digits", path.display()))
        };
        let signature: [u8; 64] = hex::decode(&file.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .with_context(|| format!("{}: signature: expected 128 hex digits", path.display()))?;
        let head = SignedTreeHead {
            size: file.size,
            root: hex32("root", &file.root)?,
            time: file.time,
            signature,
        };
        let key = parse_public_key(&file.public_key)
            .map_err(|e| anyhow::anyhow!("{}: public_key: {e}", path.display()))?;
        anyhow::ensure!(
            head.verify(&key),
            "{}: the head's signature does not verify; the file was changed",
            path.display()
        );
        Ok(head)
    }
}

fn public_key_argument(text: &str) -> anyhow::Result<ed25519_dalek::VerifyingKey> {
    let path = std::path::Path::new(text);
    let text = if path.is_file() { std::fs::read_to_string(path)? } else { text.to_owned() };
    parse_public_key(&text).map_err(|e| anyhow::anyhow!("--public-key: {e}"))
}

pub fn run(command: &LedgerCommand, place: &Place, output: Output) -> anyhow::Result<ExitCode> {
    if let LedgerCommand::VerifyProof { public_key, proof } = command {
        return verify_proof(public_key, proof, output);
    }
    let now = crate::clock::now().unix_seconds();
    let runtime = runtime()?;
    let result = runtime.block_on(async {
        let store = Store::open(&place.database(), OpenMode::Existing).await?;
        let code = match command {
            LedgerCommand::Verify { public_key, head, state } => {
                let trust = Trust {
                    first_key: public_key.as_deref().map(public_key_argument).transpose()?,
                    head: head.as_deref().map(HeadFile::read).transpose()?,
                };
                verify(&store, &trust, *state, output).await?
            }
            LedgerCommand::Head => {
                let head = store.head(None).await?.context("the ledger has no signed head yet: run `bantay init`")?;
                match output {
                    Output::Json => println!("{}", serde_json::to_string_pretty(&HeadFile::new(&head))?),
                    Output::Text => println!(
                        "{} events\n  root:       {}\n  signed at:  {}\n  public key: {} (in force since event {})\n  signature:  {}",
                        head.head.size,
                        hex::encode(head.head.root),
                        bantay_core::Timestamp::from_unix_seconds(head.head.time),
                        public_key_hex(&head.public_key),
                        head.key_seq,
                        hex::encode(head.head.signature),
                    ),
                }
                ExitCode::SUCCESS
            }
            LedgerCommand::Prove { seq, size } => {
                let bundle = store.prove(*seq, *size).await?;
                println!("{}", serde_json::to_string_pretty(&bundle)?);
                ExitCode::SUCCESS
            }
            LedgerCommand::Export => {
                let stdout = std::io::stdout();
                let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
                store.export(&mut out).await?;
                out.flush()?;
                ExitCode::SUCCESS
            }
            LedgerCommand::RotateKey { new_key } => {
                store.unlock(read_key_file(place.key())?).await?;
                let key = create_key_file(new_key)?;
                let public = key.verifying_key();
                let appended = match store.rotate_key(key, "system:cli", now).await {
                    Ok(appended) => appended,
                    Err(e) => {
                        let _ = std::fs::remove_file(new_key);
                        return Err(e.into());
                    }
                };
                println!(
                    "rotated the signing key at event {}\n  new key file: {} (use it from now on; keep the old one to read old backups)\n  new public key: {}",
                    appended.first,
                    new_key.display(),
                    public_key_hex(&public)
                );
                ExitCode::SUCCESS
            }
            LedgerCommand::Note { text, actor } => {
                store.unlock(read_key_file(place.key())?).await?;
                let event = NewEvent::new("ledger.note", actor, now, serde_json::json!({ "text": text }));
                let appended = store.append(vec![event], now).await?;
                println!("recorded as event {}", appended.first);
                ExitCode::SUCCESS
            }
            LedgerCommand::AppendLoop { count, batch, actor } => {
                store.unlock(read_key_file(place.key())?).await?;
                let stdout = std::io::stdout();
                let mut done = 0;
                while done < *count {
                    let n = (*batch).min(count - done);
                    let events = (0..n)
                        .map(|i| NewEvent::new("ledger.note", actor, now, serde_json::json!({ "text": format!("{actor} {}", done + i) })))
                        .collect();
                    let appended = store.append(events, crate::clock::now().unix_seconds()).await?;
                    let mut out = stdout.lock();
                    for seq in appended.first..appended.first + appended.count {
                        writeln!(out, "acknowledged {seq}")?;
                    }
                    out.flush()?;
                    done += n;
                }
                ExitCode::SUCCESS
            }
            // Handled above without opening the database; kept here so the match stays whole.
            LedgerCommand::VerifyProof { public_key, proof } => verify_proof(public_key, proof, output)?,
        };
        store.database().close().await;
        Ok(code)
    });
    result
}

async fn verify(
    store: &Store,
    trust: &Trust,
    state: bool,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let verification = store.verify(trust).await?;
    let differences = if state && verification.problem.is_none() {
        store.replay_differences().await?
    } else {
        Vec::new()
    };
    let ok = verification.problem.is_none() && differences.is_empty();
    match output {
        Output::Json => println!(
            "{}",
            serde_json::json!({
                "ok": ok,
                "events": verification.events,
                "bytes": verification.bytes,
                "heads": verification.heads,
                "root": hex::encode(verification.root),
                "keys": verification.keys.iter().map(|(seq, key)| serde_json::json!({"since": seq, "public_key": public_key_hex(key)})).collect::<Vec<_>>(),
                "problem": verification.problem.as_ref().map(|p| serde_json::json!({"seq": p.seq(), "message": p.to_string()})),
                "state_differences": differences,
            })
        ),
        Output::Text => {
            match &verification.problem {
                None => println!(
                    "ledger ok: {} events, {} signed heads, root {}",
                    verification.events,
                    verification.heads,
                    hex::encode(verification.root)
                ),
                Some(problem) => println!("ledger NOT ok at event {}: {problem}", problem.seq()),
            }
            for (seq, key) in &verification.keys {
                println!("  key since event {seq}: {}", public_key_hex(key));
            }
            if state && verification.problem.is_none() {
                if differences.is_empty() {
                    println!("state ok: replaying the ledger gives exactly the live state");
                } else {
                    println!("state NOT ok: replaying the ledger differs from the live state in {} rows:", differences.len());
                    for d in differences.iter().take(20) {
                        println!("  {d}");
                    }
                }
            }
        }
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn verify_proof(
    public_key: &str,
    path: &std::path::Path,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let key = public_key_argument(public_key)?;
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let bundle: InclusionBundle = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a proof from `bantay ledger prove`", path.display()))?;
    let result = bundle.check(&key);
    match output {
        Output::Json => println!(
            "{}",
            serde_json::json!({ "ok": result.is_ok(), "seq": bundle.seq, "tree_size": bundle.tree_size, "problem": result.as_ref().err().map(ToString::to_string) })
        ),
        Output::Text => match &result {
            Ok(()) => println!(
                "proof ok: event {} is in the ledger of {} events signed at {}",
                bundle.seq,
                bundle.tree_size,
                bantay_core::Timestamp::from_unix_seconds(bundle.head_time)
            ),
            Err(e) => println!("proof NOT ok: {e}"),
        },
    }
    Ok(if result.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

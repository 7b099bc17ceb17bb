//! `bantay init`: a new database, a new signing key and the ledger's first events (the
//! key, then the organisation's units from the policy pack).

use std::path::PathBuf;
use std::process::ExitCode;

use bantay_store::{create_key_file, public_key_hex, OpenMode, Store};

use crate::output::Output;
use crate::place::{runtime, Place};

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// A policy pack directory whose units to record; the shipped CMO 04-2019 pack when
    /// omitted.
    #[arg(long)]
    pack: Option<PathBuf>,
}

pub fn run(args: &Args, place: &Place, output: Output) -> anyhow::Result<ExitCode> {
    let pack = crate::embedded::load(args.pack.as_deref())?;
    let now = crate::clock::now().unix_seconds();
    let url = place.database();
    let runtime = runtime()?;
    let result = runtime.block_on(async {
        let store = Store::open(&url, OpenMode::Create).await?;
        let events = store.size().await?;
        if events > 0 {
            return Err(bantay_store::StoreError::AlreadyInitialised {
                location: url.location(),
                events,
            }
            .into());
        }
        let key = create_key_file(place.key())?;
        let public = key.verifying_key();
        let unit_events = bantay_server::unit_events(&pack, "system:init", now);
        let appended = match store.init(key, "system:init", now, unit_events).await {
            Ok(appended) => appended,
            Err(e) => {
                // Leave no key behind for a ledger that was not created.
                let _ = std::fs::remove_file(place.key());
                return Err(e.into());
            }
        };
        store.database().close().await;
        match output {
            Output::Text => println!(
                "initialised the ledger in {}\n  signing key: {} (readable only by you; back it up)\n  public key:  {}\n  {} events, head root {}\n\nKeep the public key somewhere else: `bantay ledger verify --public-key {}` checks the ledger against it.",
                url.location(),
                place.key().display(),
                public_key_hex(&public),
                appended.head.size,
                hex_root(&appended.head.root),
                public_key_hex(&public),
            ),
            Output::Json => println!(
                "{}",
                serde_json::json!({
                    "database": url.location(), "key_file": place.key().display().to_string(),
                    "public_key": public_key_hex(&public), "events": appended.head.size,
                    "root": hex_root(&appended.head.root),
                })
            ),
        }
        Ok(ExitCode::SUCCESS)
    });
    result
}

fn hex_root(root: &[u8]) -> String {
    hex::encode(root)
}

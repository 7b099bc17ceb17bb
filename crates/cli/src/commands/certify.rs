//! `bantay certify` and `bantay verify`: certified data extracts (1.3.7). Certifying
//! re-runs the query on the source, read-only, and compares the extract cell by cell;
//! verifying needs only the certificate, the extract file and the public key.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bantay_ledger::certificate::Certificate;

use crate::output::Output;
use crate::place::{runtime, Place};
use crate::served::{open, or_exit, print_json, ServiceOptions};

#[derive(Debug, clap::Args)]
pub struct CertifyArgs {
    /// The source database: postgres://user@host/db (read-only access suffices).
    #[arg(long, env = "BANTAY_CERTIFY_SOURCE", hide_env_values = true)]
    source: String,
    /// The query that produced the extract (give it an ORDER BY: rows are compared in order).
    #[arg(long)]
    query: String,
    /// The extract: a .csv file with a header line, or a .jsonl file.
    #[arg(long)]
    extract: PathBuf,
    /// Where to write the certificate; EXTRACT.cert.json when omitted.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The certificate written by `bantay certify`.
    certificate: PathBuf,
    /// The extract file it certifies.
    extract: PathBuf,
    /// The ledger's public key you trust (64 hex digits) or a file holding it.
    #[arg(long)]
    public_key: String,
}

pub fn certify(
    args: &CertifyArgs,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let certificate = or_exit!(
            service.certify(&options.actor(), &args.source, &args.query, &args.extract).await
        );
        let out = args.out.clone().unwrap_or_else(|| {
            let mut name = args.extract.clone().into_os_string();
            name.push(".cert.json");
            PathBuf::from(name)
        });
        std::fs::write(&out, serde_json::to_string_pretty(&certificate)?)?;
        match output {
            Output::Json => print_json(&certificate)?,
            Output::Text => println!(
                "certified {}: {} rows of {} match the source; certificate {} (ledger event {})",
                args.extract.display(),
                certificate.certified.rows,
                certificate.certified.source,
                out.display(),
                certificate.ledger_seq.map_or_else(|| "-".to_owned(), |s| s.to_string())
            ),
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn verify(args: &VerifyArgs, output: Output) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.certificate)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.certificate.display()))?;
    let certificate: Certificate = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not a certificate: {e}", args.certificate.display()))?;
    let key_text = if Path::new(&args.public_key).is_file() {
        std::fs::read_to_string(&args.public_key)?
    } else {
        args.public_key.clone()
    };
    let key = bantay_store::parse_public_key(key_text.trim()).map_err(anyhow::Error::msg)?;
    let extract = bantay_connect::read_extract(&args.extract, &certificate.certified.columns)?;
    let outcome = certificate.check(&key, &extract);
    match output {
        Output::Json => print_json(
            &serde_json::json!({ "ok": outcome.is_ok(), "problem": outcome.as_ref().err().map(ToString::to_string) }),
        )?,
        Output::Text => match &outcome {
            Ok(()) => println!(
                "ok: {} holds the {} rows {} certified on {} from {}",
                args.extract.display(),
                certificate.certified.rows,
                certificate.certified.officer,
                bantay_core::Timestamp::from_unix_seconds(certificate.certified.certified_at),
                certificate.certified.source
            ),
            Err(problem) => println!("not certified: {problem}"),
        },
    }
    Ok(if outcome.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

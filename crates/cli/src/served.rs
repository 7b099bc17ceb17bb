//! What every lifecycle command needs: the service over the database, unlocked with the
//! ledger's key; who acts (`--as`); the enforcement targets and the mail relay. Errors of
//! the service become exit codes here: 1 refused or forbidden, 2 bad input.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use bantay_server::{Actor, Mailer, MailerConfig, Service, ServiceError, Targets};
use bantay_store::{read_key_file, OpenMode, Store};

use crate::place::Place;

#[derive(Debug, Clone, clap::Args)]
pub struct ServiceOptions {
    /// Who acts: a person's id. The operator running `bantay` holds the ledger's key and
    /// answers for it; without it, Bantay's operator acts (it approves nothing).
    #[arg(long = "as", env = "BANTAY_ACTOR", global = true)]
    pub actor: Option<String>,
    /// A PostgreSQL server Bantay enforces grants on: NAME=postgres://user@host/db
    /// (repeatable; comma-separated in BANTAY_TARGETS).
    #[arg(
        long = "target",
        env = "BANTAY_TARGETS",
        value_delimiter = ',',
        global = true,
        hide_env_values = true
    )]
    pub targets: Vec<String>,
    /// The SMTP relay that mails notifications: HOST:PORT.
    #[arg(long, env = "BANTAY_SMTP_RELAY", global = true)]
    pub smtp_relay: Option<String>,
    /// The sender of notification mail.
    #[arg(
        long,
        env = "BANTAY_MAIL_FROM",
        global = true,
        default_value = "Bantay <bantay@localhost>"
    )]
    pub mail_from: String,
}

impl ServiceOptions {
    pub fn actor(&self) -> Actor {
        match &self.actor {
            Some(person) => Actor::person(person),
            None => Actor::system("operator"),
        }
    }

    /// The mailer, if a relay is configured.
    pub fn mailer(&self) -> anyhow::Result<Option<Mailer>> {
        let Some(relay) = &self.smtp_relay else { return Ok(None) };
        let (host, port) = relay
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
            .with_context(|| {
                format!("--smtp-relay `{relay}`: write HOST:PORT, e.g. mail.customs.gov.ph:25")
            })?;
        let config = MailerConfig { relay: host, port, from: self.mail_from.clone() };
        Ok(Some(Mailer::new(&config)?))
    }
}

/// Opens the database, unlocks the ledger with the key file and builds the service.
pub async fn open(place: &Place, options: &ServiceOptions) -> anyhow::Result<Arc<Service>> {
    let store = Store::open(&place.database(), OpenMode::Existing).await?;
    let key = read_key_file(place.key())?;
    store.unlock(key).await?;
    let targets = Targets::parse(&options.targets).map_err(anyhow::Error::msg)?;
    let pack = crate::embedded::load(None)?;
    let clock: bantay_store::Clock = Arc::new(|| crate::clock::now().unix_seconds());
    Ok(Arc::new(Service::new(Arc::new(store), Arc::new(pack), clock, targets)))
}

/// The value of a service call; on its error, returns from the enclosing command with the
/// exit code that error earns (see [`failed`]).
macro_rules! or_exit {
    ($call:expr) => {
        match $call {
            Ok(value) => value,
            Err(e) => return Ok($crate::served::failed(&e)),
        }
    };
}
pub(crate) use or_exit;

/// Prints a service error and gives its exit code: 1 when the order or Bantay's rules
/// refuse, 2 when the input is wrong or something is missing or broken.
pub fn failed(error: &ServiceError) -> ExitCode {
    eprintln!("error: {}", report(error));
    match error {
        ServiceError::Forbidden(_) | ServiceError::Refused(_) => ExitCode::from(1),
        _ => ExitCode::from(2),
    }
}

/// Prints `value` as JSON.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// An error and its causes, one after another.
pub fn report(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

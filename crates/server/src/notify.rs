//! Telling people: every notification is queued as a ledger event (so it is on record
//! that the approver was told) and shows in the person's inbox; the mailer then sends
//! it through the configured SMTP relay and records the delivery, or the failure, as
//! another event. A failed delivery is retried up to [`MAX_ATTEMPTS`] times.

use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport as _, Message, Tokio1Executor};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::error::{Result, ServiceError};
use crate::service::{Actor, Service};

/// How many times a notification is tried before it is left failed.
pub const MAX_ATTEMPTS: i32 = 5;

/// Where mail goes out: an SMTP relay on the Bureau's network, and the sender address.
#[derive(Debug, Clone)]
pub struct MailerConfig {
    pub relay: String,
    pub port: u16,
    pub from: String,
}

/// An SMTP client for one relay.
#[derive(Debug, Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// Plain SMTP to a relay (the relay on the internal network handles onward TLS).
    pub fn new(config: &MailerConfig) -> Result<Self> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| ServiceError::bad("mail_from", format!("`{}`: {e}", config.from)))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.relay)
            .port(config.port)
            .timeout(Some(std::time::Duration::from_secs(15)))
            .build();
        Ok(Self { transport, from })
    }
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Delivered {
    pub sent: usize,
    pub failed: Vec<String>,
}

impl Service {
    /// Sends every undelivered notification and records each outcome.
    pub async fn deliver(&self, mailer: &Mailer) -> Result<Delivered> {
        let actor = Actor::system("mailer");
        let mut delivered = Delivered::default();
        for n in self.store.undelivered(MAX_ATTEMPTS).await? {
            let outcome = match self.store.person(&n.recipient).await?.and_then(|p| p.email) {
                None => Err(format!("no mail address on record for {}", n.recipient)),
                Some(address) => send(mailer, &address, &n.subject, &n.body).await,
            };
            let body = match &outcome {
                Ok(()) => json!({ "id": n.id, "status": "sent" }),
                Err(e) => json!({ "id": n.id, "status": "failed", "error": e }),
            };
            self.record("notification.delivered", &actor, body).await?;
            match outcome {
                Ok(()) => delivered.sent += 1,
                Err(e) => delivered.failed.push(format!("{}: {e}", n.id)),
            }
        }
        Ok(delivered)
    }

    /// A person's inbox, newest first.
    pub async fn inbox(&self, person: &str) -> Result<Vec<bantay_store::NotificationRow>> {
        Ok(self.store.notifications(person).await?)
    }
}

async fn send(mailer: &Mailer, to: &str, subject: &str, body: &str) -> Result<(), String> {
    let to: Mailbox = to.parse().map_err(|e| format!("mail address `{to}`: {e}"))?;
    let message = Message::builder()
        .from(mailer.from.clone())
        .to(to)
        .subject(subject)
        .body(body.to_owned())
        .map_err(|e| e.to_string())?;
    mailer.transport.send(message).await.map(|_| ()).map_err(|e| format!("SMTP: {e}"))
}

//! Notifications by mail through a real SMTP server (Python's aiosmtpd, which
//! `scripts/test` installs), delivered into a Maildir the test reads.

use std::process::{Child, Command, Stdio};

use bantay_server::{Mailer, MailerConfig};

use crate::{on_both_backends, World};

/// An aiosmtpd server writing what it receives into a Maildir; killed on drop.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl SmtpServer {
    async fn start() -> Self {
        let maildir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            // A path that does not exist yet: Python's Maildir then creates new/, cur/, tmp/.
            .arg(maildir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("python3 is needed to run aiosmtpd: {e}"));
        let mut server = Self { child, port, maildir };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let mut err = String::new();
                std::io::Read::read_to_string(server.child.stderr.as_mut().unwrap(), &mut err).ok();
                panic!("aiosmtpd exited ({status}): {err}\nscripts/test installs it: pip install aiosmtpd");
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("aiosmtpd did not listen on port {port}");
    }

    fn mailer(&self) -> Mailer {
        Mailer::new(&MailerConfig {
            relay: "127.0.0.1".into(),
            port: self.port,
            from: "Bantay <bantay@customs.example>".into(),
        })
        .unwrap()
    }

    /// The messages received, as text.
    fn messages(&self) -> Vec<String> {
        let new = self.maildir.path().join("mail/new");
        let mut out: Vec<String> = std::fs::read_dir(&new)
            .map(|d| d.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect())
            .unwrap_or_default();
        out.sort();
        out
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

on_both_backends! {
    async fn the_approver_is_told_by_mail_and_the_delivery_is_recorded(backend) {
        let smtp = SmtpServer::start().await;
        let w = World::bureau(backend).await;
        let r = w.request("ANA", "comms-os-0", "1.2.4", "standing", "2026-12-31").await;
        let delivered = w.service.deliver(&smtp.mailer()).await.unwrap();
        assert_eq!((delivered.sent, delivered.failed.len()), (1, 0), "{delivered:?}");
        let messages = smtp.messages();
        assert_eq!(messages.len(), 1);
        let mail = &messages[0];
        assert!(mail.contains("To: chief-smd@customs.example"), "{mail}");
        assert!(mail.contains(&format!("Subject: Approve {}: os on comms-os-0 for ANA", r.id)), "{mail}");
        assert!(mail.contains("citing 1.2.4"), "{mail}");
        let inbox = w.service.inbox("CHIEF-SMD").await.unwrap();
        assert_eq!((inbox[0].status.as_str(), inbox[0].attempts), ("sent", 1));
        assert!(w.events().await.iter().any(|e| e["kind"] == "notification.delivered" && e["body"]["status"] == "sent"));
        // Nothing left to send.
        assert_eq!(w.service.deliver(&smtp.mailer()).await.unwrap().sent, 0);
    }
}

#[tokio::test]
async fn failed_deliveries_are_recorded_and_retried() {
    let w = World::bureau(crate::Backend::Sqlite).await;
    w.import(vec![
        ("person.recorded", serde_json::json!({"id": "NOMAIL", "name": "No Mail"})),
        ("person.assigned", serde_json::json!({"person": "NOMAIL", "unit": "SMD", "valid_from": crate::at("2026-01-01"), "order": "CPO-1", "head": false})),
    ])
    .await;
    w.request("ANA", "comms-os-0", "1.2.4", "standing", "2026-12-31").await;
    // A relay that is not there: the failure is recorded, and tried again next time.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = Mailer::new(&MailerConfig {
        relay: "127.0.0.1".into(),
        port,
        from: "bantay@customs.example".into(),
    })
    .unwrap();
    let first = w.service.deliver(&down).await.unwrap();
    assert_eq!(first.sent, 0);
    assert!(first.failed[0].contains("SMTP"), "{first:?}");
    let inbox = w.service.inbox("CHIEF-SMD").await.unwrap();
    assert_eq!((inbox[0].status.as_str(), inbox[0].attempts), ("failed", 1));
    assert!(inbox[0].last_error.as_deref().unwrap().contains("SMTP"));

    let smtp = SmtpServer::start().await;
    assert_eq!(w.service.deliver(&smtp.mailer()).await.unwrap().sent, 1);
    assert_eq!(w.service.inbox("CHIEF-SMD").await.unwrap()[0].attempts, 2);

    // Someone with no mail address on record: said so, in the inbox's delivery status.
    let r = w.request("NOMAIL", "comms-os-0", "1.2.4", "standing", "2026-12-31").await;
    w.approve("CHIEF-SMD", &r.id).await.unwrap();
    w.approve("DIR-TMS", &r.id).await.unwrap();
    let d = w.service.deliver(&smtp.mailer()).await.unwrap();
    assert!(d.failed.iter().any(|f| f.contains("no mail address on record for NOMAIL")), "{d:?}");
    let e =
        Mailer::new(&MailerConfig { relay: "x".into(), port: 25, from: "not an address".into() })
            .unwrap_err();
    assert!(e.to_string().starts_with("mail_from:"), "{e}");
}

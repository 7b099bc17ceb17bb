//! `bantay serve`: the JSON API (with its OpenAPI document) and `/healthz` on one port,
//! and the scheduler: every `--sweep-every` seconds it ends what ran out, enforces on the
//! targets and mails what is queued.

use std::process::ExitCode;
use std::sync::Arc;

use bantay_server::{router, Mailer, Service};

use crate::place::Place;
use crate::served::{open, report, ServiceOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to listen.
    #[arg(long, env = "BANTAY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Seconds between sweeps (expiry, reviews, enforcement, mail).
    #[arg(long, default_value_t = 60)]
    sweep_every: u64,
    /// Receive authentication logs over syslog on UDP (RFC 5426), e.g. 0.0.0.0:514.
    #[arg(long)]
    syslog_udp: Option<std::net::SocketAddr>,
    /// Receive authentication logs over syslog on TCP (RFC 6587), e.g. 0.0.0.0:601.
    #[arg(long)]
    syslog_tcp: Option<std::net::SocketAddr>,
    /// Follow an authentication log file as it grows, through rotation (repeat for
    /// several).
    #[arg(long)]
    follow: Vec<std::path::PathBuf>,
    /// Start from the shipped CMO 04-2019 pack and the demo organisation (`bantay init`
    /// and `bantay demo seed` on an empty database), give the demo people passwords and
    /// print their sign-ins.
    #[arg(long)]
    demo: bool,
}

/// The demo people's password (the demo is not for real data).
const DEMO_PASSWORD: &str = "bantay demo password";

pub fn run(args: &Args, place: &Place, options: &ServiceOptions) -> anyhow::Result<ExitCode> {
    // What the server does goes to standard error, at the level `BANTAY_LOG` names
    // (`info` unless set; `debug` adds a line per response).
    let filter = tracing_subscriber::EnvFilter::try_from_env("BANTAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    if args.demo {
        let fresh =
            crate::commands::init::run(&Default::default(), place, crate::output::Output::Text);
        match fresh {
            Ok(_) => {
                crate::commands::import::seed_demo(place, options)?;
            }
            Err(e)
                if e.downcast_ref::<bantay_store::StoreError>().is_some_and(|e| {
                    matches!(e, bantay_store::StoreError::AlreadyInitialised { .. })
                }) =>
            {
                eprintln!(
                    "--demo: {} holds a ledger already; serving it as it is",
                    place.database().location()
                );
            }
            Err(e) => return Err(e),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let service = open(place, options).await?;
        if args.demo {
            demo_signins(&service).await?;
        }
        let mailer = options.mailer()?;
        let listener = tokio::net::TcpListener::bind(&args.listen).await.map_err(|e| {
            anyhow::anyhow!("cannot listen on {}: {e}; choose another with --listen", args.listen)
        })?;
        eprintln!(
            "bantay serves {} at http://{} (the API at /api/v1, its OpenAPI at /api/v1/openapi.json); sweeping every {}s",
            place.database().location(),
            listener.local_addr()?,
            args.sweep_every
        );
        if args.syslog_udp.is_some() || args.syslog_tcp.is_some() {
            let every = std::time::Duration::from_secs(2);
            let bound = bantay_server::receive_syslog(service.clone(), args.syslog_udp, args.syslog_tcp, every)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen for syslog: {e}"))?;
            eprintln!("bantay receives syslog on udp {:?}, tcp {:?}", bound.udp, bound.tcp);
        }
        for path in &args.follow {
            bantay_server::follow_file(service.clone(), path.clone(), std::time::Duration::from_secs(1));
            eprintln!("bantay follows {}", path.display());
        }
        tokio::spawn(scheduler(service.clone(), mailer, args.sweep_every.max(1)));
        let app = router(service).into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Sweeps, then mails, forever: every `every` seconds, and sooner when something ends
/// before that (a grant ending at 14:00 ends at 14:00, not up to a minute later). A failed
/// round is logged and the next one tries again.
async fn scheduler(service: Arc<Service>, mailer: Option<Mailer>, every: u64) {
    loop {
        let now = service.now().unix_seconds();
        let due = service.store().next_due(now).await.ok().flatten();
        let wait = due.map_or(every as i64, |d| (d - now).clamp(0, every as i64));
        tokio::time::sleep(std::time::Duration::from_secs(wait as u64)).await;
        match service.sweep().await {
            Ok(s) => {
                let ended = s.requests_expired.len()
                    + s.grants_expired.len()
                    + s.grants_revoked_by_review.len();
                if ended > 0 {
                    eprintln!(
                        "sweep: {} grants expired, {} requests expired, {} revoked by review",
                        s.grants_expired.len(),
                        s.requests_expired.len(),
                        s.grants_revoked_by_review.len()
                    );
                }
                for r in s.reconciled.iter().filter(|r| !r.errors.is_empty()) {
                    eprintln!("enforcement on {}: {}", r.target, r.errors.join("; "));
                }
            }
            Err(e) => eprintln!("sweep failed: {}", report(&e)),
        }
        if let Some(mailer) = &mailer {
            if let Err(e) = service.deliver(mailer).await {
                eprintln!("mail delivery failed: {}", report(&e));
            }
        }
    }
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Passwords for a few demo people, one of each role, printed with their second factor.
async fn demo_signins(service: &Service) -> anyhow::Result<()> {
    use bantay_core::Role;
    let store = service.store();
    let now = service.now().unix_seconds();
    let operator = bantay_server::Actor::system("demo");
    let assignments = store.all_assignments().await?;
    let member = |unit: &str| {
        assignments
            .iter()
            .find(|a| a.unit == unit && a.is_head == 0 && a.valid_from <= now)
            .map(|a| a.person.clone())
    };
    let approver_unit = &service.pack().rules.datacenter.approver_unit;
    let approver = store.heads(approver_unit, now).await?.into_iter().next();
    let head = store.heads("SMD", now).await?.into_iter().next();
    let people = [
        ("requester", member("SMD"), None),
        ("unit head", head, None),
        ("datacenter approver", approver, None),
        ("auditor", member("PMID"), Some(Role::Auditor)),
        ("administrator", member("TSD"), Some(Role::Administrator)),
    ];
    println!("\ndemo sign-ins (password `{DEMO_PASSWORD}` for each):");
    for (what, person, role) in people {
        let Some(person) = person else { continue };
        if let Some(role) = role {
            service.assign_role(&operator, &person, role, true).await?;
        }
        let enrolment = service.set_password(&operator, &person, DEMO_PASSWORD, false).await?;
        let name = store.person(&person).await?.map_or_else(String::new, |p| p.name);
        match enrolment.totp_uri {
            Some(uri) => {
                println!("  {what:<20} {person:<10} {name}\n  {:<20} second factor: {uri}", "")
            }
            None => println!("  {what:<20} {person:<10} {name}"),
        }
    }
    Ok(())
}

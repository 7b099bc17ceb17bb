//! `serve`: many clients at once on `bantay serve`'s decision and guard endpoints (issue 7),
//! beside a bare axum endpoint that reads the same JSON body and answers the same JSON,
//! served and loaded the same way in the same run.
//!
//! Each client is one keep-alive HTTP/1.1 connection sending one request after another
//! for the whole period. Bantay runs as `bantay serve` does — the whole router (pages,
//! API, SCIM, metrics, the authorisation layer) over the embedded SQLite store — on its own
//! two-thread runtime; the clients run on another. Errors are transport failures and
//! statuses other than 200; "nothing lost" is checked for the endpoint that writes: every
//! entry attempt answered 200 is one `guard.refused` event more in the ledger, and the
//! ledger verifies afterwards.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use axum::routing::post;
use bantay_server::{
    router, unit_events, Actor, AssignmentForm, IncidentForm, PassForm, PersonForm, ResourceForm,
    RosterForm, Service, Targets,
};
use bantay_store::testing::TestDatabase;
use bantay_store::{OpenMode, Store, Trust};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};

use crate::pack;

/// The decision every decision client asks: ANA (SMD) holding a COMMS host under 1.2.4.
const DECISION: &str =
    r#"{"resource":"comms-os-0","clause":"1.2.4","kind":"standing","valid_until":"2026-12-31"}"#;

/// One endpoint under load: where, what body, with which token.
struct Target {
    name: &'static str,
    addr: SocketAddr,
    path: String,
    body: String,
    token: Option<String>,
}

/// What a period of load gave.
struct Load {
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    latencies_us: Vec<u32>,
    elapsed: Duration,
}

impl Load {
    fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.latencies_us.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        Duration::from_micros(u64::from(self.latencies_us[i]))
    }
}

fn runtime(name: &str) -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()?)
}

pub fn run(clients: usize, seconds: u64) -> anyhow::Result<()> {
    let server = runtime("server")?;
    let load = runtime("clients")?;
    let period = Duration::from_secs(seconds);

    let bare = server.block_on(serve_bare())?;
    let (bantay, tokens, code, db) = server.block_on(serve_bantay())?;
    let store = server.block_on(Store::open(&db.url(), OpenMode::Existing))?;

    println!(
        "{clients} clients, {seconds} s each, one keep-alive connection per client; \
         server and clients on two threads each of this {}-core machine",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let targets = [
        Target {
            name: "bare axum (same JSON in and out)",
            addr: bare,
            path: "/decide".into(),
            body: DECISION.into(),
            token: None,
        },
        Target {
            name: "Bantay POST /api/v1/decisions",
            addr: bantay,
            path: "/api/v1/decisions".into(),
            body: DECISION.into(),
            token: Some(tokens.requester.clone()),
        },
        Target {
            name: "Bantay POST /api/v1/gate/DC-MAIN/check",
            addr: bantay,
            path: "/api/v1/gate/DC-MAIN/check".into(),
            body: json!({ "code": code }).to_string(),
            token: Some(tokens.guard.clone()),
        },
        Target {
            name: "Bantay POST /api/v1/gate/DC-MAIN/enter (logs each)",
            addr: bantay,
            path: "/api/v1/gate/DC-MAIN/enter".into(),
            body: json!({ "code": code }).to_string(),
            token: Some(tokens.guard.clone()),
        },
    ];
    let mut bare_rate = 0.0;
    println!(
        "{:<52} {:>10} {:>8} {:>9} {:>9} {:>9}",
        "endpoint", "requests/s", "errors", "p50", "p99", "vs bare"
    );
    for target in &targets {
        let before = server.block_on(store.size())?;
        let result = load.block_on(hammer(target, clients, period));
        let after = server.block_on(store.size())?;
        if target.addr == bare {
            bare_rate = result.per_second();
        }
        println!(
            "{:<52} {:>10.0} {:>8} {:>9.2?} {:>9.2?} {:>8.0}%",
            target.name,
            result.per_second(),
            result.errors,
            result.percentile(0.50),
            result.percentile(0.99),
            100.0 * result.per_second() / bare_rate
        );
        if let Some(e) = &result.first_error {
            println!("    first error: {e}");
        }
        if target.path.ends_with("/enter") {
            let logged = after - before;
            println!(
                "    nothing lost: {} entries answered, {logged} events appended{}",
                result.ok,
                if logged == result.ok { "" } else { " — MISMATCH" }
            );
            if logged != result.ok {
                bail!("{} answered entries but {logged} events appended", result.ok);
            }
        } else if after != before {
            bail!("{} appended {} events; it should record nothing", target.name, after - before);
        }
    }
    let verification = server.block_on(store.verify(&Trust::default()))?;
    match verification.problem {
        None => println!("ledger verified: {} events", verification.events),
        Some(problem) => bail!("the ledger does not verify after the load: {problem:?}"),
    }
    drop(db);
    Ok(())
}

/// The peer: axum alone, reading the same body as JSON and answering a decision of the
/// same shape, with no authentication, policy or store.
async fn serve_bare() -> anyhow::Result<SocketAddr> {
    async fn decide(axum::Json(body): axum::Json<Value>) -> axum::Json<Value> {
        axum::Json(json!({
            "outcome": if body["clause"].is_string() { "allow" } else { "deny" },
            "clauses": [body["clause"]],
            "reasons": [{"clause": body["clause"], "effect": "permits", "message": "1.2.4 permits holding os on comms-os-0"}],
            "chain": ["SMD", "TMS"],
        }))
    }
    let app = axum::Router::new().route("/decide", post(decide));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

struct Tokens {
    requester: String,
    guard: String,
}

/// Bantay as `bantay serve` runs it, over a fresh SQLite ledger holding a small bureau: a
/// guard on duty at DC-MAIN, and BEN inside on an approved emergency pass, so that every
/// further entry on his code is refused and logged.
async fn serve_bantay() -> anyhow::Result<(SocketAddr, Tokens, String, TestDatabase)> {
    let db = TestDatabase::sqlite(None)?;
    let store = Store::open(&db.url(), OpenMode::Create).await?;
    let pack = Arc::new(pack()?);
    let t0 = bantay_core::Timestamp::parse("2025-01-01")?.unix_seconds();
    let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    store.init(key, "system:bench", t0, unit_events(&pack, "system:bench", t0)).await?;
    let clock =
        Arc::new(AtomicI64::new(bantay_core::Timestamp::parse("2026-12-01T09:30")?.unix_seconds()));
    let reader = clock.clone();
    let service = Arc::new(Service::new(
        Arc::new(store),
        pack,
        Arc::new(move || reader.load(Ordering::SeqCst)),
        Targets::none(),
    ));
    let op = Actor::system("bench");
    for (id, unit, head) in [
        ("DC", "MISTG", true),
        ("DIR-TMS", "TMS", true),
        ("CHIEF-SMD", "SMD", true),
        ("CHIEF-SDD", "SDD", true),
        ("DIR-PSDS", "PSDS", true),
        ("CHIEF-TSD", "TSD", true),
        ("ANA", "SMD", false),
        ("BEN", "SDD", false),
        ("CARL", "TSD", false),
        ("GUARD-1", "", false),
    ] {
        let form =
            PersonForm { id: id.into(), name: format!("{id} Santos"), port: None, email: None };
        service.record_person(&op, &form).await?;
        if unit.is_empty() {
            continue;
        }
        let order = AssignmentForm {
            person: id.into(),
            unit: unit.into(),
            order: format!("CPO-2025-{id}"),
            effective: "2025-01-02".into(),
            head,
        };
        service.assign(&op, &order).await?;
    }
    for (id, kind, class, system) in
        [("comms-os-0", "host", "os", "COMMS"), ("cps-db-0", "database", "database", "CPS")]
    {
        let form = ResourceForm {
            id: id.into(),
            kind: kind.into(),
            class: class.into(),
            system: Some(system.into()),
            port: Some("Manila".into()),
            target: None,
            target_role: None,
        };
        service.record_resource(&op, &form).await?;
    }
    let roster = RosterForm {
        guard: "GUARD-1".into(),
        datacenter: "DC-MAIN".into(),
        post: "POST-MAIN-LOBBY".into(),
        from: "2026-12-01T06:00".into(),
        until: "2026-12-01T18:00".into(),
    };
    service.roster_guard(&op, &roster).await?;
    let incident = IncidentForm {
        title: "CPS database host down".into(),
        priority: "P1".into(),
        owner: "CARL".into(),
    };
    let incident = service.open_incident(&Actor::person("CARL"), &incident).await?;
    let pass = PassForm {
        person: Some("BEN".into()),
        datacenter: "DC-MAIN".into(),
        incident: incident.id,
        reason: "replace the failed disk".into(),
        from: None,
        until: "2026-12-01T11:00".into(),
    };
    let pass = service.request_pass(&Actor::person("BEN"), &pass).await?;
    let pass = service.approve_pass(&Actor::person("DC"), &pass.id).await?;
    let code = pass.code.context("an approved pass has a code")?;
    let guard = Actor::person("GUARD-1");
    service.gate_enter(&guard, "DC-MAIN", &code).await?;
    let tokens = Tokens {
        requester: service.issue_token(&op, "ANA").await?,
        guard: service.issue_token(&op, "GUARD-1").await?,
    };

    let app = router(service).into_make_service_with_connect_info::<SocketAddr>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((addr, tokens, code, db))
}

/// `clients` connections sending `target`'s request one after another for `period`.
async fn hammer(target: &Target, clients: usize, period: Duration) -> Load {
    let request = Arc::new((
        target.addr,
        target.path.clone(),
        Bytes::from(target.body.clone()),
        target.token.as_ref().map(|t| format!("Bearer {t}")),
    ));
    #[allow(clippy::disallowed_methods)] // a benchmark reads the clock to time itself
    let start = Instant::now();
    let deadline = start + period;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let request = request.clone();
            tokio::spawn(async move { client(&request, deadline).await })
        })
        .collect();
    let mut load =
        Load { ok: 0, errors: 0, first_error: None, latencies_us: Vec::new(), elapsed: period };
    for task in tasks {
        match task.await {
            Ok(one) => {
                load.ok += one.ok;
                load.errors += one.errors;
                load.first_error = load.first_error.or(one.first_error);
                load.latencies_us.extend(one.latencies_us);
            }
            Err(e) => {
                load.errors += 1;
                load.first_error.get_or_insert(e.to_string());
            }
        }
    }
    load.elapsed = start.elapsed();
    load.latencies_us.sort_unstable();
    load
}

type Request = (SocketAddr, String, Bytes, Option<String>);

/// One client: one connection, requests back to back until the deadline.
#[allow(clippy::disallowed_methods)] // a benchmark reads the clock to time itself
async fn client(request: &Request, deadline: Instant) -> Load {
    let (addr, path, body, auth) = request;
    let mut load = Load {
        ok: 0,
        errors: 0,
        first_error: None,
        latencies_us: Vec::with_capacity(4096),
        elapsed: Duration::ZERO,
    };
    let fail = |load: &mut Load, e: String| {
        load.errors += 1;
        load.first_error.get_or_insert(e);
    };
    let connected = async {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let io = hyper_util::rt::TokioIo::new(stream);
        let (sender, connection) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(connection);
        anyhow::Ok(sender)
    };
    let mut sender = match connected.await {
        Ok(s) => s,
        Err(e) => {
            fail(&mut load, format!("connect: {e}"));
            return load;
        }
    };
    while Instant::now() < deadline {
        let mut builder = hyper::Request::post(path.as_str())
            .header(hyper::header::HOST, addr.to_string())
            .header(hyper::header::CONTENT_TYPE, "application/json");
        if let Some(auth) = auth {
            builder = builder.header(hyper::header::AUTHORIZATION, auth.as_str());
        }
        let Ok(req) = builder.body(Full::new(body.clone())) else {
            fail(&mut load, "could not build the request".into());
            return load;
        };
        let sent = Instant::now();
        let answered = async {
            sender.ready().await?;
            let response = sender.send_request(req).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            anyhow::Ok((status, body))
        };
        match answered.await {
            Ok((status, _)) if status == hyper::StatusCode::OK => {
                load.ok += 1;
                let micros = sent.elapsed().as_micros();
                load.latencies_us.push(u32::try_from(micros).unwrap_or(u32::MAX));
            }
            Ok((status, body)) => {
                fail(&mut load, format!("{status}: {}", String::from_utf8_lossy(&body)));
            }
            Err(e) => {
                fail(&mut load, format!("{e:#}"));
                return load;
            }
        }
    }
    load
}

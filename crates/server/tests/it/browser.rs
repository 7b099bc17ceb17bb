//! The web UI in a real headless Chromium, driven over WebDriver (Debian's
//! `chromium-driver`, which `scripts/test` installs): the journeys a person takes, with a
//! screenshot of each page in `target/screenshots/`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use bantay_server::{router, Actor};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use totp_rs::TOTP;

use crate::{Backend, World};

const GOOD: &str = "a long passphrase for tests";

/// A chromedriver process, stopped when dropped.
struct Driver {
    child: tokio::process::Child,
    url: String,
}

impl Driver {
    async fn start() -> Self {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let child = tokio::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect(
                "cannot run `chromedriver`: install Debian's chromium-driver (scripts/test does)",
            );
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Self { child, url: format!("http://127.0.0.1:{port}") };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not listen on port {port} within 10 s");
    }

    async fn browser(&self) -> Client {
        let binary = ["chromium", "chromium-browser"]
            .iter()
            .map(|name| PathBuf::from("/usr/bin").join(name))
            .find(|p| p.exists())
            .expect("no Chromium in /usr/bin: install Debian's chromium (scripts/test does)");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": binary,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--disable-gpu"],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("chromedriver refused a session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Saves what the browser shows as `target/screenshots/NAME.png`.
async fn screenshot(browser: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a screenshot is a PNG");
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// The text of the first element matching `css` once it contains `needle`: a click that
/// submits a form returns before the next page is there, so this waits (up to 10 s) for
/// the page the assertion is about rather than reading the one being left.
async fn see(browser: &Client, css: &str, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..200 {
        if let Ok(element) = browser.find(Locator::Css(css)).await {
            if let Ok(text) = element.text().await {
                if text.contains(needle) {
                    return text;
                }
                last = text;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("`{css}` never showed `{needle}`; last seen: `{last}`");
}

async fn sign_in(browser: &Client, base: &str, login: &str, code: &str) {
    browser.goto(&format!("{base}/signin")).await.unwrap();
    browser.find(Locator::Id("login")).await.unwrap().send_keys(login).await.unwrap();
    browser.find(Locator::Id("password")).await.unwrap().send_keys(GOOD).await.unwrap();
    if !code.is_empty() {
        browser.find(Locator::Id("code")).await.unwrap().send_keys(code).await.unwrap();
    }
    browser.find(Locator::Css("section.signin button")).await.unwrap().click().await.unwrap();
    // The click returns before the dashboard replaces the sign-in page.
    see(browser, "h1", "Good day").await;
}

/// Serves Bantay's pages for `w` and starts a chromedriver: the pages' base address and
/// the driver.
async fn serve(w: &World) -> (String, Driver) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    // `localhost`, not the address: browsers keep `Secure` cookies on plain HTTP there only.
    let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let app = router(w.service.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, Driver::start().await)
}

async fn sign_out(browser: &Client) {
    browser.find(Locator::Css("form.signout button")).await.unwrap().click().await.unwrap();
    see(browser, "h1", "Sign in to Bantay").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_sign_in_and_find_their_way_in_chromium() {
    let w = World::bureau(Backend::Sqlite).await;
    w.set("2026-07-01T09:00:00+08:00");
    w.legacy_grant("G-1", "ANA", "cps-db-0", "1.3.2", "2026-01-01", "2026-12-31").await;
    w.import(vec![(
        "finding.opened",
        json!({
            "id": "F-1", "clause": "4.5", "subject": "oracle@cps-db1",
            "summary": "a person used the system account oracle interactively",
            "evidence": "Jul  1 08:59:01 cps-db1 su[4242]: (to oracle) ana on pts/0",
        }),
    )])
    .await;
    w.service.set_password(&w.operator(), "ANA", GOOD, false).await.unwrap();
    let mut totp = std::collections::HashMap::new();
    for head in ["DC", "CHIEF-SMD", "DIR-TMS"] {
        let enrolment = w.service.set_password(&w.operator(), head, GOOD, false).await.unwrap();
        totp.insert(head, TOTP::from_url(enrolment.totp_uri.unwrap()).unwrap());
    }
    let code = |head: &str| totp[head].generate(w.now() as u64);

    let (base, driver) = serve(&w).await;
    let browser = driver.browser().await;

    // Anyone who is not signed in lands on the sign-in page.
    browser.goto(&format!("{base}/")).await.unwrap();
    see(&browser, "h1", "Sign in to Bantay").await;
    screenshot(&browser, "signin").await;

    // A wrong password is refused on the page, with the name kept in the field.
    browser.find(Locator::Id("login")).await.unwrap().send_keys("ANA").await.unwrap();
    browser.find(Locator::Id("password")).await.unwrap().send_keys("not it at all").await.unwrap();
    browser.find(Locator::Css("section.signin button")).await.unwrap().click().await.unwrap();
    see(&browser, "p.refusal", "wrong sign-in name or password").await;

    // The requester sees their privileges and the clause behind each.
    sign_in(&browser, &base, "ana@customs.example", "").await;
    see(&browser, "h1", "Good day, ANA Santos").await;
    let privileges = see(&browser, "table tbody", "cps-db-0").await;
    assert!(
        privileges.contains("cps-db-0") && privileges.contains("CMO 04-2019 1.3.2"),
        "{privileges}"
    );
    screenshot(&browser, "dashboard-requester").await;
    browser.goto(&format!("{base}/findings")).await.unwrap();
    see(&browser, "p.refusal", "ANA may not do this").await;

    // She asks for access; the order's rules decide at once, and her chain of heads is next.
    browser.goto(&format!("{base}/")).await.unwrap();
    browser.find(Locator::LinkText("Requests")).await.unwrap().click().await.unwrap();
    for (field, value) in
        [("resource", "comms-os-0"), ("clause", "1.2.4"), ("valid_until", "2026-12-01")]
    {
        browser.find(Locator::Id(field)).await.unwrap().send_keys(value).await.unwrap();
    }
    screenshot(&browser, "request-form").await;
    browser.find(Locator::Css("form.ask button")).await.unwrap().click().await.unwrap();
    see(&browser, "h1", "Request R-").await;
    see(&browser, "p.summary span.status", "pending").await;
    let request =
        browser.current_url().await.unwrap().path().rsplit('/').next().unwrap().to_owned();
    see(&browser, "ol.steps", "awaiting CHIEF-SMD").await;
    sign_out(&browser).await;

    // Each head in turn finds it awaiting them and approves; the second approval grants it.
    for head in ["CHIEF-SMD", "DIR-TMS"] {
        sign_in(&browser, &base, head, &code(head)).await;
        browser.find(Locator::LinkText("Requests")).await.unwrap().click().await.unwrap();
        see(&browser, "section.awaiting", &request).await;
        browser.find(Locator::LinkText(&request)).await.unwrap().click().await.unwrap();
        browser.find(Locator::Css("form.approve button")).await.unwrap().click().await.unwrap();
        see(&browser, "ol.steps", &format!("approved by {head}")).await;
        sign_out(&browser).await;
    }
    sign_in(&browser, &base, "ana@customs.example", "").await;
    browser.goto(&format!("{base}/requests/{request}")).await.unwrap();
    see(&browser, "p.summary span.status", "approved").await;
    see(&browser, "p.granted", "Granted: G-").await;
    screenshot(&browser, "request-approved").await;
    browser.goto(&format!("{base}/")).await.unwrap();
    see(&browser, "table tbody", "comms-os-0").await;
    sign_out(&browser).await;

    // The Deputy Commissioner signs in with the second factor and sees each rule's standing.
    sign_in(&browser, &base, "DC", &code("DC")).await;
    see(&browser, "h1", "Good day, DC Santos").await;
    let breach = see(&browser, "li.rule.breach", "4.5").await;
    assert!(breach.contains("4.5") && breach.contains("1 open"), "{breach}");
    screenshot(&browser, "dashboard-approver").await;
    browser.find(Locator::LinkText("Findings")).await.unwrap().click().await.unwrap();
    let row = see(&browser, "table.findings tbody tr", "F-1").await;
    assert!(row.contains("F-1") && row.contains("oracle@cps-db1"), "{row}");
    screenshot(&browser, "findings").await;

    browser.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_is_asked_for_approved_and_scanned_in_and_out_in_chromium() {
    let (w, incident) = crate::datacenter::datacenter_world(Backend::Sqlite).await;
    w.set("2026-12-01T09:00");
    let op = w.operator();
    for person in ["BEN", "GUARD-1"] {
        w.service.set_password(&op, person, GOOD, false).await.unwrap();
    }
    let dc = w.service.set_password(&op, "DC", GOOD, false).await.unwrap();
    let totp = TOTP::from_url(dc.totp_uri.unwrap()).unwrap();

    let (base, driver) = serve(&w).await;
    let browser = driver.browser().await;

    // BEN asks for a pass for the open incident on his requests page.
    sign_in(&browser, &base, "BEN", "").await;
    browser.find(Locator::LinkText("Requests")).await.unwrap().click().await.unwrap();
    see(&browser, "form.pass select#incident", &incident).await;
    for (field, value) in [("reason", "replace the failed disk"), ("until", "2026-12-01T10:00")] {
        browser.find(Locator::Id(field)).await.unwrap().send_keys(value).await.unwrap();
    }
    browser.find(Locator::Css("form.pass button")).await.unwrap().click().await.unwrap();
    see(&browser, "p.summary span.status", "requested").await;
    let pass = browser.current_url().await.unwrap().path().rsplit('/').next().unwrap().to_owned();
    assert!(pass.starts_with("PASS-"), "{pass}");
    sign_out(&browser).await;

    // The Deputy Commissioner finds it on the datacenter board and approves it.
    sign_in(&browser, &base, "DC", &totp.generate(w.now() as u64)).await;
    browser.find(Locator::LinkText("Datacenters")).await.unwrap().click().await.unwrap();
    browser
        .find(Locator::Css("a[href=\"/datacenters/DC-MAIN\"]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    see(&browser, "section.requested", &pass).await;
    let shifts = see(&browser, "table.shifts tbody", "(now)").await;
    assert!(shifts.contains("GUARD-1 at POST-MAIN-LOBBY"), "{shifts}");
    browser.find(Locator::LinkText(&pass)).await.unwrap().click().await.unwrap();
    browser.find(Locator::Css("form.approve button")).await.unwrap().click().await.unwrap();
    see(&browser, "p.summary span.status", "approved").await;
    browser.goto(&format!("{base}/datacenters/DC-MAIN")).await.unwrap();
    see(&browser, "table.shifts tr.current", &pass).await;
    screenshot(&browser, "datacenter-board").await;
    sign_out(&browser).await;

    // BEN's pass page shows the code he takes to the door.
    sign_in(&browser, &base, "BEN", "").await;
    browser.goto(&format!("{base}/passes/{pass}")).await.unwrap();
    let code = see(&browser, "pre.passcode", "BP1.").await;
    sign_out(&browser).await;
    w.set("2026-12-01T09:05");

    sign_in(&browser, &base, "GUARD-1", "").await;
    browser.find(Locator::LinkText("Datacenters")).await.unwrap().click().await.unwrap();
    browser
        .find(Locator::Css("a.station[href=\"/gate/DC-MAIN\"]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    see(&browser, "h1", "Guard station").await;
    see(&browser, "main", "Nobody: the datacenter is closed (4.3).").await;

    // The scanner types the code into the focused field and presses Enter: an entry.
    let field = browser.active_element().await.unwrap();
    assert_eq!(
        field.attr("id").await.unwrap().as_deref(),
        Some("code"),
        "the code field has focus"
    );
    field.send_keys(&format!("{code}\n")).await.unwrap();
    see(&browser, "section.verdict.allow p.big", "✓ entry logged").await;
    see(&browser, "ul.inside", "BEN Santos (BEN)").await;
    screenshot(&browser, "guard-station").await;

    // The same pass again is refused: BEN is inside already.
    let field = browser.active_element().await.unwrap();
    field.send_keys(&format!("{code}\n")).await.unwrap();
    see(&browser, "section.verdict.refuse p.big", "✗ refused").await;

    // On the way out, the Exit button.
    browser.find(Locator::Id("code")).await.unwrap().send_keys(&code).await.unwrap();
    browser.find(Locator::Css("button.exit")).await.unwrap().click().await.unwrap();
    see(&browser, "section.verdict.allow p.big", "✓ exit logged").await;
    let log = see(&browser, "table.logbook tbody", "exit").await;
    assert_eq!(log.lines().count(), 3, "{log}");
    browser.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_log_opens_a_finding_that_its_custodian_acknowledges_in_chromium() {
    let w = World::bureau(Backend::Sqlite).await;
    let op = w.operator();
    w.service.document_account(&op, &crate::accounts::oracle()).await.unwrap();
    // The import: a day of cps-db1's authentication log, as a connector sends it.
    let context = w.service.log_context();
    let log = crate::accounts::LOG.as_bytes();
    let ingested = w.service.ingest_log(&op, "auth.log", log, &context).await.unwrap();
    assert_eq!(ingested.opened.len(), 3, "{ingested:?}");
    let chief = w.service.set_password(&op, "CHIEF-SDD", GOOD, false).await.unwrap();
    let totp = TOTP::from_url(chief.totp_uri.unwrap()).unwrap();
    w.service.set_password(&op, "CARL", GOOD, false).await.unwrap();
    w.service.assign_role(&op, "CARL", bantay_core::Role::Auditor, true).await.unwrap();

    let (base, driver) = serve(&w).await;
    let browser = driver.browser().await;

    // The head of SDD, custodian of `oracle`, finds su into it with the line as evidence.
    sign_in(&browser, &base, "CHIEF-SDD", &totp.generate(w.now() as u64)).await;
    let breach = see(&browser, "li.rule.breach", "4.5").await;
    assert!(breach.contains("3 open"), "{breach}");
    browser.find(Locator::LinkText("Findings")).await.unwrap().click().await.unwrap();
    let row = see(&browser, "table.findings tbody", "(su from pts/1)").await;
    assert!(row.contains("4.5") && row.contains("oracle@cps-db1"), "{row}");
    let findings = w.service.findings(&Actor::system("test"), "cli").await.unwrap();
    let su = &findings.iter().find(|f| f.evidence.contains("(to oracle) ben")).unwrap().id;
    let row = format!("tr[id=\"{su}\"]");
    browser.find(Locator::Css(&format!("{row} summary"))).await.unwrap().click().await.unwrap();
    see(
        &browser,
        &format!("{row} pre"),
        "auth.log:4: Dec  1 07:20:00 cps-db1 su[103]: (to oracle) ben on pts/1",
    )
    .await;
    screenshot(&browser, "findings-to-answer").await;
    let form = format!("tr[id=\"{su}\"] form.step");
    let note = "SDD rotates the oracle password today; BEN's su rule is removed";
    browser
        .find(Locator::Css(&format!("{form} input[name=note]")))
        .await
        .unwrap()
        .send_keys(note)
        .await
        .unwrap();
    browser
        .find(Locator::Css(&format!("{form} button.acknowledge")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    see(&browser, &format!("tr[id=\"{su}\"] td.status"), "acknowledged").await;
    let events = w.events().await;
    let step = events.iter().rposition(|e| e["kind"] == "finding.status").unwrap();
    let answered = &events[step];
    assert_eq!(
        (answered["actor"].as_str(), answered["body"]["note"].as_str()),
        (Some("CHIEF-SDD"), Some(note)),
        "{answered}"
    );
    // Each showing of the findings page since is a recorded view of their evidence.
    let since: Vec<_> = events[step + 1..].iter().map(|e| (&e["kind"], &e["actor"])).collect();
    assert!(!since.is_empty(), "the page shown after the answer is on record");
    assert!(since.iter().all(|&(k, a)| k == "evidence.viewed" && a == "CHIEF-SDD"), "{since:?}");
    let breach = see(&browser, "main", "acknowledged").await;
    assert!(breach.contains(su.as_str()), "{breach}");
    sign_out(&browser).await;

    // An auditor reads the same findings and evidence, with nothing to press.
    sign_in(&browser, &base, "CARL", "").await;
    browser.goto(&format!("{base}/findings")).await.unwrap();
    see(&browser, "table.findings tbody", "(su from pts/1)").await;
    assert!(browser.find(Locator::Css("form.step")).await.is_err(), "an auditor changes nothing");

    // The auditor checks the registry, and that the acknowledgement is in the ledger.
    browser.find(Locator::LinkText("System accounts")).await.unwrap().click().await.unwrap();
    let registry = see(&browser, "table.accounts tbody", "oracle@cps-db1").await;
    assert!(registry.contains("SDD") && registry.contains("10.20.1.0/24"), "{registry}");
    browser.find(Locator::LinkText("Ledger")).await.unwrap().click().await.unwrap();
    see(&browser, "table.events tbody", "finding.status").await;
    let row = browser
        .find(Locator::XPath("//table[@class='events']//tr[td[3]='finding.status']"))
        .await
        .unwrap();
    let text = row.text().await.unwrap();
    assert!(text.ends_with("CHIEF-SDD"), "{text}");
    let seq = text.split_whitespace().next().unwrap().to_owned();
    row.find(Locator::Css("a")).await.unwrap().click().await.unwrap();
    let verdict = see(&browser, "p.verdict", "included").await;
    assert!(verdict.starts_with(&format!("✓ Event {seq} is included")), "{verdict}");
    screenshot(&browser, "ledger-proof").await;
    browser.find(Locator::LinkText("Organisation")).await.unwrap().click().await.unwrap();
    let smd = see(&browser, "li.unit[id=SMD]", "1.2.4").await;
    assert!(smd.contains("Systems and network administration") || smd.contains("1.2.4"), "{smd}");
    screenshot(&browser, "organisation").await;
    browser.close().await.unwrap();
}

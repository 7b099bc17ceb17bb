//! The compliance report (section 5): its figures are the ledger's counts, its open
//! findings the store's, it is signed and ends with the ledger's signed head.

use bantay_server::{report_bytes, report_html, Actor, AssignmentForm, IncidentForm, RequestForm};
use ed25519_dalek::{Signature, VerifyingKey};

use crate::datacenter::{datacenter_world, pass_form};
use crate::{at, Backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_counts_what_the_ledger_holds() {
    let (w, incident) = datacenter_world(Backend::Sqlite).await;
    // 4.1: one refused request, one approved; 4.2 and realignment steps; a refused pass.
    w.request("BEN", "cps-os-0", "1.2.4", "standing", "2026-12-31").await;
    let ok = w.request("ANA", "comms-os-0", "1.2.4", "standing", "2026-12-31").await;
    w.approve("CHIEF-SMD", &ok.id).await.unwrap();
    w.approve("DIR-TMS", &ok.id).await.unwrap();
    w.legacy_grant("G-os", "CARL", "cps-os-0", "1.2.4", "2026-01-10", "2027-06-01").await;
    w.legacy_grant("G-db", "CARL", "cps-db-0", "2.2.1", "2026-01-10", "2027-06-01").await;
    let sod = RequestForm {
        person: None,
        resource: "cps-app-0".into(),
        clause: "1.3.1".into(),
        kind: "standing".into(),
        valid_from: None,
        valid_until: "2026-12-31".into(),
    };
    assert_eq!(w.service.submit(&Actor::person("CARL"), &sod).await.unwrap().status, "refused");
    let order = AssignmentForm {
        person: "ANA".into(),
        unit: "SDD".into(),
        order: "CPO-2026-0142".into(),
        effective: "2026-12-01T09:00".into(),
        head: false,
    };
    w.service.assign(&w.operator(), &order).await.unwrap();
    let p3 = w
        .service
        .open_incident(
            &Actor::person("BEN"),
            &IncidentForm { title: "printer".into(), priority: "P3".into(), owner: "BEN".into() },
        )
        .await
        .unwrap();
    w.service
        .request_pass(
            &Actor::person("BEN"),
            &pass_form("BEN", &p3.id, "2026-12-01T09:00", "2026-12-01T10:00"),
        )
        .await
        .unwrap();
    let good = w
        .service
        .request_pass(
            &Actor::person("BEN"),
            &pass_form("BEN", &incident, "2026-12-01T11:00", "2026-12-01T12:00"),
        )
        .await
        .unwrap();
    w.service.approve_pass(&Actor::person("DC"), &good.id).await.unwrap();
    w.set("2026-12-01T13:00");
    w.service.sweep().await.unwrap(); // opens the unguarded-shift findings (4.4)

    // One 4.4 finding is remediated: a step of 4.4, and one open finding fewer.
    let first_44 = w
        .service
        .store()
        .findings()
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.clause == "4.4")
        .unwrap();
    w.import(vec![(
        "finding.status",
        serde_json::json!({"id": first_44.id, "status": "remediated"}),
    )])
    .await;

    let from = bantay_core::Timestamp::parse("2026-12-01").unwrap();
    let until = bantay_core::Timestamp::parse("2026-12-08").unwrap();
    let report = w.service.report(from, until).await.unwrap();
    let events = w.events().await;
    let in_period = |e: &&serde_json::Value| {
        (at("2026-12-01")..at("2026-12-08")).contains(&e["time"].as_i64().unwrap())
    };
    let count =
        |kind: &str| events.iter().filter(in_period).filter(|e| e["kind"] == kind).count() as u64;
    let section = |clause: &str| report.sections.iter().find(|s| s.clause == clause).unwrap();
    let figure = |clause: &str, label: &str| {
        section(clause).figures.iter().find(|f| f.label == label).unwrap().value
    };

    assert_eq!(figure("4.1", "requests submitted"), count("request.submitted"));
    assert_eq!(figure("4.1", "requests submitted"), 3);
    assert_eq!(figure("4.1", "requests refused (4.1)"), 1);
    assert_eq!(figure("4.2", "requests refused (4.2)"), 1);
    assert_eq!(figure("4.1", "grants recorded"), count("grant.recorded"));
    assert_eq!(figure("3", "grants suspended by a realignment"), count("grant.suspended"));
    assert_eq!(figure("3", "grants suspended by a realignment"), 1);
    assert_eq!(figure("4.3", "passes refused"), 1);
    assert_eq!(figure("4.3", "passes approved"), 1);
    let open_44 = w
        .service
        .store()
        .findings()
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.clause == "4.4" && f.status == "open")
        .count();
    assert!(open_44 > 0);
    assert_eq!(section("4.4").open_findings.len(), open_44);
    assert_eq!(section("4.4").status, "findings open");
    assert_eq!(figure("4.4", "findings remediated"), 1);
    assert!(section("4.4")
        .steps
        .iter()
        .any(|s| s.contains(&format!("finding {} remediated", first_44.id))));
    assert_eq!(section("4.5").status, "not yet monitored");
    assert!(
        section("4.2").steps.iter().any(|s| s.contains("refused") && s.contains("4.2")),
        "{:?}",
        section("4.2").steps
    );
    assert_eq!(section("4.1").trend.len(), 7);
    assert_eq!(
        section("4.1").trend.iter().map(|t| t.1).sum::<u64>(),
        section("4.1").trend[0].1,
        "everything happened on the 1st"
    );

    // Signed with the ledger's key, ending with the ledger's head.
    let key = w.service.store().current_key().await.unwrap().unwrap().1;
    assert_eq!(report.public_key, hex::encode(key.as_bytes()));
    let signature: [u8; 64] = hex::decode(&report.signature).unwrap().try_into().unwrap();
    let public = VerifyingKey::from_bytes(&key.to_bytes()).unwrap();
    public.verify_strict(&report_bytes(&report), &Signature::from_bytes(&signature)).unwrap();
    let mut altered = report.clone();
    altered.sections[1].figures[0].value += 1;
    assert!(public
        .verify_strict(&report_bytes(&altered), &Signature::from_bytes(&signature))
        .is_err());
    assert_eq!(report.ledger.size, w.size().await as u64);

    let html = report_html(&report);
    for clause in ["3 ", "4.1 ", "4.2 ", "4.3 ", "4.4 ", "4.5 "] {
        assert!(html.contains(&format!("<h2>{clause}")), "{clause}");
    }
    assert!(html.contains("<svg") && html.contains(&report.ledger.root));
}

//! Datacenter access (4.3, 4.4): passes approved one a shift (also under 200 racing
//! approvals), refusals with their clauses, the signed pass checked offline and at the
//! gate, the guard's logbook, reconciliation findings, and incident SLA clocks.

use bantay_server::{
    check_pass_code, Actor, CodeCheck, IncidentForm, PassForm, RosterForm, ServiceError,
};
use serde_json::json;

use crate::{at, on_both_backends, Backend, World};

const DC: &str = "DC-MAIN";

/// The bureau with a guard on DC-MAIN's lobby for two days from 06:00, another at the
/// DR site, and an open P1 incident owned by CARL.
pub(crate) async fn datacenter_world(backend: Backend) -> (World, String) {
    let w = World::bureau(backend).await;
    for guard in ["GUARD-1", "GUARD-2"] {
        w.import(vec![(
            "person.recorded",
            json!({"id": guard, "name": format!("{guard} Dela Cruz")}),
        )])
        .await;
    }
    let op = w.operator();
    w.service
        .roster_guard(
            &op,
            &RosterForm {
                guard: "GUARD-1".into(),
                datacenter: DC.into(),
                post: "POST-MAIN-LOBBY".into(),
                from: "2026-12-01T06:00".into(),
                until: "2026-12-03T06:00".into(),
            },
        )
        .await
        .unwrap();
    w.service
        .roster_guard(
            &op,
            &RosterForm {
                guard: "GUARD-2".into(),
                datacenter: "DC-DR".into(),
                post: "POST-DR-GATE".into(),
                from: "2026-12-01T06:00".into(),
                until: "2026-12-03T06:00".into(),
            },
        )
        .await
        .unwrap();
    let incident = w
        .service
        .open_incident(
            &Actor::person("CARL"),
            &IncidentForm {
                title: "CPS database host down".into(),
                priority: "P1".into(),
                owner: "CARL".into(),
            },
        )
        .await
        .unwrap();
    (w, incident.id)
}

pub(crate) fn pass_form(person: &str, incident: &str, from: &str, until: &str) -> PassForm {
    PassForm {
        person: Some(person.into()),
        datacenter: DC.into(),
        incident: incident.into(),
        reason: "replace the failed disk".into(),
        from: Some(from.into()),
        until: until.into(),
    }
}

fn denial_clauses(p: &bantay_server::PassView) -> Vec<&str> {
    p.reasons.iter().map(|r| r.clause.as_str()).collect()
}

on_both_backends! {
    async fn a_pass_is_approved_signed_and_used_at_the_gate(backend) {
        let (w, incident) = datacenter_world(backend).await;
        let dc = Actor::person("DC");
        let guard = Actor::person("GUARD-1");
        let p = w.service.request_pass(&Actor::person("BEN"), &pass_form("BEN", &incident, "2026-12-01T09:00", "2026-12-01T11:00")).await.unwrap();
        assert_eq!(p.status, "requested", "{:?}", p.reasons);
        assert!(w.service.inbox("DC").await.unwrap()[0].subject.contains(&p.id));
        let e = w.service.approve_pass(&Actor::person("CHIEF-SMD"), &p.id).await.unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden(_)) && e.to_string().contains("written approval of the head of MISTG"), "{e}");
        let e = w.service.approve_pass(&Actor::person("BEN"), &p.id).await.unwrap_err();
        assert!(e.to_string().contains("nobody approves their own pass"), "{e}");
        let p = w.service.approve_pass(&dc, &p.id).await.unwrap();
        assert_eq!((p.status.as_str(), p.approver.as_deref()), ("approved", Some("DC")));
        let code = p.code.clone().unwrap();

        // Offline: the ledger's public key alone.
        let keys = w.service.store().signing_keys().await.unwrap();
        assert!(matches!(check_pass_code(&code, &keys, at("2026-12-01T10:00")), CodeCheck::Valid(c) if c.person == "BEN" && c.datacenter == DC));
        assert!(matches!(check_pass_code(&code, &keys, at("2026-12-01T11:00")), CodeCheck::Expired(_)));

        // The gate: too early, then in, then not twice; out; a guard not on duty may not log.
        let e = w.service.gate_check(&Actor::person("GUARD-2"), DC, &code).await.unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden(_)) && e.to_string().contains("not on the guard roster at DC-MAIN"), "{e}");
        w.set("2026-12-01T08:59");
        let early = w.service.gate_enter(&guard, DC, &code).await.unwrap();
        assert_eq!((early.verdict.as_str(), early.logged.as_deref(), early.name.as_deref()), ("too early", Some("refused"), Some("BEN Santos")));
        w.set("2026-12-01T09:30");
        let wrong = w.service.gate_check(&Actor::person("GUARD-2"), "DC-DR", &code).await.unwrap();
        assert_eq!(wrong.verdict, "wrong datacenter");
        let inside = w.service.gate_enter(&guard, DC, &code).await.unwrap();
        assert_eq!((inside.verdict.as_str(), inside.logged.as_deref()), ("valid", Some("entry")));
        let twice = w.service.gate_enter(&guard, DC, &code).await.unwrap();
        assert_eq!(twice.verdict, "already inside");
        w.set("2026-12-01T10:40");
        let out = w.service.gate_exit(&guard, DC, &code).await.unwrap();
        assert_eq!(out.logged.as_deref(), Some("exit"));
        w.set("2026-12-01T11:05");
        assert_eq!(w.service.gate_check(&guard, DC, &code).await.unwrap().verdict, "expired");

        // A code that is not a pass: an error, and only the refusal is logged.
        let before = w.size().await;
        let e = w.service.gate_enter(&guard, DC, "BP1.garbage").await.unwrap_err();
        assert!(matches!(&e, ServiceError::BadInput { field, .. } if field == "code"), "{e}");
        assert_eq!(w.kinds_since(before).await, ["guard.refused"]);
        let log = w.service.logbook(DC, 10).await.unwrap();
        let actions: Vec<(&str, &str)> = log.iter().rev().map(|l| (l.action.as_str(), l.verdict.as_str())).collect();
        assert_eq!(actions, [("refused", "too early"), ("entry", "valid"), ("refused", "already inside"), ("exit", "exit"), ("refused", "malformed")]);

        // Revoked: the code still verifies offline, the gate knows better.
        let page = w.service.print_pass(&p.id).await.unwrap();
        assert!(page.contains("<svg") && page.contains(&p.id) && page.contains("BEN Santos"), "{page}");
        w.service.revoke_pass(&dc, &p.id, "incident closed").await.unwrap();
        w.set("2026-12-01T10:00");
        assert_eq!(w.service.gate_check(&guard, DC, &code).await.unwrap().verdict, "revoked");
        assert_eq!(w.service.store().replay_differences().await.unwrap(), Vec::<String>::new());
    }

    async fn two_hundred_racing_approvals_give_one_pass_a_shift(backend) {
        let (w, incident) = datacenter_world(backend).await;
        let people: Vec<String> = (0..200).map(|i| format!("TECH-{i:03}")).collect();
        w.import(people.iter().map(|p| ("person.recorded", json!({"id": p, "name": p}))).collect()).await;
        let mut ids = Vec::new();
        for p in &people {
            let pass = w.service.request_pass(&Actor::person(p), &pass_form(p, &incident, "2026-12-01T09:00", "2026-12-01T11:00")).await.unwrap();
            assert_eq!(pass.status, "requested");
            ids.push(pass.id);
        }
        // Two servers over one database, 100 approvals each, all at once.
        let other = std::sync::Arc::new(w.second_server().await);
        let mut tasks = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let id = id.clone();
            let (one, two) = (w.service.clone(), other.clone());
            tasks.push(tokio::spawn(async move {
                let dc = Actor::person("DC");
                if i % 2 == 0 { one.approve_pass(&dc, &id).await } else { two.approve_pass(&dc, &id).await }
            }));
        }
        let mut approved = 0;
        for t in tasks {
            let pass = t.await.unwrap().unwrap();
            match pass.status.as_str() {
                "approved" => approved += 1,
                "refused" => {
                    assert_eq!(denial_clauses(&pass), ["4.3"]);
                    assert!(pass.reasons[0].message.contains("admits 1 person a shift"), "{:?}", pass.reasons);
                }
                other => panic!("{other}"),
            }
        }
        assert_eq!(approved, 1, "exactly one pass for the shift");
        let shift = at("2026-12-01T06:00");
        assert_eq!(w.service.store().taken_slots(DC, shift).await.unwrap(), [0]);
    }

    async fn refusals_cite_their_clauses(backend) {
        let (w, incident) = datacenter_world(backend).await;
        let ben = Actor::person("BEN");
        // A P3 incident is no emergency; a resolved one opens nothing.
        let p3 = w.service.open_incident(&ben, &IncidentForm { title: "printer jam".into(), priority: "P3".into(), owner: "BEN".into() }).await.unwrap();
        let p = w.service.request_pass(&ben, &pass_form("BEN", &p3.id, "2026-12-01T09:00", "2026-12-01T10:00")).await.unwrap();
        assert_eq!((p.status.as_str(), denial_clauses(&p)), ("refused", vec!["4.3"]));
        assert!(p.reasons[0].message.contains("is P3; only P1 or P2 incidents"), "{:?}", p.reasons);
        // No guard from 06:00 on the 3rd: a window running past it is refused citing 4.4.
        let p = w.service.request_pass(&ben, &pass_form("BEN", &incident, "2026-12-03T05:00", "2026-12-03T07:00")).await.unwrap();
        assert_eq!(denial_clauses(&p), ["4.4"]);
        assert!(p.reasons[0].message.contains("no guard is rostered at DC-MAIN from 2026-12-03T06:00:00+08:00"), "{:?}", p.reasons);
        // A pass requested while the CCTV works, approved after a camera went down.
        let ok = w.service.request_pass(&ben, &pass_form("BEN", &incident, "2026-12-01T15:00", "2026-12-01T16:00")).await.unwrap();
        w.service.camera_status(&w.operator(), DC, "CAM-MAIN-02", false, "no signal").await.unwrap();
        let p = w.service.approve_pass(&Actor::person("DC"), &ok.id).await.unwrap();
        assert_eq!((p.status.as_str(), denial_clauses(&p)), ("refused", vec!["4.3"]));
        assert!(p.reasons[0].message.contains("CCTV at DC-MAIN is not operational: CAM-MAIN-02 (no signal) down"), "{:?}", p.reasons);
        w.service.camera_status(&w.operator(), DC, "CAM-MAIN-02", true, "restored").await.unwrap();
        // The incident resolved: a pending pass for it is refused at approval.
        let later = w.service.request_pass(&ben, &pass_form("BEN", &incident, "2026-12-01T17:00", "2026-12-01T18:00")).await.unwrap();
        w.service.incident_step(&Actor::person("CARL"), &incident, "resolved").await.unwrap();
        let p = w.service.approve_pass(&Actor::person("DC"), &later.id).await.unwrap();
        assert!(p.reasons[0].message.contains("is resolved"), "{:?}", p.reasons);

        // Bad input: named, and nothing written.
        let before = w.size().await;
        for (form, field, words) in [
            (PassForm { datacenter: "DC-MARS".into(), ..pass_form("BEN", &incident, "2026-12-01T09:00", "2026-12-01T10:00") }, "datacenter", "no datacenter `DC-MARS`"),
            (pass_form("BEN", &incident, "2026-12-01T09:00", "2026-12-01T14:00"), "until", "at most 4 hours under 4.3"),
            (pass_form("BEN", &incident, "2026-11-30T09:00", "2026-11-30T10:00"), "until", "ended already"),
            (pass_form("BEN", &incident, "2026-11-30T09:00", "2026-12-01T10:00"), "from", "in the past"),
            (pass_form("NOBODY", &incident, "2026-12-01T09:00", "2026-12-01T10:00"), "person", "no person"),
            (pass_form("BEN", &incident, "tomorrow", "2026-12-01T10:00"), "from", "not a date"),
        ] {
            let e = w.service.request_pass(&ben, &form).await.unwrap_err();
            let ServiceError::BadInput { field: f, message } = &e else { panic!("{e:?}") };
            assert_eq!(f, field, "{e}");
            assert!(message.contains(words), "{message}");
        }
        assert_eq!(w.size().await, before);
    }

    async fn a_window_across_a_shift_boundary_counts_against_both(backend) {
        let (w, incident) = datacenter_world(backend).await;
        let dc = Actor::person("DC");
        let pass = |who: &'static str, from: &'static str, until: &'static str| {
            let (w, incident, dc) = (&w, incident.clone(), dc.clone());
            async move {
                let p = w.service.request_pass(&Actor::person(who), &pass_form(who, &incident, from, until)).await.unwrap();
                if p.status == "refused" { return p; }
                w.service.approve_pass(&dc, &p.id).await.unwrap()
            }
        };
        assert_eq!(pass("ANA", "2026-12-01T13:00", "2026-12-01T14:00").await.status, "approved");
        assert_eq!(pass("BEN", "2026-12-01T14:00", "2026-12-01T15:00").await.status, "approved", "the next shift is free");
        let both = pass("CARL", "2026-12-01T13:30", "2026-12-01T14:30").await;
        assert_eq!(both.status, "refused");
        assert_eq!(both.reasons.len(), 2, "each shift it touches refuses it: {:?}", both.reasons);
        // 22:00–06:00, Asia/Manila, is one shift across midnight.
        assert_eq!(pass("ANA", "2026-12-01T23:00", "2026-12-02T01:00").await.status, "approved");
        let night = pass("BEN", "2026-12-02T02:00", "2026-12-02T04:00").await;
        assert_eq!(night.status, "refused");
        assert!(night.reasons[0].message.contains("the shift from 2026-12-01T22:00:00+08:00 to 2026-12-02T06:00:00+08:00 is taken"), "{:?}", night.reasons);
        assert_eq!(pass("CARL", "2026-12-02T06:00", "2026-12-02T08:00").await.status, "approved", "06:00 starts the next shift");
    }

    async fn the_logbook_is_reconciled_into_findings(backend) {
        let (w, incident) = datacenter_world(backend).await;
        let guard = Actor::person("GUARD-1");
        let dc = Actor::person("DC");
        let ana = w.service.request_pass(&Actor::person("ANA"), &pass_form("ANA", &incident, "2026-12-01T09:00", "2026-12-01T10:00")).await.unwrap();
        let code = w.service.approve_pass(&dc, &ana.id).await.unwrap().code.unwrap();
        let ben = w.service.request_pass(&Actor::person("BEN"), &pass_form("BEN", &incident, "2026-12-01T15:00", "2026-12-01T16:00")).await.unwrap();
        let ben_code = w.service.approve_pass(&dc, &ben.id).await.unwrap().code.unwrap();
        w.set("2026-12-01T09:10");
        w.service.gate_enter(&guard, DC, &code).await.unwrap();
        // CARL is let in without a pass during ANA's shift: two people in one shift.
        w.service.gate_enter_without_pass(&guard, DC, "CARL", "said the Director sent him").await.unwrap();
        w.set("2026-12-01T10:30");
        w.service.gate_exit(&guard, DC, &code).await.unwrap(); // 30 minutes late
        // BEN enters while a camera is down, and never leaves.
        w.set("2026-12-01T15:05");
        w.service.camera_status(&w.operator(), DC, "CAM-MAIN-03", false, "lens covered").await.unwrap();
        w.set("2026-12-01T15:10");
        w.service.gate_enter(&guard, DC, &ben_code).await.unwrap();
        w.set("2026-12-01T16:30");
        let swept = w.service.sweep().await.unwrap();
        let found = |prefix: &str| swept.datacenter_findings.iter().filter(|f| f.starts_with(prefix)).count();
        assert_eq!(found("F-dc-nopass-"), 1, "{:?}", swept.datacenter_findings);
        assert_eq!(found("F-dc-overstay-"), 1);
        assert_eq!(found("F-dc-noexit-"), 1);
        assert_eq!(found("F-dc-crowd-DC-MAIN-"), 1);
        assert_eq!(found("F-dc-cctv-"), 1);
        // DC-MAIN's roster ends on the 3rd at 06:00, and the 4th's shifts are within three days.
        assert!(found("F-dc-noguard-DC-MAIN-") >= 1, "{:?}", swept.datacenter_findings);
        let events = w.events().await;
        let clause_of = |prefix: &str| events.iter().find(|e| e["kind"] == "finding.opened" && e["body"]["id"].as_str().unwrap().starts_with(prefix)).unwrap()["body"].clone();
        assert_eq!(clause_of("F-dc-nopass-")["clause"], "4.3");
        assert!(clause_of("F-dc-nopass-")["summary"].as_str().unwrap().contains("CARL entered DC-MAIN"));
        assert_eq!(clause_of("F-dc-overstay-")["summary"], format!("ANA stayed in DC-MAIN 30 minutes past pass {}", ana.id));
        assert_eq!(clause_of("F-dc-noguard-")["clause"], "4.4");
        assert!(clause_of("F-dc-cctv-")["evidence"].as_str().unwrap().contains("camera CAM-MAIN-03 down from"));
        assert!(clause_of("F-dc-crowd-")["evidence"].as_str().unwrap().contains("ANA, CARL"));
        for (prefix, clause) in [("F-dc-nopass-", "4.3"), ("F-dc-noexit-", "4.3"), ("F-dc-overstay-", "4.3"),
            ("F-dc-crowd-", "4.3"), ("F-dc-cctv-", "4.3"), ("F-dc-noguard-", "4.4")] {
            assert_eq!(clause_of(prefix)["clause"], clause, "{prefix}");
        }
        // Opened once.
        assert!(w.service.sweep().await.unwrap().datacenter_findings.is_empty());
    }

    async fn incidents_escalate_when_their_clock_runs_out(backend) {
        let (w, _) = datacenter_world(backend).await;
        let carl = Actor::person("CARL");
        let slow = w.service.open_incident(&carl, &IncidentForm { title: "ERP login fails".into(), priority: "P1".into(), owner: "CARL".into() }).await.unwrap();
        let fast = w.service.open_incident(&carl, &IncidentForm { title: "e-mail slow".into(), priority: "P2".into(), owner: "CARL".into() }).await.unwrap();
        assert_eq!(slow.clock, "15m to respond");
        w.advance(10 * 60);
        w.service.incident_step(&carl, &fast.id, "responded").await.unwrap();
        let board = w.service.open_incidents().await.unwrap();
        assert_eq!(board[0].id, board.iter().min_by_key(|i| i.respond_by.clone()).unwrap().id, "the first to breach first");
        w.advance(6 * 60);
        assert_eq!(w.service.incident(&slow.id).await.unwrap().clock, "breached");
        let swept = w.service.sweep().await.unwrap();
        assert!(swept.incidents_escalated.contains(&slow.id), "{swept:?}");
        assert!(!swept.incidents_escalated.contains(&fast.id));
        assert_eq!(w.service.incident(&slow.id).await.unwrap().tier, 2);
        assert_eq!(w.service.incident(&fast.id).await.unwrap().tier, 1);
        let e = w.service.open_incident(&carl, &IncidentForm { title: "x".into(), priority: "P9".into(), owner: "CARL".into() }).await.unwrap_err();
        assert!(e.to_string().contains("priorities: P1, P2, P3, P4"), "{e}");
    }
}

/// 4.3 × 4.5: the hosts' own logs against the guard's.
mod console {
    use super::*;

    on_both_backends! {
        async fn a_console_login_on_a_datacenter_host_needs_someone_the_guard_let_in(backend) {
            let (w, incident) = datacenter_world(backend).await;
            let guard = Actor::person("GUARD-1");
            w.set("2026-12-01T08:00");
            let p = w.service.request_pass(&Actor::person("BEN"), &pass_form("BEN", &incident, "2026-12-01T09:00", "2026-12-01T11:00")).await.unwrap();
            let code = w.service.approve_pass(&Actor::person("DC"), &p.id).await.unwrap().code.unwrap();
            w.set("2026-12-01T09:05");
            w.service.gate_enter(&guard, DC, &code).await.unwrap();
            w.set("2026-12-01T10:30");
            w.service.gate_exit(&guard, DC, &code).await.unwrap();
            w.set("2026-12-01T13:00");
            // cps-db1 is racked in DC-MAIN (resources.toml); app-7 is in no datacenter.
            let log = "\
Dec  1 09:30:00 cps-db1 login[500]: pam_unix(login:session): session opened for user root(uid=0) by LOGIN(uid=0)
Dec  1 12:30:00 cps-db1 login[501]: pam_unix(login:session): session opened for user root(uid=0) by LOGIN(uid=0)
Dec  1 12:31:00 app-7 login[502]: pam_unix(login:session): session opened for user root(uid=0) by LOGIN(uid=0)
";
            let ingested = w.service.ingest_log(&w.operator(), "console.log", log.as_bytes(), &w.service.log_context()).await.unwrap();
            assert_eq!(ingested.opened.len(), 1, "{ingested:?}");
            let f = w.service.findings(&Actor::system("test"), "cli").await.unwrap().into_iter().find(|f| f.id == ingested.opened[0]).unwrap();
            assert_eq!((f.clause.as_str(), f.subject.as_str()), ("4.3", "root@cps-db1"));
            assert!(f.summary.starts_with("console login as `root` on cps-db1 in DC-MAIN at 2026-12-01T12:30:00+08:00 with nobody inside"), "{}", f.summary);
            assert!(f.evidence.starts_with("console.log:2: Dec  1 12:30:00 cps-db1 login[501]"), "{}", f.evidence);
        }
    }
}

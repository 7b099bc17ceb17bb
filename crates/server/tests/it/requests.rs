//! Requests and approvals: chains, self-approval, authority, withdrawn and expired
//! requests, 4.1 and 4.2 at submission and again at approval, and bad input.

use bantay_server::{Actor, RequestForm, ServiceError};

use crate::{on_both_backends, World};

fn deny_clauses(view: &bantay_server::RequestView) -> Vec<&str> {
    view.reasons.iter().filter(|r| r.effect == "denies").map(|r| r.clause.as_str()).collect()
}

on_both_backends! {
    async fn a_request_is_approved_step_by_step_and_becomes_a_grant(backend) {
        let w = World::bureau(backend).await;
        let before = w.size().await;
        let r = w.request("ANA", "cps-os-0", "1.2.4", "standing", "2026-12-31").await;
        assert_eq!(r.status, "pending", "{r:?}");
        assert_eq!(r.reasons[0].clause, "1.2.4");
        assert!(r.reasons[0].message.contains("permitted by 1.2.4"), "{:?}", r.reasons);
        // CPS is critical: the division, the service, then the Deputy Commissioner.
        let units: Vec<&str> = r.steps.iter().map(|s| s.unit.as_str()).collect();
        assert_eq!(units, ["SMD", "TMS", "MISTG"]);
        assert_eq!(r.steps[0].eligible, ["CHIEF-SMD"]);
        let inbox = w.service.inbox("CHIEF-SMD").await.unwrap();
        assert!(inbox[0].subject.contains(&r.id), "{inbox:?}");

        // Out of order: the Director approves step 2, not step 1.
        let early = w.approve("DIR-TMS", &r.id).await.unwrap_err();
        assert!(matches!(early, ServiceError::Forbidden(_)), "{early}");
        assert!(early.to_string().contains("head of SMD (CHIEF-SMD)"), "{early}");

        let r = w.approve("CHIEF-SMD", &r.id).await.unwrap();
        assert_eq!((r.status.as_str(), r.steps[1].eligible.clone()), ("pending", vec!["DIR-TMS".to_owned()]));
        let again = w.approve("CHIEF-SMD", &r.id).await.unwrap_err();
        assert!(again.to_string().contains("approved an earlier step"), "{again}");
        let r = w.approve("DIR-TMS", &r.id).await.unwrap();
        let r = w.approve("DC", &r.id).await.unwrap();
        assert_eq!(r.status, "approved");
        let approvers: Vec<_> = r.steps.iter().map(|s| s.approver.clone().unwrap()).collect();
        assert_eq!(approvers, ["CHIEF-SMD", "DIR-TMS", "DC"]);
        let grant_id = r.grant.clone().expect("a grant");
        let grants = w.service.grants_of("ANA").await.unwrap();
        let grant = grants.iter().find(|g| g.id == grant_id).unwrap();
        assert_eq!((grant.status.as_str(), grant.clause.as_str(), grant.request.as_deref()), ("active", "1.2.4", Some(r.id.as_str())));
        assert_eq!(grant.valid_until, Some(crate::at("2026-12-31")));

        // The ledger shows each step; each approval is bound to the request's own leaf.
        let kinds = w.kinds_since(before).await;
        let lifecycle: Vec<&str> = kinds.iter().map(String::as_str).filter(|k| !k.starts_with("notification")).collect();
        assert_eq!(lifecycle, ["request.submitted", "request.approved", "request.approved", "request.approved", "grant.recorded"]);
        let events = w.events().await;
        let submitted = events.iter().find(|e| e["kind"] == "request.submitted").unwrap();
        let leaf = w.service.store().leaf(submitted["seq"].as_u64().unwrap()).await.unwrap().unwrap();
        for approval in events.iter().filter(|e| e["kind"] == "request.approved") {
            assert_eq!(approval["body"]["digest"], hex::encode(leaf));
        }
        assert_eq!(events.iter().filter(|e| e["kind"] == "request.approved").map(|e| e["actor"].as_str().unwrap()).collect::<Vec<_>>(), ["CHIEF-SMD", "DIR-TMS", "DC"]);
        // Requester is told.
        assert!(w.service.inbox("ANA").await.unwrap().iter().any(|n| n.subject.contains("approved")));
        // Replaying the ledger rebuilds exactly the live state.
        assert_eq!(w.service.store().replay_differences().await.unwrap(), Vec::<String>::new());
    }

    async fn nobody_approves_their_own_request(backend) {
        let w = World::bureau(backend).await;
        // The Chief of SMD asks for himself: the SMD step goes to the head above him.
        let own = w.request("CHIEF-SMD", "comms-os-0", "1.2.4", "standing", "2026-12-31").await;
        assert_eq!(own.steps[0].eligible, ["DIR-TMS"], "{own:?}");
        let e = w.approve("CHIEF-SMD", &own.id).await.unwrap_err();
        assert!(matches!(e, ServiceError::Refused(_)) && e.to_string().contains("nobody approves their own request"), "{e}");
        // The Chief asks for ANA: neither he (the requester) nor ANA may approve.
        let form = RequestForm { person: Some("ANA".into()), resource: "comms-os-0".into(), clause: "1.2.4".into(),
            kind: "standing".into(), valid_from: None, valid_until: "2026-12-20".into() };
        let for_ana = w.service.submit(&Actor::person("CHIEF-SMD"), &form).await.unwrap();
        assert_eq!((for_ana.requester.as_str(), for_ana.person.as_str()), ("CHIEF-SMD", "ANA"));
        for who in ["CHIEF-SMD", "ANA"] {
            let e = w.approve(who, &for_ana.id).await.unwrap_err();
            assert!(e.to_string().contains("nobody approves their own request"), "{who}: {e}");
        }
        // A colleague cannot ask on ANA's behalf.
        let e = w.service.submit(&Actor::person("CARL"), &form).await.unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden(_)), "{e}");
    }

    async fn approval_outside_the_chain_is_refused(backend) {
        let w = World::bureau(backend).await;
        let r = w.request("ANA", "comms-os-0", "1.2.4", "standing", "2026-12-31").await;
        for outsider in ["CARL", "CHIEF-SDD", "CHIEF-TSD", "BEN"] {
            let e = w.approve(outsider, &r.id).await.unwrap_err();
            assert!(matches!(e, ServiceError::Forbidden(_)), "{outsider}: {e}");
            assert!(e.to_string().contains("it is for the head of SMD (CHIEF-SMD)"), "{e}");
        }
        assert_eq!(w.service.view(&r.id).await.unwrap().status, "pending");
    }

    async fn withdrawn_and_expired_requests_cannot_be_approved(backend) {
        let w = World::bureau(backend).await;
        let r = w.request("ANA", "comms-os-0", "1.2.4", "standing", "2026-12-31").await;
        let e = w.service.withdraw(&Actor::person("CARL"), &r.id).await.unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden(_)), "{e}");
        assert_eq!(w.service.withdraw(&Actor::person("ANA"), &r.id).await.unwrap().status, "withdrawn");
        let e = w.approve("CHIEF-SMD", &r.id).await.unwrap_err();
        assert!(matches!(e, ServiceError::Refused(_)) && e.to_string().contains("withdrawn"), "{e}");

        // Just in time for four hours; nobody approves before it runs out.
        let jit = w.request("ANA", "comms-os-0", "1.2.4", "just_in_time", "2026-12-01T12:00").await;
        w.advance(5 * 3600);
        let e = w.approve("CHIEF-SMD", &jit.id).await.unwrap_err();
        assert!(matches!(e, ServiceError::Refused(_)) && e.to_string().contains("expired"), "{e}");
        assert_eq!(w.service.view(&jit.id).await.unwrap().status, "expired");
        let e = w.approve("CHIEF-SMD", &jit.id).await.unwrap_err();
        assert!(e.to_string().contains("expired at 2026-12-01T12:00:00+08:00"), "{e}");
        assert!(w.events().await.iter().any(|e| e["kind"] == "request.expired" && e["body"]["id"] == jit.id.as_str()));
    }

    async fn a_duty_of_another_unit_is_refused_citing_4_1(backend) {
        let w = World::bureau(backend).await;
        let r = w.request("BEN", "cps-os-0", "1.2.4", "standing", "2026-12-31").await;
        assert_eq!(r.status, "refused");
        assert_eq!(deny_clauses(&r), ["4.1"]);
        assert!(r.reasons[0].message.contains("1.2.4 Systems and network administration is a duty of SMD, and BEN is in SDD"), "{:?}", r.reasons);
        assert!(r.steps.iter().all(|s| s.eligible.is_empty()));
        assert!(w.service.inbox("CHIEF-SDD").await.unwrap().is_empty(), "nobody is asked to approve a refused request");
    }

    async fn separation_of_duties_counts_grants_from_before_and_after_a_realignment(backend) {
        let w = World::bureau(backend).await;
        // DINA's records, imported: SMD (with CPS os), then SDD (with CPS database), now TSD.
        w.import(vec![
            ("person.recorded", serde_json::json!({"id": "DINA", "name": "Dina Reyes"})),
            ("person.assigned", serde_json::json!({"person": "DINA", "unit": "SMD", "valid_from": crate::at("2026-01-01"), "order": "CPO-2026-0001"})),
        ]).await;
        w.legacy_grant("G-os", "DINA", "cps-os-0", "1.2.4", "2026-01-10", "2027-06-01").await;
        w.import(vec![("person.assigned", serde_json::json!({"person": "DINA", "unit": "SDD", "valid_from": crate::at("2026-04-01"), "order": "CPO-2026-0040"}))]).await;
        w.legacy_grant("G-db", "DINA", "cps-db-0", "2.2.1", "2026-04-10", "2027-06-01").await;
        w.import(vec![("person.assigned", serde_json::json!({"person": "DINA", "unit": "TSD", "valid_from": crate::at("2026-09-01"), "order": "CPO-2026-0090"}))]).await;

        // 1.3.1 gives TSD the CPS application: 4.1 permits, 4.2 refuses.
        let r = w.request("DINA", "cps-app-0", "1.3.1", "standing", "2026-12-31").await;
        assert_eq!(r.status, "refused");
        assert_eq!(deny_clauses(&r), ["4.2"], "{:?}", r.reasons);
        let why = &r.reasons.iter().find(|x| x.clause == "4.2").unwrap().message;
        assert!(why.contains("os, database and application on CPS"), "{why}");
        assert!(why.contains("os on cps-os-0 (1.2.4)") && why.contains("database on cps-db-0 (2.2.1)"), "{why}");
        assert!(r.reasons.iter().any(|x| x.clause == "1.3.1" && x.effect == "permits"));
    }

    async fn a_grant_starting_within_the_period_counts_too(backend) {
        let w = World::bureau(backend).await;
        w.import(vec![("person.recorded", serde_json::json!({"id": "EVE", "name": "Eve Cruz"})),
            ("person.assigned", serde_json::json!({"person": "EVE", "unit": "TSD", "valid_from": crate::at("2026-01-01"), "order": "CPO-2026-0002"}))]).await;
        w.legacy_grant("G-os", "EVE", "cps-os-0", "1.2.4", "2026-01-10", "2027-06-01").await;
        // The database grant starts in a week: the application from now would overlap it.
        w.legacy_grant("G-db", "EVE", "cps-db-0", "2.2.1", "2026-12-08", "2027-06-01").await;
        let r = w.request("EVE", "cps-app-0", "1.3.1", "standing", "2026-12-31").await;
        assert_eq!((r.status.as_str(), deny_clauses(&r)), ("refused", vec!["4.2"]));
        // Ending before it starts is fine.
        let r = w.request("EVE", "cps-app-0", "1.3.1", "standing", "2026-12-07").await;
        assert_eq!(r.status, "pending", "{:?}", r.reasons);
    }

    async fn approval_checks_the_request_again(backend) {
        let w = World::bureau(backend).await;
        let r = w.request("CARL", "cps-app-0", "1.3.1", "standing", "2026-12-31").await;
        assert_eq!(r.status, "pending");
        // Meanwhile an import shows CARL holding CPS os and database.
        w.legacy_grant("G-os", "CARL", "cps-os-0", "1.2.4", "2026-01-10", "2027-06-01").await;
        w.legacy_grant("G-db", "CARL", "cps-db-0", "2.2.1", "2026-01-10", "2027-06-01").await;
        let r = w.approve("CHIEF-TSD", &r.id).await.unwrap();
        assert_eq!(r.status, "refused");
        assert_eq!(deny_clauses(&r), ["4.2"]);
        assert!(r.grant.is_none());
        assert!(w.events().await.iter().any(|e| e["kind"] == "request.refused" && e["actor"] == "CHIEF-TSD"));
    }

    async fn bad_input_is_named_and_writes_nothing(backend) {
        let w = World::bureau(backend).await;
        let before = w.size().await;
        let form = |resource: &str, clause: &str, kind: &str, from: Option<&str>, until: &str| RequestForm {
            person: None, resource: resource.into(), clause: clause.into(), kind: kind.into(),
            valid_from: from.map(Into::into), valid_until: until.into(),
        };
        let cases = [
            (form("cps-os-0", "1.2.4", "standing", None, "2026-12-31"), "person", "no person `NOBODY`", "NOBODY"),
            (form("cps-os-9", "1.2.4", "standing", None, "2026-12-31"), "resource", "no resource `cps-os-9`", "ANA"),
            (form("cps-os-0", "9.9", "standing", None, "2026-12-31"), "clause", "not a duty of the order", "ANA"),
            (form("cps-os-0", "one", "standing", None, "2026-12-31"), "clause", "not a clause number", "ANA"),
            (form("cps-os-0", "1.2.4", "forever", None, "2026-12-31"), "kind", "standing or just_in_time", "ANA"),
            (form("cps-os-0", "1.2.4", "standing", None, "2027-12-31"), "valid_until", "at most 180 days under 4.1", "ANA"),
            (form("cps-os-0", "1.2.4", "just_in_time", None, "2026-12-02"), "valid_until", "at most 12 hours", "ANA"),
            (form("cps-os-0", "1.2.4", "standing", Some("2026-11-01"), "2026-12-31"), "valid_from", "is in the past", "ANA"),
            (form("cps-os-0", "1.2.4", "standing", None, "2026-11-30"), "valid_until", "ended already", "ANA"),
            (form("cps-os-0", "1.2.4", "standing", Some("next week"), "2026-12-31"), "valid_from", "not a date or time", "ANA"),
        ];
        for (form, field, words, actor) in cases {
            let e = w.service.submit(&Actor::person(actor), &form).await.unwrap_err();
            let ServiceError::BadInput { field: f, message } = &e else { panic!("{field}: {e:?}") };
            assert_eq!(f, field, "{e}");
            assert!(message.contains(words), "{field}: {message}");
        }
        assert_eq!(w.size().await, before, "no event for bad input");
    }

    async fn racing_approvals_from_two_servers_cannot_break_4_2(backend) {
        let w = World::bureau(backend).await;
        // FE serves in SDD (a detail until 2027) and in TSD, and holds CPS os: the CPS
        // database (2.2.1, SDD) and application (1.3.1, TSD) are each allowed alone, never both.
        w.import(vec![
            ("person.recorded", serde_json::json!({"id": "FE", "name": "Fe Lim"})),
            ("person.assigned", serde_json::json!({"person": "FE", "unit": "SDD", "valid_from": crate::at("2026-01-01"), "valid_until": crate::at("2027-12-31"), "order": "CPO-2026-0003"})),
            ("person.assigned", serde_json::json!({"person": "FE", "unit": "TSD", "valid_from": crate::at("2026-02-01"), "order": "CPO-2026-0004"})),
        ]).await;
        w.legacy_grant("G-os", "FE", "cps-os-0", "1.2.4", "2026-01-10", "2027-06-01").await;
        let db = w.request("FE", "cps-db-0", "2.2.1", "standing", "2026-12-31").await;
        let app = w.request("FE", "cps-app-0", "1.3.1", "standing", "2026-12-31").await;
        // Each chain starts at the unit whose duty is cited.
        assert_eq!(db.steps.iter().map(|s| s.unit.as_str()).collect::<Vec<_>>(), ["SDD", "PSDS", "MISTG"]);
        assert_eq!(app.steps.iter().map(|s| s.unit.as_str()).collect::<Vec<_>>(), ["TSD", "TMS", "MISTG"]);
        for (id, approvers) in [(&db.id, ["CHIEF-SDD", "DIR-PSDS"]), (&app.id, ["CHIEF-TSD", "DIR-TMS"])] {
            for a in approvers {
                w.approve(a, id).await.unwrap();
            }
        }
        // The last approvals race on two servers (two stores over one database).
        let other = w.second_server().await;
        let dc = Actor::person("DC");
        let (a, b) = tokio::join!(w.service.approve(&dc, &db.id), other.approve(&dc, &app.id));
        let (a, b) = (a.unwrap(), b.unwrap());
        let mut outcomes = [a.status.as_str(), b.status.as_str()];
        outcomes.sort_unstable();
        assert_eq!(outcomes, ["approved", "refused"], "exactly one wins");
        let refused = if a.status == "refused" { &a } else { &b };
        assert_eq!(deny_clauses(refused), ["4.2"], "{:?}", refused.reasons);
        let held: Vec<String> = w.service.grants_of("FE").await.unwrap().into_iter().map(|g| g.resource).collect();
        assert_eq!(held.len(), 2, "os and one of database or application: {held:?}");
        assert!(w.service.store().verify(&bantay_store::Trust::default()).await.unwrap().problem.is_none());
    }
}

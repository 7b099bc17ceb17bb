//! Section 3: a personnel order re-examines every grant the person holds as of its
//! effective date; what the new unit's duties do not justify is suspended and gets a
//! revocation task; the mover report and the ledger show each step.

use bantay_server::{Actor, AssignmentForm, ServiceError};

use crate::{at, on_both_backends, World};

on_both_backends! {
    async fn moving_from_smd_to_sdd_suspends_os_and_keeps_what_sdd_justifies(backend) {
        let w = World::bureau(backend).await;
        // ANA (SMD) holds CPS os through the whole chain, and a database grant citing
        // SDD's 2.2.1 that came with the Bureau's records.
        let r = w.request("ANA", "cps-os-0", "1.2.4", "standing", "2027-03-01").await;
        for approver in ["CHIEF-SMD", "DIR-TMS", "DC"] {
            w.approve(approver, &r.id).await.unwrap();
        }
        let os = w.service.view(&r.id).await.unwrap().grant.unwrap();
        w.legacy_grant("G-db", "ANA", "cps-db-0", "2.2.1", "2026-06-01", "2027-03-01").await;
        let before = w.size().await;

        let order = AssignmentForm { person: "ANA".into(), unit: "SDD".into(), order: "CPO-2026-0142".into(),
            effective: "2026-12-05".into(), head: false };
        let report = w.service.assign(&w.operator(), &order).await.unwrap();
        assert_eq!((report.from_units.clone(), report.to_unit.as_str()), (vec!["SMD".to_owned()], "SDD"));
        assert_eq!(report.suspended.len(), 1, "{report:?}");
        let suspended = &report.suspended[0];
        assert_eq!((suspended.grant.as_str(), suspended.resource.as_str()), (os.as_str(), "cps-os-0"));
        assert!(suspended.reason.contains("1.2.4 Systems and network administration is a duty of SMD, and ANA is in SDD"), "{}", suspended.reason);
        assert_eq!(suspended.due.as_deref(), Some("2026-12-08"));
        assert_eq!(report.kept.len(), 1);
        assert_eq!(report.kept[0].grant, "G-db");
        assert!(report.kept[0].reason.contains("permitted by 2.2.1"), "{}", report.kept[0].reason);

        // Suspended from the effective date: held until then, not after.
        let grants = w.service.grants_of("ANA").await.unwrap();
        let g = grants.iter().find(|g| g.id == os).unwrap();
        assert_eq!((g.status.as_str(), g.valid_until), ("suspended", Some(at("2026-12-05"))));
        assert_eq!(grants.iter().find(|g| g.id == "G-db").unwrap().status, "active");

        let kinds = w.kinds_since(before).await;
        assert_eq!(kinds, ["person.assigned", "grant.suspended", "task.opened", "notification.queued"]);
        let events = w.events().await;
        let suspension = events.iter().find(|e| e["kind"] == "grant.suspended").unwrap();
        assert_eq!(suspension["body"]["order"], "CPO-2026-0142");
        assert_eq!(suspension["body"]["from"], at("2026-12-05"));

        // After the move, the os privilege is refused afresh (4.1).
        w.set("2026-12-06T09:00");
        let again = w.request("ANA", "cps-os-0", "1.2.4", "standing", "2026-12-31").await;
        assert_eq!(again.status, "refused");

        // The task is confirmed with evidence by someone other than ANA; the grant is revoked.
        let task = suspended.task.clone().unwrap();
        let e = w.service.complete_task(&Actor::person("ANA"), &task, "removed").await.unwrap_err();
        assert!(matches!(e, ServiceError::Refused(_)), "{e}");
        let e = w.service.complete_task(&Actor::person("CHIEF-SMD"), &task, " ").await.unwrap_err();
        assert!(matches!(e, ServiceError::BadInput { .. }), "{e}");
        w.service.complete_task(&Actor::person("CHIEF-SMD"), &task, "ticket OPS-118: ana removed from wheel on cps-os-0").await.unwrap();
        let g = w.service.grants_of("ANA").await.unwrap().into_iter().find(|g| g.id == os).unwrap();
        assert_eq!(g.status, "revoked");
        let e = w.service.complete_task(&Actor::person("CHIEF-SMD"), &task, "again").await.unwrap_err();
        assert!(e.to_string().contains("done already"), "{e}");
        // Replaying the ledger rebuilds exactly the live state.
        assert_eq!(w.service.store().replay_differences().await.unwrap(), Vec::<String>::new());
    }

    async fn personnel_orders_need_authority_over_both_units(backend) {
        let w = World::bureau(backend).await;
        let order = AssignmentForm { person: "ANA".into(), unit: "SDD".into(), order: "CPO-2026-0150".into(),
            effective: "2026-12-05".into(), head: false };
        // The Chief of SDD heads the new unit but not ANA's present one.
        let e = w.service.assign(&Actor::person("CHIEF-SDD"), &order).await.unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden(_)), "{e}");
        // The Deputy Commissioner heads MISTG, over both.
        w.service.assign(&Actor::person("DC"), &order).await.unwrap();
        let bad = AssignmentForm { unit: "XYZ".into(), ..order.clone() };
        let e = w.service.assign(&Actor::person("DC"), &bad).await.unwrap_err();
        assert!(matches!(&e, ServiceError::BadInput { field, .. } if field == "unit"), "{e}");
        let bad = AssignmentForm { order: "".into(), ..order.clone() };
        assert!(matches!(w.service.assign(&Actor::person("DC"), &bad).await.unwrap_err(), ServiceError::BadInput { .. }));
    }
}

//! Access reviews: standing grants go to the head of the holder's unit; what is not
//! confirmed by the deadline is revoked.

use bantay_server::{Actor, ReviewDecision, ReviewForm, ServiceError};

use crate::{on_both_backends, World};

on_both_backends! {
    async fn unconfirmed_grants_are_revoked_at_the_deadline(backend) {
        let w = World::bureau(backend).await;
        w.legacy_grant("G-ana-os", "ANA", "cps-os-0", "1.2.4", "2026-06-01", "2027-06-01").await;
        w.legacy_grant("G-ana-comms", "ANA", "comms-os-0", "1.2.4", "2026-06-01", "2027-06-01").await;
        w.legacy_grant("G-ben-db", "BEN", "cps-db-0", "2.2.1", "2026-06-01", "2027-06-01").await;
        w.legacy_grant("G-short", "BEN", "cps-db-0", "2.2.1", "2026-11-01", "2026-12-03").await;
        let form = ReviewForm { title: "Q4 2026 privileged access".into(), deadline: "2026-12-10".into() };
        let e = w.service.open_review(&Actor::person("CHIEF-SMD"), &form).await.unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden(_)), "{e}");
        let review = w.service.open_review(&Actor::person("DC"), &form).await.unwrap();
        let who: Vec<(&str, &str)> = review.items.iter().map(|i| (i.grant.as_str(), i.reviewer.as_str())).collect();
        // Ends before the deadline: not standing, not reviewed.
        assert_eq!(who, [("G-ana-comms", "CHIEF-SMD"), ("G-ana-os", "CHIEF-SMD"), ("G-ben-db", "CHIEF-SDD")]);
        assert!(w.service.inbox("CHIEF-SDD").await.unwrap()[0].subject.contains(&review.id));
        // The scheduler wakes for the first thing to end: G-short, before the deadline.
        assert_eq!(w.service.store().next_due(w.now()).await.unwrap(), Some(crate::at("2026-12-03")));

        let confirm = |grant: &str, decision: &str| ReviewDecision { grant: grant.into(), decision: decision.into() };
        let e = w.service.decide_review(&Actor::person("CHIEF-SDD"), &review.id, &confirm("G-ana-os", "confirmed")).await.unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden(_)), "{e}");
        w.service.decide_review(&Actor::person("CHIEF-SMD"), &review.id, &confirm("G-ana-os", "confirmed")).await.unwrap();
        w.service.decide_review(&Actor::person("CHIEF-SDD"), &review.id, &confirm("G-ben-db", "revoked")).await.unwrap();
        let e = w.service.decide_review(&Actor::person("CHIEF-SMD"), &review.id, &confirm("G-ana-os", "revoked")).await.unwrap_err();
        assert!(e.to_string().contains("confirmed already"), "{e}");
        let e = w.service.decide_review(&Actor::person("CHIEF-SMD"), &review.id, &confirm("G-ana-os", "maybe")).await.unwrap_err();
        assert!(matches!(e, ServiceError::BadInput { .. }), "{e}");

        w.set("2026-12-10T00:00:01");
        let swept = w.service.sweep().await.unwrap();
        assert_eq!(swept.reviews_closed, std::slice::from_ref(&review.id));
        assert_eq!(swept.grants_revoked_by_review, ["G-ana-comms"]);
        let status = |person: &'static str, id: &'static str| {
            let service = w.service.clone();
            async move { service.grants_of(person).await.unwrap().into_iter().find(|g| g.id == id).unwrap().status }
        };
        assert_eq!(status("ANA", "G-ana-os").await, "active");
        assert_eq!(status("ANA", "G-ana-comms").await, "revoked");
        assert_eq!(status("BEN", "G-ben-db").await, "revoked");
        assert_eq!(status("BEN", "G-short").await, "expired");
        let events = w.events().await;
        let revoked = events.iter().find(|e| e["kind"] == "grant.revoked" && e["body"]["id"] == "G-ana-comms").unwrap();
        assert!(revoked["body"]["reason"].as_str().unwrap().contains("not confirmed in review"), "{revoked}");
        assert_eq!(w.service.review(&review.id).await.unwrap().status, "closed");
        // Replaying the ledger rebuilds exactly the live state.
        assert_eq!(w.service.store().replay_differences().await.unwrap(), Vec::<String>::new());
    }
}

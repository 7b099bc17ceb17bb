//! Enforcement on a real PostgreSQL server: an approved database privilege becomes a
//! role membership there, leaves it when the grant ends or is suspended, and a
//! membership nobody granted through Bantay is a drift finding.

use bantay_server::Targets;
use bantay_store::testing::postgres_admin_url;
use sqlx::{Connection, PgConnection};

use crate::{on_both_backends, World};

/// Roles of one test on the shared server, dropped at the end.
pub(crate) struct Roles {
    pub(crate) prefix: String,
    created: Vec<String>,
}

impl Roles {
    pub(crate) async fn admin() -> PgConnection {
        PgConnection::connect(&postgres_admin_url())
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {} is needed: {e}", postgres_admin_url()))
    }

    pub(crate) fn new() -> Self {
        Self { prefix: format!("bt{:08x}_", rand::random::<u32>()), created: Vec::new() }
    }

    pub(crate) fn name(&self, id: &str) -> String {
        format!("{}{id}", self.prefix)
    }

    pub(crate) async fn create(&mut self, id: &str, login: bool) -> String {
        self.create_as(id, if login { "LOGIN" } else { "NOLOGIN" }).await
    }

    /// A role with the attributes given as in `CREATE ROLE` (`LOGIN SUPERUSER`, …).
    pub(crate) async fn create_as(&mut self, id: &str, attributes: &str) -> String {
        let name = self.name(id);
        let sql = format!("CREATE ROLE \"{name}\" {attributes}");
        sqlx::query(&sql).execute(&mut Self::admin().await).await.unwrap();
        self.created.push(name.clone());
        name
    }

    async fn members(&self, role: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT m.rolname::text FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid \
             JOIN pg_roles m ON m.oid = am.member WHERE r.rolname = $1 ORDER BY 1",
        )
        .bind(role)
        .fetch_all(&mut Self::admin().await)
        .await
        .unwrap()
    }

    pub(crate) async fn drop_all(&self) {
        let mut admin = Self::admin().await;
        for role in self.created.iter().rev() {
            let _ =
                sqlx::query(&format!("DROP ROLE IF EXISTS \"{role}\"")).execute(&mut admin).await;
        }
    }
}

on_both_backends! {
    async fn a_grant_is_enforced_on_postgres_until_it_ends_and_drift_is_found(backend) {
        let mut roles = Roles::new();
        let dba = roles.create("cps_dba", false).await;
        let p = roles.prefix.clone();
        for person in ["ben", "intruder", "ana"] {
            roles.create(person, true).await;
        }
        let targets = Targets::parse(&[format!("cpsdb={}", postgres_admin_url())]).unwrap();
        let w = World::bureau_with(backend, targets, &p).await;
        w.resource("cps-db-main", "database", "database", "CPS", Some(("cpsdb", &dba))).await;
        w.person(&format!("{p}ben"), "SDD", false).await;
        w.person(&format!("{p}ana"), "SMD", false).await;
        let ben = format!("{p}ben");

        // Request → the chain's approvals → the role is granted on the server.
        let r = w.request(&ben, "cps-db-main", "2.2.1", "just_in_time", "2026-12-01T12:00").await;
        assert_eq!(r.status, "pending", "{:?}", r.reasons);
        for approver in ["CHIEF-SDD", "DIR-PSDS", "DC"] {
            w.approve(&format!("{p}{approver}"), &r.id).await.unwrap();
        }
        assert!(roles.members(&dba).await.contains(&ben), "granted on the server");
        let enforced = w.service.store().enforcements("cpsdb").await.unwrap();
        assert_eq!((enforced[0].login.as_str(), enforced[0].status.as_str()), (ben.as_str(), "granted"));

        // Expiry: the sweep ends the grant and removes the membership.
        w.set("2026-12-01T12:00:01");
        let swept = w.service.sweep().await.unwrap();
        assert_eq!(swept.grants_expired.len(), 1);
        assert_eq!(swept.reconciled[0].removed, [format!("{dba} {ben}")]);
        assert!(!roles.members(&dba).await.contains(&ben), "removed from the server");
        let g = w.service.grants_of(&ben).await.unwrap().pop().unwrap();
        assert_eq!(g.status, "expired");

        // Behind Bantay's back: a drift finding, with the catalog as evidence; only once.
        let intruder = roles.name("intruder");
        sqlx::query(&format!("GRANT \"{dba}\" TO \"{intruder}\"")).execute(&mut Roles::admin().await).await.unwrap();
        let found = w.service.reconcile("cpsdb").await.unwrap();
        assert_eq!(found.drift, [format!("F-drift-cpsdb-{dba}-{intruder}")]);
        let events = w.events().await;
        let finding = events.iter().find(|e| e["kind"] == "finding.opened" && e["body"]["id"].as_str().unwrap().starts_with("F-drift-")).unwrap();
        assert_eq!(finding["body"]["clause"], "4.1");
        assert!(finding["body"]["evidence"].as_str().unwrap().contains(&format!("`{intruder}` is a member of `{dba}`")));
        assert!(w.service.reconcile("cpsdb").await.unwrap().drift.is_empty(), "not opened twice");
        assert!(roles.members(&dba).await.contains(&intruder), "drift is reported, not silently removed");

        // A realignment suspends a database grant: the membership goes, the task closes
        // itself with the server's evidence, and the grant is revoked.
        let ana = format!("{p}ana");
        w.legacy_grant("G-legacy", &ana, "cps-db-main", "2.2.1", "2026-06-01", "2027-06-01").await;
        w.service.reconcile("cpsdb").await.unwrap();
        assert!(roles.members(&dba).await.contains(&ana));
        let order = bantay_server::AssignmentForm { person: ana.clone(), unit: "TSD".into(),
            order: "CPO-2026-0200".into(), effective: "2026-12-01T12:00:02".into(), head: false };
        w.set("2026-12-01T12:00:03");
        let report = w.service.assign(&w.operator(), &order).await.unwrap();
        assert_eq!(report.suspended.len(), 1, "{report:?}");
        assert!(!roles.members(&dba).await.contains(&ana), "suspension removes the membership");
        let tasks = w.service.store().tasks().await.unwrap();
        let task = tasks.iter().find(|t| t.grant_id == "G-legacy").unwrap();
        assert_eq!(task.status, "done");
        assert!(task.evidence.as_deref().unwrap().starts_with(&format!("REVOKE \"{dba}\" FROM \"{ana}\" on cpsdb")));
        let g = w.service.grants_of(&ana).await.unwrap().into_iter().find(|g| g.id == "G-legacy").unwrap();
        assert_eq!(g.status, "revoked");
        roles.drop_all().await;
        // Replaying the ledger rebuilds exactly the live state.
        assert_eq!(w.service.store().replay_differences().await.unwrap(), Vec::<String>::new());
    }
}

#[tokio::test]
async fn an_unreachable_target_is_reported_not_fatal() {
    let targets =
        Targets::parse(&["down=postgres://postgres@127.0.0.1:9/none".to_owned()]).unwrap();
    let w = World::new(crate::Backend::Sqlite, targets).await;
    let r = w.service.reconcile("down").await.unwrap();
    assert!(r.errors.is_empty(), "no managed roles: nothing to ask the server");
    w.resource("x-db", "database", "database", "CPS", Some(("down", "x_dba"))).await;
    let r = w.service.reconcile("down").await.unwrap();
    assert!(r.errors[0].contains("target `down`: reading role memberships"), "{:?}", r.errors);
    let e = Targets::parse(&["nope".to_owned()]).unwrap_err();
    assert!(e.contains("NAME=postgres://"), "{e}");
}

//! The privileged access that really exists: a Linux host's files, a live PostgreSQL
//! catalog and an application's role export imported, linked to persons, and read
//! against 4.1, 4.2 and 4.5.

use std::path::Path;

use bantay_connect::linux::sudoers::{self, NoIncludes};
use bantay_connect::linux::{parse_group, parse_passwd, privileged_accounts};
use bantay_connect::{privileged_roles, read_app_export, ImportedAccount, PostgresTarget};
use bantay_core::SystemAccount;
use bantay_server::{AccountsImport, Actor, ImportInput, ServiceError, SourceKind};
use bantay_store::testing::postgres_admin_url;
use serde_json::Value;

use crate::enforcement::Roles;
use crate::{on_both_backends, World};

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
svc_cps:x:990:990:CPS services:/opt/cps:/bin/bash
backup:x:991:991:nightly backup:/var/backups:/bin/bash
ana:x:1001:1001:Ana Santos:/home/ana:/bin/bash
carl:x:1002:1002:Carl Santos:/home/carl:/bin/bash
";

const GROUP: &str = "root:x:0:
sudo:x:27:ana,carl
";

const SUDOERS: &str = "Defaults env_reset
%sudo ALL=(ALL:ALL) ALL
svc_cps cps-host1 = (root) NOPASSWD: /usr/bin/systemctl restart cps
backup ALL = (root) NOPASSWD: /usr/bin/rsync
";

fn linux_accounts() -> Vec<ImportedAccount> {
    let policy = sudoers::parse(SUDOERS, "/etc/sudoers", &mut NoIncludes).unwrap();
    let passwd = parse_passwd(PASSWD, "/etc/passwd").unwrap();
    let group = parse_group(GROUP, "/etc/group").unwrap();
    privileged_accounts("cps-host1", &passwd, &group, &policy).into_iter().map(Into::into).collect()
}

fn linux_import(accounts: Vec<ImportedAccount>) -> AccountsImport {
    AccountsImport {
        source: "cps-host1".into(),
        kind: SourceKind::Linux,
        resource: "cps-os-0".into(),
        inputs: vec![ImportInput { name: "/etc/sudoers".into(), sha256: "00".repeat(32) }],
        accounts,
    }
}

fn documented(host: &str, account: &str) -> SystemAccount {
    SystemAccount {
        host: host.into(),
        account: account.into(),
        system: "CPS".into(),
        purpose: "runs the CPS services".into(),
        custodian: "SMD".into(),
        usage: "service".into(),
        origins: vec![],
    }
}

/// The findings opened since ledger position `from`, as (clause, subject, summary).
async fn opened_since(w: &World, from: usize) -> Vec<(String, String, String)> {
    w.events().await[from..]
        .iter()
        .filter(|e| e["kind"] == "finding.opened")
        .map(|e| {
            let b = &e["body"];
            let s = |k: &str| b[k].as_str().unwrap().to_owned();
            (s("clause"), s("subject"), s("summary"))
        })
        .collect()
}

on_both_backends! {
    async fn a_hosts_privileged_accounts_are_linked_checked_and_imported_once(backend) {
        let w = World::bureau(backend).await;
        w.set("2026-12-01T09:00");
        for account in ["root", "svc_cps"] {
            w.service.document_account(&w.operator(), &documented(if account == "root" { "*" } else { "cps-host1" }, account)).await.unwrap();
        }
        let before = w.size().await;
        let done = w.service.import_accounts(&w.operator(), linux_import(linux_accounts())).await.unwrap();
        assert_eq!(done.accounts, 5, "root, svc_cps, backup, ana, carl: {done:?}");
        assert_eq!(done.full_control, 3, "root and the sudo group");
        // Accounts named like a person's mail are linked to them, on record.
        assert_eq!(done.linked, [("ana".into(), "ANA".into()), ("carl".into(), "CARL".into())]);

        let mut found = opened_since(&w, before).await;
        found.sort();
        assert_eq!(found.len(), 3, "{found:#?}");
        assert_eq!(found[0].0, "4.1");
        assert_eq!(found[0].1, "ana@cps-host1");
        assert!(found[0].2.starts_with("ANA (ANA Santos) holds os on cps-os-0 through ana@cps-host1 with no grant on record, though a duty covers it ("), "{}", found[0].2);
        assert!(found[0].2.contains("1.2.4 Systems and network administration"), "{}", found[0].2);
        assert_eq!(found[1].1, "carl@cps-host1");
        assert!(found[1].2.ends_with("and no duty of their units covers it"), "{}", found[1].2);
        assert_eq!(found[2].0, "4.5");
        assert_eq!(found[2].1, "backup@cps-host1");
        assert!(found[2].2.contains("linked to nobody and not documented as a system account"), "{}", found[2].2);
        let events = w.events().await;
        let backup = events.iter().find(|e| e["kind"] == "finding.opened" && e["body"]["subject"] == "backup@cps-host1").unwrap();
        assert_eq!(backup["body"]["evidence"], "sudo /usr/bin/rsync as root (/etc/sudoers:4)");

        // The import event holds the canonical snapshot and its hash; the table says the same.
        let imported = events.iter().rev().find(|e| e["kind"] == "accounts.imported").unwrap();
        assert_eq!(imported["body"]["sha256"], done.sha256.as_str());
        let canonical = serde_json::to_vec(&imported["body"]["accounts"]).unwrap();
        assert_eq!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&canonical)), done.sha256);
        let rows = w.service.held_accounts().await.unwrap();
        let ana = rows.iter().find(|r| r.account == "ana").unwrap();
        assert_eq!((ana.person.as_deref(), ana.full_control, ana.resource.as_str()), (Some("ANA"), 1, "cps-os-0"));

        // The same state again: nothing new, and the same hash.
        let size = w.size().await;
        let again = w.service.import_accounts(&w.operator(), linux_import(linux_accounts())).await.unwrap();
        assert_eq!((again.opened.len(), again.known, again.linked.len()), (0, 3, 0));
        assert_eq!(again.sha256, done.sha256);
        assert_eq!(w.kinds_since(size).await, ["accounts.imported"]);

        // An account removed from the host is gone from the record at the next import.
        // ... and its finding is remediated, saying why.
        let fewer: Vec<ImportedAccount> = linux_accounts().into_iter().filter(|a| a.account != "backup").collect();
        let later = w.service.import_accounts(&w.operator(), linux_import(fewer)).await.unwrap();
        assert_eq!(later.remediated, 1);
        assert!(!w.service.held_accounts().await.unwrap().iter().any(|r| r.account == "backup"));
        let gone = w.service.findings(&Actor::system("test"), "cli").await.unwrap().into_iter().find(|f| f.subject == "backup@cps-host1").unwrap();
        assert_eq!(gone.status, "remediated");
        let events = w.events().await;
        let step = events.iter().rev().find(|e| e["kind"] == "finding.status").unwrap();
        assert!(step["body"]["note"].as_str().unwrap().starts_with("`backup` is no longer on cps-host1 (import "), "{step}");
        assert_eq!(w.service.store().replay_differences().await.unwrap(), Vec::<String>::new());
    }

    async fn a_bad_import_is_refused_whole_and_names_the_field(backend) {
        let w = World::bureau(backend).await;
        let size = w.size().await;
        let mut wrong = linux_import(linux_accounts());
        wrong.resource = "cps-db-0".into();
        let e = w.service.import_accounts(&w.operator(), wrong).await.unwrap_err();
        assert!(matches!(&e, ServiceError::BadInput { field, message } if field == "resource" && message.contains("`cps-db-0` is database access; the accounts of a linux source hold os access")), "{e}");
        let mut missing = linux_import(linux_accounts());
        missing.resource = "cps-os-9".into();
        let e = w.service.import_accounts(&w.operator(), missing).await.unwrap_err();
        assert!(matches!(&e, ServiceError::BadInput { field, .. } if field == "resource"), "{e}");
        let mut unknown = linux_import(linux_accounts());
        unknown.accounts[0].person = Some("NOBODY".into());
        let e = w.service.import_accounts(&w.operator(), unknown).await.unwrap_err();
        assert!(matches!(&e, ServiceError::BadInput { field, message } if field == "person" && message.contains("NOBODY")), "{e}");
        let mut twice = linux_import(linux_accounts());
        twice.accounts.push(twice.accounts[0].clone());
        let e = w.service.import_accounts(&w.operator(), twice).await.unwrap_err();
        assert!(matches!(&e, ServiceError::BadInput { field, .. } if field == "accounts"), "{e}");
        assert_eq!(w.size().await, size, "nothing recorded");
    }

    async fn a_live_catalog_and_an_application_export_complete_a_4_2_breach_once_linked(backend) {
        let mut roles = Roles::new();
        let p = roles.prefix.clone();
        let dba = roles.create_as("dba", "NOLOGIN SUPERUSER").await;
        let ana_db = roles.create_as("ana_db", "LOGIN").await;
        sqlx::query(&format!("GRANT \"{dba}\" TO \"{ana_db}\"")).execute(&mut Roles::admin().await).await.unwrap();
        let maker = roles.create_as("maker", "LOGIN CREATEROLE").await;
        let reader = roles.create_as("reader", "LOGIN").await;
        sqlx::query(&format!("GRANT pg_read_server_files TO \"{reader}\"")).execute(&mut Roles::admin().await).await.unwrap();
        let owner = roles.create_as("owner", "LOGIN").await;
        let database = format!("{p}cps");
        sqlx::query(&format!("CREATE DATABASE \"{database}\" OWNER \"{owner}\"")).execute(&mut Roles::admin().await).await.unwrap();
        let plain = roles.create_as("plain", "LOGIN").await;

        // The catalog as the server holds it, read in one snapshot.
        let server = PostgresTarget::new("cps-db1", &postgres_admin_url()).unwrap();
        let catalog = server.catalog().await.unwrap();
        let ours: Vec<ImportedAccount> = privileged_roles(&catalog, "cps-db1")
            .into_iter()
            .filter(|a| a.account.starts_with(&p))
            .collect();
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{database}\"")).execute(&mut Roles::admin().await).await;
        let summary: Vec<(&str, bool, Vec<&str>)> = ours
            .iter()
            .map(|a| (a.account.as_str(), a.full_control, a.how.iter().map(String::as_str).collect()))
            .collect();
        let expected_owner = format!("owner of database {database} (cps-db1: pg_database)");
        let expected_ana = format!("SUPERUSER through membership in {dba} (cps-db1: pg_roles)");
        assert_eq!(
            summary,
            [
                (ana_db.as_str(), true, vec![expected_ana.as_str()]),
                (maker.as_str(), false, vec!["CREATEROLE (cps-db1: pg_roles)"]),
                (owner.as_str(), false, vec![expected_owner.as_str()]),
                (reader.as_str(), false, vec!["member of pg_read_server_files (cps-db1: pg_auth_members)"]),
            ],
            "the login roles with privileged access, and not {plain}"
        );

        let w = World::bureau(backend).await;
        w.set("2026-12-01T09:00");
        // ANA holds os on CPS by a grant, and is the application's administrator.
        w.legacy_grant("G-ana-os", "ANA", "cps-os-0", "1.2.4", "2026-01-01", "2027-01-01").await;
        let dir = tempfile::tempdir().unwrap();
        let export = dir.path().join("cps-roles.csv");
        std::fs::write(&export, "account,role,level,person\nana.santos,CPS Administrator,admin,ANA\nana.santos,Examiner,user,ANA\nexaminer1,Examiner,user,\n").unwrap();
        let app = read_app_export(&std::fs::read_to_string(&export).unwrap(), &export).unwrap();
        assert_eq!(app.len(), 1, "users are not privileged: {app:?}");
        w.service.import_accounts(&w.operator(), AccountsImport {
            source: "CPS".into(), kind: SourceKind::Application, resource: "cps-app-0".into(),
            inputs: vec![], accounts: app,
        }).await.unwrap();
        let before = w.size().await;
        let db = w.service.import_accounts(&w.operator(), AccountsImport {
            source: "cps-db1".into(), kind: SourceKind::Postgres, resource: "cps-db-0".into(),
            inputs: vec![ImportInput { name: "postgresql://cps-db1".into(), sha256: "11".repeat(32) }],
            accounts: ours,
        }).await.unwrap();
        assert!(db.linked.is_empty(), "role names are no person's");
        let found = opened_since(&w, before).await;
        assert_eq!(found.len(), 4, "every privileged role linked to nobody: {found:#?}");
        assert!(found.iter().all(|(clause, _, _)| clause == "4.5"));

        // Linking the superuser's login to ANA closes its 4.5 finding and opens 4.1 (no
        // grant on the database) and 4.2 (os by grant, database and application by account).
        let size = w.size().await;
        let opened = w.service.link_account(&w.operator(), "cps-db1", &ana_db, "ANA", "ANA's login per the DBA roster").await.unwrap();
        assert_eq!(opened.len(), 2, "{opened:?}");
        let events = w.events().await;
        let closed = events[size..].iter().find(|e| e["kind"] == "finding.status").unwrap();
        assert_eq!(closed["body"]["status"], "remediated");
        assert!(closed["body"]["note"].as_str().unwrap().starts_with("linked to ANA"));
        let breach: &Value = events[size..].iter().find(|e| e["kind"] == "finding.opened" && e["body"]["clause"] == "4.2").unwrap();
        assert_eq!(breach["body"]["subject"], "ANA");
        assert_eq!(breach["body"]["summary"], "ANA (ANA Santos) holds os, database, application on CPS, more than 2 of os, database, application");
        let evidence = breach["body"]["evidence"].as_str().unwrap();
        assert!(evidence.contains("os on cps-os-0 (grant citing 1.2.4)"), "{evidence}");
        assert!(evidence.contains(&format!("database on cps-db-0 (account {ana_db}@cps-db1)")), "{evidence}");
        assert!(evidence.contains("application on cps-app-0 (account ana.santos@CPS)"), "{evidence}");
        let again = w.service.link_account(&w.operator(), "cps-db1", &ana_db, "ANA", "again").await.unwrap_err();
        assert!(matches!(again, ServiceError::Refused(_)), "{again}");
        assert_eq!(w.service.store().replay_differences().await.unwrap(), Vec::<String>::new());
        roles.drop_all().await;
    }
}

#[test]
fn an_application_export_with_a_bad_row_names_the_line_and_field() {
    let path = Path::new("cps-roles.csv");
    let e = read_app_export("account,role,level\njdc,Admin,superadmin\n", path).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cps-roles.csv:2: field `level`: `superadmin`: write admin, privileged or user"
    );
    let e = read_app_export("account,role\njdc,Admin\n", path).unwrap_err();
    assert!(
        e.to_string().starts_with("cps-roles.csv:1: the header must name account, role and level"),
        "{e}"
    );
    let e = read_app_export("{\"accounts\": [{\"account\": \"a\", \"role\": \"r\"}]}", path)
        .unwrap_err();
    assert!(e.to_string().contains("missing field `level`"), "{e}");
    let ok = read_app_export(
        r#"{"accounts": [{"account": "a", "role": "CPS Admin", "level": "admin"}]}"#,
        path,
    )
    .unwrap();
    assert_eq!(ok[0].how, ["role CPS Admin (admin) (cps-roles.csv:1)"]);
}

/// A realignment reads the person's accounts on real systems again once it is in force.
mod realigned {
    use bantay_server::AssignmentForm;

    use super::{linux_accounts, linux_import, opened_since};
    use crate::{on_both_backends, World};

    on_both_backends! {
        async fn an_account_whose_grant_a_realignment_suspends_is_a_4_1_finding(backend) {
            let w = World::bureau(backend).await;
            w.set("2026-12-01T09:00");
            w.legacy_grant("G-ana-os", "ANA", "cps-os-0", "1.2.4", "2026-01-01", "2027-01-01").await;
            w.service.import_accounts(&w.operator(), linux_import(linux_accounts())).await.unwrap();
            let before = w.size().await;
            assert!(opened_since(&w, 0).await.iter().all(|f| f.1 != "ana@cps-host1"), "ANA's grant covers her account");

            let order = AssignmentForm { person: "ANA".into(), unit: "SDD".into(), order: "CPO-2026-0142".into(),
                effective: "2026-12-01T09:00".into(), head: false };
            let report = w.service.assign(&w.operator(), &order).await.unwrap();
            assert_eq!(report.suspended.len(), 1, "{report:?}");
            assert_eq!(report.held_findings.len(), 1, "{report:?}");
            let found = opened_since(&w, before).await;
            assert_eq!(found.len(), 1, "{found:#?}");
            assert_eq!((found[0].0.as_str(), found[0].1.as_str()), ("4.1", "ana@cps-host1"));
            assert!(found[0].2.contains("with no grant on record, and no duty of their units covers it"), "{}", found[0].2);
        }
    }
}

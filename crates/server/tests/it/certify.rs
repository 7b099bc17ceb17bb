//! Certified extracts (1.3.7) against a real PostgreSQL source: a true extract
//! certifies (CSV and JSON lines) and checks offline; a changed cell, a missing or an
//! extra row is named; forged and altered certificates fail; bad input issues nothing.

use bantay_ledger::certificate::{Certificate, CertificateProblem};
use bantay_server::{Actor, ServiceError};
use bantay_store::testing::TestDatabase;
use sqlx::{Connection, PgConnection};

use crate::{Backend, World};

/// A source database with a small declarations table.
async fn source() -> TestDatabase {
    let db = TestDatabase::postgres().await.unwrap_or_else(|e| panic!("{e}"));
    let mut conn = PgConnection::connect(&db.url_text()).await.unwrap();
    for sql in [
        "CREATE TABLE declarations (id integer PRIMARY KEY, importer text NOT NULL, duty numeric(12,2), cleared boolean, note text)",
        "INSERT INTO declarations VALUES (1, 'ACME Trading', 1250.50, true, NULL), (2, 'Cebu, \"Pacific\" Lines', 0.00, false, ''), (3, 'Davao Fresh', NULL, true, 'line one\nline two')",
    ] {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    db
}

const QUERY: &str = "SELECT id, importer, duty, cleared, note FROM declarations ORDER BY id";

const TRUE_CSV: &str = "id,importer,duty,cleared,note\n1,ACME Trading,1250.50,true,\n2,\"Cebu, \"\"Pacific\"\" Lines\",0.00,false,\"\"\n3,Davao Fresh,,true,\"line one\nline two\"\n";

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extracts_are_certified_against_a_real_postgres_and_checked_offline() {
    let source = source().await;
    let w = World::bureau(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let carl = Actor::person("CARL"); // TSD, whose duty 1.3.7 certifies extracts
    let url = source.url_text();

    let csv = write(dir.path(), "declarations.csv", TRUE_CSV);
    let cert = w.service.certify(&carl, &url, QUERY, &csv).await.unwrap();
    assert_eq!((cert.certified.rows, cert.certified.officer.as_str()), (3, "CARL"));
    assert_eq!(cert.certified.columns, ["id", "importer", "duty", "cleared", "note"]);
    assert!(!cert.certified.source.contains("password"));
    let seq = cert.ledger_seq.unwrap();
    let events = w.events().await;
    assert_eq!(events[seq as usize]["kind"], "extract.certified");
    assert_eq!(
        events[seq as usize]["body"]["certificate"]["certified"]["content_sha256"],
        cert.certified.content_sha256
    );

    // Offline: the certificate, the file and the public key alone.
    let key = w.service.store().current_key().await.unwrap().unwrap().1;
    let file = bantay_connect::read_extract(&csv, &cert.certified.columns).unwrap();
    assert_eq!(cert.check(&key, &file), Ok(()));
    let mut altered = cert.clone();
    altered.certified.rows = 2;
    assert_eq!(altered.check(&key, &file), Err(CertificateProblem::BadSignature));
    let forger = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let forged = Certificate::sign(cert.certified.clone(), &forger);
    assert!(matches!(forged.check(&key, &file), Err(CertificateProblem::UntrustedKey { .. })));
    let edited = write(dir.path(), "edited.csv", &TRUE_CSV.replace("1250.50", "1250.00"));
    let edited = bantay_connect::read_extract(&edited, &cert.certified.columns).unwrap();
    assert!(matches!(cert.check(&key, &edited), Err(CertificateProblem::Content(_))));

    // The same rows as JSON lines certify too (numbers as written, NULL as null).
    let jsonl = write(dir.path(), "declarations.jsonl", concat!(
        "{\"id\": 1, \"importer\": \"ACME Trading\", \"duty\": 1250.50, \"cleared\": true, \"note\": null}\n",
        "{\"id\": 2, \"importer\": \"Cebu, \\\"Pacific\\\" Lines\", \"duty\": 0.00, \"cleared\": false, \"note\": \"\"}\n",
        "{\"id\": 3, \"importer\": \"Davao Fresh\", \"duty\": null, \"cleared\": true, \"note\": \"line one\\nline two\"}\n",
    ));
    let cert2 = w.service.certify(&carl, &url, QUERY, &jsonl).await.unwrap();
    assert_eq!(cert2.certified.content_sha256, cert.certified.content_sha256, "one canonical form");

    // Mismatches are named by row and column, and issue nothing.
    let size = w.size().await;
    for (text, words) in [
        (TRUE_CSV.replace("Davao Fresh", "Davao Frsh"), "row 3, column `importer`: the source holds \"Davao Fresh\", the extract \"Davao Frsh\""),
        (TRUE_CSV.replace("1,ACME Trading,1250.50,true,\n", ""), "row 1, column `id`"),
        (TRUE_CSV.lines().take(3).map(|l| format!("{l}\n")).collect::<String>(), "row 3 is missing from the extract (the source has 3 rows, the extract 2)"),
        (format!("{TRUE_CSV}4,Extra Co,1.00,true,\n"), "row 4 of the extract is not in the source"),
        (TRUE_CSV.replace("1,ACME Trading,1250.50,true,\n", "1,ACME Trading,1250.50,true,\"\"\n"), "row 1, column `note`: the source holds NULL, the extract \"\""),
    ] {
        let path = write(dir.path(), "bad.csv", &text);
        let e = w.service.certify(&carl, &url, QUERY, &path).await.unwrap_err();
        assert!(matches!(e, ServiceError::Refused(_)) && e.to_string().contains(words), "{words}: {e}");
    }
    assert_eq!(w.size().await, size, "no certificate for a mismatch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_issues_no_certificate() {
    let source = source().await;
    let w = World::bureau(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "declarations.csv", TRUE_CSV);
    let carl = Actor::person("CARL");
    let size = w.size().await;

    let e = w
        .service
        .certify(&carl, &source.url_text(), "DELETE FROM declarations", &csv)
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Source(_)) && e.to_string().contains("read-only"), "{e}");
    let mut conn = PgConnection::connect(&source.url_text()).await.unwrap();
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM declarations").fetch_one(&mut conn).await.unwrap();
    assert_eq!(left, 3, "the read-only transaction wrote nothing");

    let e = w
        .service
        .certify(&carl, "postgres://postgres:secret@127.0.0.1:9/customs", QUERY, &csv)
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Source(_)) && !e.to_string().contains("secret"), "{e}");
    let xlsx = write(dir.path(), "declarations.xlsx", "PK");
    let e = w.service.certify(&carl, &source.url_text(), QUERY, &xlsx).await.unwrap_err();
    assert!(
        matches!(&e, ServiceError::BadInput { field, .. } if field == "extract")
            && e.to_string().contains(".csv"),
        "{e}"
    );
    let broken = write(dir.path(), "broken.csv", "id,importer,duty,cleared,note\n1,\"ACME\n");
    let e = w.service.certify(&carl, &source.url_text(), QUERY, &broken).await.unwrap_err();
    assert!(e.to_string().contains("broken.csv:2: a quoted cell is not closed"), "{e}");
    let e = w
        .service
        .certify(&Actor::person("ANA"), &source.url_text(), QUERY, &csv)
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden(_)) && e.to_string().contains("not in TSD"), "{e}");
    assert_eq!(w.size().await, size);
}

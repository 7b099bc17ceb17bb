//! The JSON API over HTTP on an ephemeral port: bearer tokens, the service's answers as
//! status codes, and the OpenAPI document.

use bantay_server::{router, Actor};
use serde_json::{json, Value};

use crate::{Backend, World};

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn serve(w: &World) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = router(w.service.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, http: reqwest::Client::new() }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_journey_over_http() {
    let w = World::bureau(Backend::Sqlite).await;
    let api = Api::serve(&w).await;
    let op = Actor::system("test");
    let ana = w.service.issue_token(&op, "ANA").await.unwrap();
    let chief = w.service.issue_token(&op, "CHIEF-SMD").await.unwrap();
    let director = w.service.issue_token(&op, "DIR-TMS").await.unwrap();
    let body = json!({"resource": "comms-os-0", "clause": "1.2.4", "kind": "standing", "valid_until": "2026-12-31"});

    let (status, e) = api.call("POST", "/api/v1/requests", None, Some(body.clone())).await;
    assert_eq!(status, 401, "{e}");
    let (status, _) =
        api.call("POST", "/api/v1/requests", Some("bty_forged"), Some(body.clone())).await;
    assert_eq!(status, 401);
    let (status, e) = api
        .call("POST", "/api/v1/requests", Some(&ana), Some(json!({"resource": "comms-os-0"})))
        .await;
    assert_eq!((status, e["field"].as_str()), (400, Some("body")), "{e}");
    assert!(e["error"].as_str().unwrap().contains("missing field `clause`"), "{e}");
    let (status, e) = api.call("POST", "/api/v1/requests", Some(&ana), Some(json!({"resource": "comms-os-0", "clause": "1.2.4", "kind": "standing", "valid_until": "2026-12-31", "role": "root"}))).await;
    assert_eq!(status, 400, "unknown fields are refused: {e}");
    let (status, e) = api.call("POST", "/api/v1/requests", Some(&ana), Some(json!({"resource": "nope", "clause": "1.2.4", "kind": "standing", "valid_until": "2026-12-31"}))).await;
    assert_eq!((status, e["field"].as_str()), (400, Some("resource")), "{e}");
    let size = w.size().await;

    let (status, d) = api.call("POST", "/api/v1/decisions", Some(&ana), Some(body.clone())).await;
    assert_eq!((status, d["outcome"].as_str()), (200, Some("allow")), "{d}");
    assert_eq!(d["clauses"], json!(["1.2.4"]), "{d}");
    assert_eq!(d["chain"], json!(["SMD", "TMS"]), "{d}");
    let (status, d) = api.call("POST", "/api/v1/decisions", Some(&ana), Some(json!({"resource": "cps-db-0", "clause": "1.2.4", "kind": "standing", "valid_until": "2026-12-31"}))).await;
    assert_eq!(
        (status, d["outcome"].as_str()),
        (200, Some("deny")),
        "ANA (SMD) may not hold a database under 1.2.4: {d}"
    );
    assert!(
        d["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["clause"] != "1.2.4" || r["effect"] != "permits"),
        "{d}"
    );
    assert_eq!(w.size().await, size, "a preview records nothing");

    let (status, r) = api.call("POST", "/api/v1/requests", Some(&ana), Some(body)).await;
    assert_eq!((status, r["status"].as_str()), (201, Some("pending")), "{r}");
    assert_eq!(w.size().await, size + 2, "the request and its notification");
    let id = r["id"].as_str().unwrap();
    let (status, e) =
        api.call("POST", &format!("/api/v1/requests/{id}/approve"), Some(&ana), None).await;
    assert_eq!(status, 403, "a requester approves nothing: {e}");
    assert_eq!(e["error"], "ANA may not do this: it is for Unit head, Datacenter approver");
    let (status, e) =
        api.call("POST", &format!("/api/v1/requests/{id}/approve"), Some(&director), None).await;
    assert_eq!(status, 403, "out of turn: {e}");
    let (status, inbox) = api.call("GET", "/api/v1/notifications", Some(&chief), None).await;
    assert_eq!(status, 200);
    assert!(inbox[0]["subject"].as_str().unwrap().contains(id), "{inbox}");
    let (status, _) =
        api.call("POST", &format!("/api/v1/requests/{id}/approve"), Some(&chief), None).await;
    assert_eq!(status, 200);
    let (status, r) =
        api.call("POST", &format!("/api/v1/requests/{id}/approve"), Some(&director), None).await;
    assert_eq!((status, r["status"].as_str()), (200, Some("approved")), "{r}");
    let (status, grants) = api.call("GET", "/api/v1/persons/ANA/grants", Some(&ana), None).await;
    assert_eq!(
        (status, grants[0]["status"].as_str(), grants[0]["request"].as_str()),
        (200, Some("active"), Some(id))
    );
    let (status, _) = api.call("GET", "/api/v1/requests/R-none", Some(&ana), None).await;
    assert_eq!(status, 404);
    let (status, list) =
        api.call("GET", "/api/v1/requests?status=approved", Some(&ana), None).await;
    assert_eq!((status, list.as_array().unwrap().len()), (200, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_route() {
    let w = World::new(Backend::Sqlite, bantay_server::Targets::none()).await;
    let api = Api::serve(&w).await;
    let (status, doc) = api.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    for path in [
        "/api/v1/requests",
        "/api/v1/requests/{id}/approve",
        "/api/v1/requests/{id}/withdraw",
        "/api/v1/personnel-orders",
        "/api/v1/reviews/{id}/decisions",
        "/api/v1/notifications",
        "/api/v1/tasks/{id}/done",
    ] {
        assert!(paths.contains(&path), "{path} missing from {paths:?}");
    }
    assert_eq!(doc["components"]["securitySchemes"]["token"]["scheme"], "bearer");
    // Every schema a path refers to is defined.
    let text = doc.to_string();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{name} is referred to but not defined"
        );
    }
    let (status, _) = api.call("GET", "/healthz", None, None).await;
    assert_eq!(status, 200);

    // An independent validator (openapi-spec-validator, which scripts/test installs).
    let file = w.db.dir().join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed to validate the OpenAPI document: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named"),
        "install it: pip install openapi-spec-validator (scripts/test does)\n{stderr}"
    );
    assert!(out.status.success(), "{}\n{stderr}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emergency_visit_over_http() {
    let (w, incident) = crate::datacenter::datacenter_world(Backend::Sqlite).await;
    let api = Api::serve(&w).await;
    let op = Actor::system("test");
    let ben = w.service.issue_token(&op, "BEN").await.unwrap();
    let dc = w.service.issue_token(&op, "DC").await.unwrap();
    let guard = w.service.issue_token(&op, "GUARD-1").await.unwrap();
    let (status, p) = api.call("POST", "/api/v1/passes", Some(&ben), Some(json!({
        "datacenter": "DC-MAIN", "incident": incident, "reason": "replace a disk", "from": "2026-12-01T09:00", "until": "2026-12-01T10:00"}))).await;
    assert_eq!((status, p["status"].as_str()), (201, Some("requested")), "{p}");
    let id = p["id"].as_str().unwrap();
    let (status, _) =
        api.call("POST", &format!("/api/v1/passes/{id}/approve"), Some(&ben), None).await;
    assert_eq!(status, 403, "only the Deputy Commissioner approves passes");
    let (status, p) =
        api.call("POST", &format!("/api/v1/passes/{id}/approve"), Some(&dc), None).await;
    assert_eq!((status, p["status"].as_str()), (200, Some("approved")), "{p}");
    let code = p["code"].as_str().unwrap();
    let (status, page) =
        api.call("GET", &format!("/api/v1/passes/{id}/print"), Some(&ben), None).await;
    assert!(status == 200 && page.as_str().unwrap().contains("<svg"), "{status}");
    w.set("2026-12-01T09:05");
    let (status, e) = api
        .call("POST", "/api/v1/gate/DC-MAIN/enter", Some(&ben), Some(json!({"code": code})))
        .await;
    assert_eq!(status, 403, "only a rostered guard: {e}");
    let (status, v) = api
        .call("POST", "/api/v1/gate/DC-MAIN/enter", Some(&guard), Some(json!({"code": code})))
        .await;
    assert_eq!(
        (status, v["verdict"].as_str(), v["logged"].as_str()),
        (200, Some("valid"), Some("entry")),
        "{v}"
    );
    let (status, e) = api
        .call("POST", "/api/v1/gate/DC-MAIN/enter", Some(&guard), Some(json!({"code": "12345"})))
        .await;
    assert_eq!((status, e["field"].as_str()), (400, Some("code")), "{e}");
    let (status, log) = api.call("GET", "/api/v1/gate/DC-MAIN/log", Some(&guard), None).await;
    assert_eq!(status, 200);
    let actions: Vec<&str> =
        log.as_array().unwrap().iter().map(|l| l["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["refused", "entry"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_are_read_and_answered_over_http_by_role() {
    let w = World::bureau(Backend::Sqlite).await;
    let op = Actor::system("test");
    w.service.document_account(&op, &crate::accounts::oracle()).await.unwrap();
    let context = w.service.log_context();
    let log = crate::accounts::LOG.as_bytes();
    let ingested = w.service.ingest_log(&op, "auth.log", log, &context).await.unwrap();
    w.service.assign_role(&op, "CARL", bantay_core::Role::Auditor, true).await.unwrap();
    let api = Api::serve(&w).await;
    let auditor = w.service.issue_token(&op, "CARL").await.unwrap();
    let chief = w.service.issue_token(&op, "CHIEF-SDD").await.unwrap();
    let ana = w.service.issue_token(&op, "ANA").await.unwrap();
    let id = &ingested.opened[0];
    let path = |step: &str| format!("/api/v1/findings/{id}/{step}");
    let note = json!({"note": "SDD rotates the oracle password"});

    let size = w.size().await;
    let (status, list) = api.call("GET", "/api/v1/findings", Some(&auditor), None).await;
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(3)), "{list}");
    assert!(list[0]["evidence"].as_str().unwrap().starts_with("auth.log:"), "{list}");
    // Reading evidence is on the record: who, through what, which findings.
    let viewed = &w.events().await[size..];
    assert_eq!(viewed.len(), 1, "{viewed:?}");
    let ids: Vec<_> = list.as_array().unwrap().iter().map(|f| f["id"].clone()).collect();
    assert_eq!(
        (viewed[0]["kind"].as_str(), viewed[0]["actor"].as_str()),
        (Some("evidence.viewed"), Some("CARL"))
    );
    assert_eq!(viewed[0]["body"], json!({ "findings": ids, "through": "api" }));
    let (status, _) = api.call("GET", "/api/v1/findings", Some(&ana), None).await;
    assert_eq!(status, 403, "a requester does not read findings");
    let size = w.size().await;
    let (status, e) =
        api.call("POST", &path("acknowledge"), Some(&auditor), Some(note.clone())).await;
    assert_eq!(status, 403, "an auditor changes nothing: {e}");
    let (status, e) = api.call("POST", &path("shelve"), Some(&chief), Some(note.clone())).await;
    assert_eq!((status, e["field"].as_str()), (400, Some("step")), "{e}");
    let (status, e) =
        api.call("POST", &path("acknowledge"), Some(&chief), Some(json!({"note": " "}))).await;
    assert_eq!((status, e["field"].as_str()), (400, Some("note")), "{e}");
    assert_eq!(w.size().await, size, "nothing recorded for what was refused");

    let (status, f) =
        api.call("POST", &path("acknowledge"), Some(&chief), Some(note.clone())).await;
    assert_eq!((status, f["status"].as_str()), (200, Some("acknowledged")), "{f}");
    let (status, e) = api.call("POST", &path("acknowledge"), Some(&chief), Some(note)).await;
    assert_eq!(status, 409, "acknowledged once: {e}");
    assert_eq!(w.kinds_since(size).await, ["finding.status"]);
}

/// A schema-driven fuzzer (schemathesis, which scripts/test installs) generates requests
/// from the OpenAPI document for every operation, as the Deputy Commissioner (who may
/// approve, realign and answer findings) and as a guard, and checks that none gets a
/// server error and that every answer's status, content type and body are documented.
/// The seed is fixed, so a failure in CI replays here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_driven_fuzzer_finds_no_server_error_and_nothing_undocumented() {
    let (w, _incident) = crate::datacenter::datacenter_world(Backend::Sqlite).await;
    let api = Api::serve(&w).await;
    let op = Actor::system("test");
    let doc = serde_json::to_value(bantay_server::openapi()).unwrap();
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    for person in ["DC", "GUARD-1"] {
        let token = w.service.issue_token(&op, person).await.unwrap();
        let out = tokio::process::Command::new("schemathesis")
            .arg("run")
            .arg(format!("{}/api/v1/openapi.json", api.base))
            .args(["-H", &format!("Authorization: Bearer {token}")])
            .args(["-c", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"])
            .args(["--max-examples", "20", "--seed", "20261201", "--no-color"])
            .output()
            .await
            .unwrap_or_else(|e| {
                panic!("cannot run `schemathesis`: pip install schemathesis (scripts/test does): {e}")
            });
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "schemathesis as {person} found problems:\n{report}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tested = format!("Tested: {operations}\n");
        assert!(report.contains(&tested), "all {operations} operations tested: {report}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_reads_only_the_requests_and_grants_that_concern_them() {
    let w = World::bureau(Backend::Sqlite).await;
    let op = Actor::system("test");
    w.service.assign_role(&op, "CARL", bantay_core::Role::Auditor, true).await.unwrap();
    let api = Api::serve(&w).await;
    let token = |p: &'static str| {
        let service = w.service.clone();
        async move { service.issue_token(&Actor::system("test"), p).await.unwrap() }
    };
    let (ana, ben, chief_sdd, auditor) =
        (token("ANA").await, token("BEN").await, token("CHIEF-SDD").await, token("CARL").await);
    let ask = json!({"resource": "cps-db-0", "clause": "2.2.1", "kind": "standing", "valid_until": "2026-12-31"});
    let (status, r) = api.call("POST", "/api/v1/requests", Some(&ben), Some(ask)).await;
    assert_eq!(status, 201, "{r}");
    let id = r["id"].as_str().unwrap();

    let listed = |v: &serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let (_, mine) = api.call("GET", "/api/v1/requests", Some(&ana), None).await;
    assert!(listed(&mine).is_empty(), "ANA sees none of BEN's requests: {mine}");
    let (status, _) = api.call("GET", &format!("/api/v1/requests/{id}"), Some(&ana), None).await;
    assert_eq!(status, 403);
    for (who, token) in
        [("BEN", &ben), ("CHIEF-SDD, who approves it", &chief_sdd), ("an auditor", &auditor)]
    {
        let (_, seen) = api.call("GET", "/api/v1/requests", Some(token), None).await;
        assert_eq!(listed(&seen), [id], "{who}: {seen}");
    }

    let (status, _) = api.call("GET", "/api/v1/persons/BEN/grants", Some(&ana), None).await;
    assert_eq!(status, 403, "ANA may not read BEN's grants");
    for token in [&ben, &chief_sdd, &auditor] {
        let (status, g) = api.call("GET", "/api/v1/persons/BEN/grants", Some(token), None).await;
        assert_eq!(status, 200, "{g}");
    }
    let (status, _) = api.call("GET", "/api/v1/persons/NOBODY/grants", Some(&ana), None).await;
    assert_eq!(status, 404);
}

//! SCIM 2.0 at `/scim/v2` on an ephemeral port: an independent conformance tester
//! (scim2-tester, through scim2-cli) provisions, reads, searches, replaces, patches and
//! deletes Users and Groups; then what provisioning means for the Bureau — a User is a
//! person, a User who leaves has their grants suspended — on both backends.

use bantay_server::{router, Actor};
use serde_json::{json, Value};

use crate::{on_both_backends, Backend, World};

struct Scim {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Scim {
    async fn serve(w: &World) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/scim/v2", listener.local_addr().unwrap());
        let app = router(w.service.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let token = w.service.issue_scim_token(&Actor::system("test"), "DC").await.unwrap();
        Self { base, token, http: reqwest::Client::new() }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req =
            self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.header("content-type", "application/scim+json").body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        if status != 204 {
            let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
            assert_eq!(kind, "application/scim+json", "{path}");
        }
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

/// The whole of scim2-tester's check against a live server: discovery, then for Users
/// and Groups create, read, search, attribute projection, replace, PATCH add, replace
/// and remove of every attribute the schemas declare, delete, and unknown URLs. Every
/// check must succeed; there must be many of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_independent_scim_tester_finds_nothing_wrong() {
    let w = World::bureau(Backend::Sqlite).await;
    let scim = Scim::serve(&w).await;
    let before = w.size().await;
    let out = tokio::process::Command::new("python3")
        .args(["-c", "from scim2_cli import cli; cli()", "--url", &scim.base])
        .args(["--header", &format!("Authorization: Bearer {}", scim.token), "test"])
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("python3 with scim2-cli (scripts/test installs it: pip install scim2-cli)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named"),
        "scim2-cli is missing (pip install scim2-cli): {stderr}"
    );
    let failed: Vec<&str> =
        stdout.lines().filter(|l| l.starts_with("ERROR") || l.starts_with("CRITICAL")).collect();
    let passed = stdout.lines().filter(|l| l.starts_with("SUCCESS")).count();
    let skipped = stdout.lines().filter(|l| l.starts_with("SKIPPED")).count();
    assert!(out.status.success() && failed.is_empty(), "scim2-tester failed:\n{stdout}\n{stderr}");
    assert!(passed >= 60, "only {passed} checks ran:\n{stdout}");
    let kinds = w.kinds_since(before).await;
    for kind in ["identity.provisioned", "identity.deprovisioned", "person.recorded"] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    eprintln!("scim2-tester: {passed} checks passed, {skipped} skipped");
}

on_both_backends! {
    async fn a_provisioned_user_is_a_person_and_leaving_suspends_their_access(backend) {
        let w = World::bureau(backend).await;
        w.legacy_grant("G-ana-db", "ANA", "cps-db-0", "1.2.4", "2026-01-01", "2027-06-01").await;
        let scim = Scim::serve(&w).await;

        // Refusals: RFC 7644 error bodies, nothing written.
        let (status, e) = scim.call("POST", "/Users", Some(json!("{not json"))).await;
        assert_eq!((status, e["scimType"].as_str()), (400, Some("invalidSyntax")), "{e}");
        assert_eq!(e["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
        assert_eq!(e["status"], "400", "the status is a string in a SCIM error: {e}");
        let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x", "clearance": "top"});
        let (status, e) = scim.call("POST", "/Users", Some(user)).await;
        assert_eq!((status, e["scimType"].as_str()), (400, Some("invalidValue")), "{e}");
        assert!(e["detail"].as_str().unwrap().contains("no attribute `clearance`"), "{e}");
        let (status, e) = scim.call("POST", "/Users", Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "displayName": "Nobody"}))).await;
        assert_eq!(status, 400);
        assert!(e["detail"].as_str().unwrap().contains("`userName` is required"), "{e}");
        let (status, e) = scim.call("GET", "/Users?filter=userName%20eq", None).await;
        assert_eq!((status, e["scimType"].as_str()), (400, Some("invalidFilter")), "{e}");
        let (status, _) = scim.call("GET", "/Users/nobody", None).await;
        assert_eq!(status, 404);
        let anonymous = reqwest::get(format!("{}/Users", scim.base)).await.unwrap();
        assert_eq!(anonymous.status().as_u16(), 401);
        // A person's API token does not provision, and the SCIM token serves nothing else.
        let personal = w.service.issue_token(&Actor::system("test"), "ANA").await.unwrap();
        let as_ana = scim.http.get(format!("{}/Users", scim.base)).bearer_auth(&personal).send().await.unwrap();
        assert_eq!(as_ana.status().as_u16(), 401);
        let api = scim.base.replace("/scim/v2", "/api/v1/requests");
        let as_idp = scim.http.get(api).bearer_auth(&scim.token).send().await.unwrap();
        assert_eq!(as_idp.status().as_u16(), 401);
        let before = w.size().await;
        assert_eq!(w.size().await, before, "nothing written by a refused request");

        // ANA's identity: the person on record whose e-mail address it carries.
        let ana = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": "ana.reyes", "externalId": "entra-0001",
            "name": {"givenName": "Ana", "familyName": "Reyes"},
            "emails": [{"value": "personal@example.org", "type": "home"}, {"value": "ana@customs.example", "type": "work", "primary": true}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "BOC-1207"},
        });
        let (status, u) = scim.call("POST", "/Users", Some(ana.clone())).await;
        assert_eq!(status, 201, "{u}");
        assert_eq!(u["id"], "ANA", "the User is the person on record: {u}");
        assert_eq!(u["meta"]["location"], format!("{}/Users/ANA", scim.base));
        assert_eq!(u["meta"]["version"], "W/\"1\"");
        let person = w.service.store().person("ANA").await.unwrap().unwrap();
        assert_eq!((person.name.as_str(), person.email.as_deref()), ("Ana Reyes", Some("ana@customs.example")));
        let (status, e) = scim.call("POST", "/Users", Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ANA.Reyes"}))).await;
        assert_eq!((status, e["scimType"].as_str()), (409, Some("uniqueness")), "userNames ignore case: {e}");

        // A new face: a person Bantay did not know, recorded from the User.
        let (status, carlo) = scim.call("POST", "/Users", Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "carlo.cruz", "displayName": "Carlo Cruz",
            "emails": [{"value": "carlo@customs.example", "type": "work"}],
        }))).await;
        assert_eq!(status, 201, "{carlo}");
        let carlo_id = carlo["id"].as_str().unwrap().to_owned();
        assert!(carlo_id.starts_with("P-"), "{carlo}");
        assert_eq!(w.service.store().person(&carlo_id).await.unwrap().unwrap().name, "Carlo Cruz");

        // Filters, projection and pages.
        let (_, found) = scim.call("GET", "/Users?filter=userName%20eq%20%22ANA.REYES%22", None).await;
        assert_eq!((found["totalResults"].as_u64(), found["Resources"][0]["id"].as_str()), (Some(1), Some("ANA")), "{found}");
        let filter = r#"emails[type eq "work" and value ew "@customs.example"] and not (userName sw "carlo")"#;
        let (_, found) = scim.call("POST", "/Users/.search", Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter, "attributes": ["userName", "name.givenName"],
        }))).await;
        assert_eq!(found["totalResults"], 1, "{found}");
        let shown = &found["Resources"][0];
        assert_eq!((shown["id"].as_str(), shown["userName"].as_str(), shown["name"]["givenName"].as_str()), (Some("ANA"), Some("ana.reyes"), Some("Ana")));
        assert!(shown.get("emails").is_none() && shown["name"].get("familyName").is_none(), "only what was asked: {shown}");
        let (_, page) = scim.call("GET", "/Users?startIndex=2&count=1", None).await;
        assert_eq!((page["totalResults"].as_u64(), page["startIndex"].as_u64(), page["itemsPerPage"].as_u64()), (Some(2), Some(2), Some(1)), "{page}");

        // A group with both, and ANA's groups as the User shows them.
        let (status, g) = scim.call("POST", "/Groups", Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "SMD DBAs",
            "members": [{"value": "ANA"}, {"value": carlo_id}],
        }))).await;
        assert_eq!(status, 201, "{g}");
        let group = g["id"].as_str().unwrap().to_owned();
        assert_eq!(g["members"][0], json!({"value": "ANA", "$ref": format!("{}/Users/ANA", scim.base), "type": "User"}));
        let (_, u) = scim.call("GET", "/Users/ANA", None).await;
        assert_eq!((u["groups"][0]["value"].as_str(), u["groups"][0]["display"].as_str()), (Some(group.as_str()), Some("SMD DBAs")), "{u}");
        let (status, e) = scim.call("POST", "/Groups", Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Ghosts", "members": [{"value": "nobody"}]}))).await;
        assert_eq!(status, 400, "members must be on record: {e}");

        // ANA leaves: Entra ID's PATCH makes her inactive; her grant is suspended from
        // now with a task to revoke it, in the same append as the identity.
        let from = w.size().await;
        let leave = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        let (status, u) = scim.call("PATCH", "/Users/ANA", Some(leave)).await;
        assert_eq!((status, u["active"].as_bool()), (200, Some(false)), "{u}");
        assert_eq!(u["meta"]["version"], "W/\"2\"");
        assert_eq!(w.kinds_since(from).await, ["identity.provisioned", "grant.suspended", "task.opened"]);
        let grant = w.service.store().grant("G-ana-db").await.unwrap().unwrap();
        assert_eq!(grant.status, "suspended");
        let suspended = &w.events().await[from + 2]["body"];
        assert!(suspended["reason"].as_str().unwrap().contains("made inactive by the identity provider"), "{suspended}");

        // PATCH paths with filters; a PATCH that would break the schema changes nothing.
        let edit = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ana.reyes@customs.example"},
            {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "SMD"},
            {"op": "remove", "path": "emails[type eq \"home\"]"}]});
        let (status, u) = scim.call("PATCH", "/Users/ANA", Some(edit)).await;
        assert_eq!(status, 200, "{u}");
        assert_eq!(u["emails"], json!([{"value": "ana.reyes@customs.example", "type": "work", "primary": true}]));
        assert_eq!(u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], json!({"employeeNumber": "BOC-1207", "department": "SMD"}));
        let size = w.size().await;
        let bad = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "replace", "path": "displayName", "value": "Ana"}, {"op": "remove", "path": "userName"}]});
        let (status, e) = scim.call("PATCH", "/Users/ANA", Some(bad)).await;
        assert_eq!((status, e["scimType"].as_str()), (400, Some("mutability")), "{e}");
        let (status, e) = scim.call("PATCH", "/Users/ANA", Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "remove", "path": "emails[type eq \"fax\"]"}]}))).await;
        assert_eq!((status, e["scimType"].as_str()), (400, Some("noTarget")), "{e}");
        assert_eq!(w.size().await, size, "a refused PATCH writes nothing");

        // Carlo is deleted: he leaves the group too, and the record of him stays.
        let from = w.size().await;
        let (status, _) = scim.call("DELETE", &format!("/Users/{carlo_id}"), None).await;
        assert_eq!(status, 204);
        assert_eq!(w.kinds_since(from).await, ["identity.deprovisioned", "identity.provisioned"]);
        let (_, g) = scim.call("GET", &format!("/Groups/{group}"), None).await;
        assert_eq!(g["members"].as_array().unwrap().len(), 1, "{g}");
        let (status, _) = scim.call("GET", &format!("/Users/{carlo_id}"), None).await;
        assert_eq!(status, 404);
        assert!(w.service.store().person(&carlo_id).await.unwrap().is_some(), "people on record stay on record");
    }
}

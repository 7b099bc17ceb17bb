//! The SCIM languages on their own: filters as RFC 7644 §3.4.2.2 reads them (precedence,
//! case rules by attribute, times as instants), PATCH paths and their failures, and
//! what a body must be to be kept.

use bantay_connect::scim::{self, apply_patch, AttrPath, Filter};
use serde_json::{json, Map, Value};

fn users() -> &'static scim::ResourceType {
    scim::resource_type("User").unwrap()
}

fn ana() -> Map<String, Value> {
    let body = json!({
        "schemas": [scim::USER, scim::ENTERPRISE_USER],
        "userName": "Ana.Reyes", "externalId": "Entra-01", "active": true,
        "name": {"givenName": "Ana", "familyName": "Reyes"},
        "emails": [{"value": "ana@customs.example", "type": "work", "primary": true},
                   {"value": "ana@home.example", "type": "home"}],
        (scim::ENTERPRISE_USER): {"employeeNumber": "BOC-1207"},
    });
    let mut kept = scim::accept(users(), &body, None).unwrap();
    kept.insert("id".into(), "ANA".into());
    kept.insert("meta".into(), json!({"lastModified": "2026-11-30T08:00:00+08:00"}));
    kept
}

fn matches(filter: &str) -> bool {
    Filter::parse(filter, users()).unwrap().matches(users(), &ana()).unwrap()
}

fn refusal(filter: &str) -> (Option<&'static str>, String) {
    let e =
        Filter::parse(filter, users()).and_then(|f| f.matches(users(), &ana())).expect_err(filter);
    (e.scim_type, e.detail)
}

#[test]
fn filters_read_as_the_rfc_says() {
    // userName is case-insensitive, externalId and id are case-exact.
    assert!(matches(r#"userName eq "ana.reyes""#));
    assert!(!matches(r#"externalId eq "entra-01""#));
    assert!(matches(r#"externalId eq "Entra-01""#));
    assert!(matches(r#"ID EQ "ANA""#), "operators and names in any case");
    // A multi-valued attribute matches when any value does; `emails` means its values.
    assert!(matches(r#"emails co "home.example""#));
    assert!(matches(r#"emails.type eq "home""#));
    assert!(
        !matches(r#"emails[type eq "home" and primary eq true]"#),
        "one value must satisfy both"
    );
    assert!(matches(r#"emails[type eq "work" and primary eq true]"#));
    // `not` over `and` over `or`.
    assert!(matches(r#"userName sw "x" or userName sw "ana" and active eq true"#));
    assert!(!matches(r#"(userName sw "x" or userName sw "ana") and active eq false"#));
    assert!(matches(r#"not (active eq false) and name.givenName pr"#));
    assert!(!matches(r#"title pr"#));
    assert!(matches(r#"title eq null"#), "eq null: not present");
    // Times compare as instants, whatever their zone.
    assert!(matches(r#"meta.lastModified gt "2026-11-29T23:59:59Z""#));
    assert!(!matches(r#"meta.lastModified gt "2026-11-30T00:00:00Z""#));
    assert!(matches(r#"meta.lastModified eq "2026-11-30T00:00:00Z""#));
    // Extension attributes by their URN.
    assert!(matches(&format!(r#"{}:employeeNumber eq "boc-1207""#, scim::ENTERPRISE_USER)));
    assert!(matches(r#"userName eq "ana.reyes\u0000" or userName ew "REYES""#), "JSON escapes");
}

#[test]
fn a_bad_filter_says_what_is_wrong() {
    for (filter, says) in [
        (r#"userName eq"#, "must be followed by a value"),
        (r#"userName is "ana""#, "`is` is not an operator"),
        (r#"clearance eq "top""#, "no attribute `clearance`"),
        (r#"active gt true"#, "only eq and ne"),
        (r#"(userName eq "a""#, "not closed"),
        (r#"userName eq "a" extra"#, "unexpected `extra`"),
        (r#"emails[kind eq "work"]"#, "no sub-attribute `kind`"),
        (r#"userName eq ana"#, "quote strings"),
        (r#"meta.lastModified gt "yesterday""#, "is not a date or time"),
        (r#"userName eq "unterminated"#, "not closed"),
    ] {
        let (kind, detail) = refusal(filter);
        assert_eq!(kind, Some("invalidFilter"), "{filter}: {detail}");
        assert!(detail.contains(says), "{filter}: {detail}");
    }
    let deep = format!("{}userName pr{}", "(".repeat(100), ")".repeat(100));
    assert!(refusal(&deep).1.contains("deeper than"));
}

fn patch(resource: &Map<String, Value>, ops: Value) -> Result<Map<String, Value>, scim::ScimError> {
    apply_patch(users(), resource, &json!({"schemas": [scim::PATCH_OP], "Operations": ops}))
}

#[test]
fn patch_paths_reach_what_they_name() {
    let mut kept = ana();
    kept.remove("id");
    kept.remove("meta");
    let done = patch(&kept, json!([
        {"op": "add", "path": "emails", "value": [{"value": "a2@customs.example", "type": "other"}]},
        {"op": "replace", "path": "emails[type eq \"work\"].primary", "value": false},
        {"op": "replace", "path": "name", "value": {"middleName": "Santos"}},
        {"op": "remove", "path": "emails[value ew \"home.example\"]"},
        {"op": "add", "value": {"title": "DBA", (scim::ENTERPRISE_USER): {"department": "SMD"}}},
        {"op": "Replace", "path": "active", "value": "False"},
    ]))
    .unwrap();
    assert_eq!(
        done["emails"],
        json!([
        {"value": "ana@customs.example", "type": "work", "primary": false},
        {"value": "a2@customs.example", "type": "other"}])
    );
    assert_eq!(
        done["name"],
        json!({"givenName": "Ana", "familyName": "Reyes", "middleName": "Santos"}),
        "replace of a complex attribute keeps the rest"
    );
    assert_eq!(
        done[scim::ENTERPRISE_USER],
        json!({"employeeNumber": "BOC-1207", "department": "SMD"})
    );
    assert_eq!((done["title"].as_str(), done["active"].as_bool()), (Some("DBA"), Some(false)));
    assert_eq!(done["schemas"], json!([scim::USER, scim::ENTERPRISE_USER]));

    let gone = patch(&kept, json!([{"op": "remove", "path": scim::ENTERPRISE_USER}])).unwrap();
    assert_eq!(
        (gone.get(scim::ENTERPRISE_USER), &gone["schemas"]),
        (None, &json!([scim::USER])),
        "a whole extension removed"
    );

    for (ops, kind, says) in [
        (json!([{"op": "remove", "path": "userName"}]), "mutability", "required"),
        (
            json!([{"op": "add", "path": "groups", "value": [{"value": "G"}]}]),
            "mutability",
            "read-only",
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}]),
            "noTarget",
            "matches",
        ),
        (json!([{"op": "remove"}]), "noTarget", "remove needs a path"),
        (
            json!([{"op": "add", "path": "clearance", "value": "top"}]),
            "invalidPath",
            "no attribute `clearance`",
        ),
        (
            json!([{"op": "add", "path": "emails[type eq \"work\"", "value": "x"}]),
            "invalidPath",
            "not closed",
        ),
        (json!([{"op": "move", "path": "title"}]), "invalidSyntax", "add, remove or replace"),
        (
            json!([{"op": "replace", "path": "active", "value": "maybe"}]),
            "invalidValue",
            "true or false",
        ),
        (json!([]), "invalidSyntax", "empty"),
    ] {
        let e = patch(&kept, ops.clone()).expect_err(&ops.to_string());
        assert_eq!(e.scim_type, Some(kind), "{ops}: {}", e.detail);
        assert!(e.detail.contains(says), "{ops}: {}", e.detail);
        assert_eq!(e.status, 400);
    }
}

#[test]
fn a_body_is_kept_as_the_schema_spells_it() {
    let body = json!({
        "schemas": [scim::USER], "USERNAME": "b", "id": "forged", "meta": {"version": "9"},
        "groups": [{"value": "G-1"}], "Emails": [{"VALUE": "b@x", "Primary": "true"}], "title": null,
    });
    let kept = scim::accept(users(), &body, None).unwrap();
    assert_eq!(
        Value::Object(kept),
        json!({"schemas": [scim::USER], "userName": "b", "emails": [{"value": "b@x", "primary": true}]}),
        "names in the schema's case, read-only attributes ignored, nulls left out"
    );
    for (body, says) in [
        (json!({"userName": "b"}), "`schemas` is missing"),
        (json!({"schemas": [scim::GROUP], "userName": "b"}), "must list"),
        (json!({"schemas": [scim::USER], "userName": 7}), "must be a string"),
        (
            json!({"schemas": [scim::USER], "userName": "b", "emails": [{"value": "a", "primary": true}, {"value": "c", "primary": true}]}),
            "at most one value may be primary",
        ),
        (
            json!({"schemas": [scim::USER], "userName": "b", "name": {"nick": "x"}}),
            "no sub-attribute `nick`",
        ),
        (json!([1, 2]), "must be a JSON object"),
    ] {
        let e = scim::accept(users(), &body, None).expect_err(&body.to_string());
        assert_eq!(e.status, 400);
        assert!(e.detail.contains(says), "{body}: {}", e.detail);
    }
}

#[test]
fn projection_keeps_what_is_asked_and_always_the_id() {
    let rt = users();
    let paths = |t: &str| t.split(',').map(|p| AttrPath::parse(p, rt).unwrap()).collect::<Vec<_>>();
    let shown = scim::project(rt, &ana(), &paths("emails.value,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"), &[]);
    assert_eq!(
        Value::Object(shown),
        json!({
            "schemas": [scim::USER, scim::ENTERPRISE_USER], "id": "ANA",
            "emails": [{"value": "ana@customs.example"}, {"value": "ana@home.example"}],
            (scim::ENTERPRISE_USER): {"employeeNumber": "BOC-1207"},
        })
    );
    let shown = scim::project(rt, &ana(), &[], &paths("emails,name.familyName,id"));
    assert!(shown.get("emails").is_none() && shown["id"] == "ANA", "id is always returned");
    assert_eq!(shown["name"], json!({"givenName": "Ana"}));
}

//! Any text as a SCIM filter, a PATCH body, a resource body or an attribute list, for
//! Users and Groups. Nothing panics; what is accepted is accepted again unchanged (a
//! kept resource is a fixed point), and a filter that parses evaluates.
#![no_main]

use bantay_connect::scim::{self, AttrPath, Filter};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let rt = &scim::resource_types()[usize::from(which & 1)];
    let user = json!({
        "schemas": [scim::USER], "userName": "ana", "active": true,
        "emails": [{"value": "ana@customs.example", "type": "work", "primary": true}],
        "name": {"givenName": "Ana"},
        "members": [{"value": "ANA", "type": "User"}], "displayName": "SMD",
        "id": "ANA", "meta": {"lastModified": "2026-11-30T08:00:00+08:00"},
    });
    let resource = user.as_object().cloned().unwrap_or_default();
    match (which >> 1) % 4 {
        0 => {
            if let Ok(filter) = Filter::parse(text, rt) {
                let _ = filter.matches(rt, &resource);
            }
        }
        1 => {
            let Ok(body) = serde_json::from_str::<Value>(text) else { return };
            let Ok(kept) = scim::accept(rt, &body, None) else { return };
            let _ = scim::apply_patch(rt, &kept, &body);
            let again = scim::accept(rt, &Value::Object(kept.clone()), Some(&kept));
            assert_eq!(again.as_ref(), Ok(&kept), "a kept resource is accepted unchanged");
        }
        2 => {
            let Ok(body) = serde_json::from_str::<Value>(text) else { return };
            let base = scim::accept(rt, &user, None).unwrap_or_default();
            if let Ok(patched) = scim::apply_patch(rt, &base, &body) {
                let again = scim::accept(rt, &Value::Object(patched.clone()), Some(&patched));
                assert_eq!(again.as_ref(), Ok(&patched), "a patched resource is acceptable");
            }
        }
        _ => {
            let paths: Vec<AttrPath> = text.split(',').filter_map(|p| AttrPath::parse(p, rt).ok()).collect();
            let _ = scim::project(rt, &resource, &paths, &[]);
            let _ = scim::project(rt, &resource, &[], &paths);
        }
    }
});

//! Bantay's own authorisation, route by route and role by role: every API route and page
//! is called by a person holding each role, and is refused (403) exactly when Bantay's
//! policy says that role may not take the route's action. The policy itself is pinned to
//! DESIGN.md's table by `bantay_core`'s unit tests; this checks that every route asks it.

use std::collections::BTreeSet;

use bantay_core::{AccessPolicy, Action, Role};
use bantay_server::{router, Actor, SignInForm, API_ROUTES};
use totp_rs::TOTP;

use crate::Backend;

const GOOD: &str = "a long passphrase for tests";

/// The web pages and the action each asks for.
const PAGES: &[(&str, Action)] = &[
    ("/", Action::ViewOwn),
    ("/findings", Action::ViewFindings),
    ("/requests", Action::ViewOwn),
    ("/gate", Action::ViewDatacenter),
    ("/gate/DC-MAIN", Action::ViewDatacenter),
    ("/datacenters/DC-MAIN", Action::ViewDatacenter),
    ("/organisation", Action::ViewOwn),
    ("/people", Action::ReadAll),
    ("/accounts", Action::ReadAll),
    ("/ledger", Action::ReadAll),
    ("/ledger?prove=1", Action::ReadAll),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_exactly_the_roles_the_policy_refuses() {
    let (w, _incident) = crate::datacenter::datacenter_world(Backend::Sqlite).await;
    w.set("2026-12-01T08:00:00+08:00");
    let op = w.operator();
    w.service.assign_role(&op, "BEN", Role::Auditor, true).await.unwrap();
    w.service.assign_role(&op, "CARL", Role::Administrator, true).await.unwrap();
    use Role::*;
    let personas: [(&str, &[Role]); 6] = [
        ("ANA", &[Requester]),
        ("CHIEF-SMD", &[Requester, UnitHead]),
        ("DC", &[Requester, UnitHead, Approver]),
        ("GUARD-1", &[Requester, Guard]),
        ("BEN", &[Requester, Auditor]),
        ("CARL", &[Requester, Administrator]),
    ];
    let policy = AccessPolicy::shipped().unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(w.service.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let concrete = |path: &str| {
        path.replace("{id}", "X-none")
            .replace("{datacenter}", "DC-MAIN")
            .replace("{step}", "respond")
            .replace("{action}", "enter")
    };
    let call = |method: &str, path: String, token: Option<String>| {
        let mut request = match method {
            "GET" => http.get(format!("{base}{path}")),
            _ => http.post(format!("{base}{path}")).json(&serde_json::json!({})),
        };
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };

    let mut checked = 0;
    for (method, path, action) in API_ROUTES {
        let status = call(method, concrete(path), None).await;
        match action {
            None => assert_eq!(status, 200, "{method} {path} is open to anyone"),
            Some(_) => assert_eq!(status, 401, "{method} {path} without a token"),
        }
    }
    for (person, roles) in personas {
        let held: BTreeSet<Role> = roles.iter().copied().collect();
        assert_eq!(w.service.roles_of(person).await.unwrap(), held, "{person}'s roles");
        let token = w.service.issue_token(&Actor::system("test"), person).await.unwrap();
        for (method, path, action) in API_ROUTES {
            let Some(action) = action else { continue };
            let status = call(method, concrete(path), Some(token.clone())).await;
            if policy.permits(&held, *action) {
                assert!(
                    ![401, 403].contains(&status),
                    "{person} {roles:?} × {method} {path}: {status}"
                );
            } else {
                assert_eq!(status, 403, "{person} {roles:?} × {method} {path}");
            }
            checked += 1;
        }

        // The pages, in a session (with the second factor where the roles need one).
        let enrolment =
            w.service.set_password(&Actor::system("test"), person, GOOD, false).await.unwrap();
        let code =
            enrolment.totp_uri.map(|uri| TOTP::from_url(uri).unwrap().generate(w.now() as u64));
        let form = SignInForm { login: person.into(), password: GOOD.into(), code };
        let signed = w.service.sign_in(&form, "test").await.unwrap();
        for (path, action) in PAGES {
            let response = http
                .get(format!("{base}{path}"))
                .header("cookie", format!("bantay_session={}", signed.secret))
                .send()
                .await
                .unwrap();
            let expected = if policy.permits(&held, *action) { 200 } else { 403 };
            assert_eq!(response.status().as_u16(), expected, "{person} {roles:?} × GET {path}");
            checked += 1;
        }
    }
    let open = API_ROUTES.iter().filter(|(_, _, action)| action.is_none()).count();
    assert_eq!(checked, 6 * (API_ROUTES.len() - open + PAGES.len()));
}

//! The web UI over HTTP, as a browser would use it: sign-in with its second factor,
//! sessions and their cookie, CSRF, the failed-sign-in limit, and pages by role.

use std::net::SocketAddr;

use bantay_server::router;
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::json;
use totp_rs::TOTP;

use crate::{on_both_backends, World};

const GOOD: &str = "a long passphrase for tests";

struct Browser {
    base: String,
    http: reqwest::Client,
}

/// A page as the browser got it.
struct Page {
    status: StatusCode,
    location: Option<String>,
    set_cookie: Option<String>,
    text: String,
}

impl Browser {
    async fn open(w: &World) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = router(w.service.clone()).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
        Self { base, http }
    }

    async fn page(&self, response: reqwest::Response) -> Page {
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok().map(str::to_owned))
        };
        let (location, set_cookie) = (header("location"), header("set-cookie"));
        let status = response.status();
        Page { status, location, set_cookie, text: response.text().await.unwrap() }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Page {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = cookie {
            request = request.header("cookie", format!("bantay_session={c}"));
        }
        self.page(request.send().await.unwrap()).await
    }

    async fn post(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Page {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(form);
        if let Some(c) = cookie {
            request = request.header("cookie", format!("bantay_session={c}"));
        }
        self.page(request.send().await.unwrap()).await
    }

    async fn sign_in(&self, login: &str, password: &str, code: &str) -> Page {
        self.post("/signin", None, &[("login", login), ("password", password), ("code", code)])
            .await
    }
}

/// The session secret a sign-in set, checking the cookie's attributes.
fn session_cookie(page: &Page) -> String {
    let cookie = page.set_cookie.as_deref().expect("a session cookie");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let value = cookie.split(';').next().unwrap().strip_prefix("bantay_session=").unwrap();
    assert!(value.starts_with("bts_") && value.len() > 60, "{value}");
    value.to_owned()
}

fn csrf_of(page: &Page) -> String {
    let at = page.text.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page.text[at..].split('"').next().unwrap().to_owned()
}

async fn password(w: &World, person: &str) -> Option<TOTP> {
    let enrolment = w.service.set_password(&w.operator(), person, GOOD, false).await.unwrap();
    enrolment.totp_uri.map(|uri| TOTP::from_url(uri).unwrap())
}

on_both_backends! {
    async fn a_person_changes_their_own_password_only_knowing_the_current_one(backend) {
        let w = World::bureau(backend).await;
        password(&w, "ANA").await;
        let b = Browser::open(&w).await;
        let elsewhere = session_cookie(&b.sign_in("ANA", GOOD, "").await);
        let secret = session_cookie(&b.sign_in("ANA", GOOD, "").await);
        let page = b.get("/password", Some(&secret)).await;
        assert!(page.text.contains("Change your password"), "{}", page.text);
        let csrf = csrf_of(&page);
        let next = "a different long passphrase";

        let forged = b.post("/password", Some(&secret), &[("current", GOOD), ("password", next)]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "no CSRF token");
        let wrong = b.post("/password", Some(&secret), &[("csrf", &csrf), ("current", "not it at all, no"), ("password", next)]).await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        assert!(wrong.text.contains("that is not your current password"), "{}", wrong.text);
        let short = b.post("/password", Some(&secret), &[("csrf", &csrf), ("current", GOOD), ("password", "short")]).await;
        assert!(short.text.contains("use at least 12 characters"), "{}", short.text);
        let size = w.size().await;
        let changed = b.post("/password", Some(&secret), &[("csrf", &csrf), ("current", GOOD), ("password", next)]).await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
        assert!(changed.text.contains("Your password is changed."), "{}", changed.text);
        assert_eq!(w.kinds_since(size).await, ["credential.set", "session.closed"]);
        assert_eq!(b.get("/", Some(&elsewhere)).await.location.as_deref(), Some("/signin"), "signed out elsewhere");
        assert_eq!(b.get("/", Some(&secret)).await.status, StatusCode::OK, "still signed in here");

        assert_eq!(b.sign_in("ANA", GOOD, "").await.status, StatusCode::UNAUTHORIZED, "the old one is gone");
        assert_eq!(b.sign_in("ANA", next, "").await.location.as_deref(), Some("/"));
    }

    async fn a_requester_signs_in_with_a_password_and_sees_their_privileges(backend) {
        let w = World::bureau(backend).await;
        w.set("2026-07-01T09:00:00+08:00");
        w.legacy_grant("G-1", "ANA", "cps-db-0", "1.3.2", "2026-01-01", "2026-12-31").await;
        assert!(password(&w, "ANA").await.is_none(), "a requester needs no second factor");
        let b = Browser::open(&w).await;

        let first = b.get("/", None).await;
        assert_eq!((first.status, first.location.as_deref()), (StatusCode::SEE_OTHER, Some("/signin")));
        let form = b.get("/signin", None).await;
        assert!(form.text.contains("Sign in to Bantay"), "{}", form.text);

        for login in ["ANA", "nobody@customs.example"] {
            let wrong = b.sign_in(login, "not the passphrase at all", "").await;
            assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
            assert!(wrong.text.contains("wrong sign-in name or password"), "{}", wrong.text);
            assert!(wrong.set_cookie.is_none());
        }

        let signed = b.sign_in("ana@customs.example", GOOD, "").await;
        assert_eq!(signed.location.as_deref(), Some("/"), "{}", signed.text);
        let secret = session_cookie(&signed);
        let home = b.get("/", Some(&secret)).await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.text.contains("Good day, ANA Santos"), "{}", home.text);
        assert!(home.text.contains("Your roles in Bantay: <span class=\"role\">Requester</span>"), "{}", home.text);
        assert!(home.text.contains("<td>cps-db-0</td><td>CMO 04-2019 1.3.2</td>"), "{}", home.text);
        assert!(!home.text.contains("Compliance with CMO 04-2019"), "a requester sees no findings");

        // Findings are for heads, approvers, auditors and administrators.
        let findings = b.get("/findings", Some(&secret)).await;
        assert_eq!(findings.status, StatusCode::FORBIDDEN);
        assert!(findings.text.contains("ANA may not do this: it is for Unit head, Datacenter approver, Auditor, Administrator"), "{}", findings.text);

        // The ledger records the session, never the password or the cookie's secret.
        let events = serde_json::to_string(&w.events().await).unwrap();
        assert!(events.contains("\"session.opened\"") && events.contains("\"credential.set\""));
        assert!(!events.contains(GOOD) && !events.contains(&secret));
        let kept = w.service.store().credential("ANA").await.unwrap().unwrap();
        assert!(kept.password.starts_with("$argon2id$"));
    }

    async fn an_approver_needs_the_second_factor_and_a_code_is_good_once(backend) {
        let w = World::bureau(backend).await;
        w.set("2026-07-01T09:00:00+08:00");
        let totp = password(&w, "DC").await.expect("the approver is enrolled in TOTP");
        let b = Browser::open(&w).await;

        let without = b.sign_in("DC", GOOD, "").await;
        assert_eq!(without.status, StatusCode::UNAUTHORIZED);
        assert!(without.text.contains("enter the six-digit code"), "{}", without.text);
        let wrong = b.sign_in("DC", GOOD, "000000").await;
        assert!(wrong.text.contains("wrong or already used code"), "{}", wrong.text);

        let code = totp.generate(w.now() as u64);
        let signed = b.sign_in("DC", GOOD, &code).await;
        let secret = session_cookie(&signed);
        let home = b.get("/", Some(&secret)).await;
        assert!(home.text.contains("Datacenter approver"), "{}", home.text);
        assert!(home.text.contains("Compliance with CMO 04-2019, rule by rule"), "{}", home.text);
        assert!(home.text.contains("<span class=\"clause\">4.5</span>"), "{}", home.text);

        let again = b.sign_in("DC", GOOD, &code).await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED);
        assert!(again.text.contains("wrong or already used code"), "{}", again.text);
        // Nor is it good on another server over the same database.
        let form = bantay_server::SignInForm { login: "DC".into(), password: GOOD.into(), code: Some(code.clone()) };
        let elsewhere = w.second_server().await.sign_in(&form, "10.9.9.9").await;
        assert!(matches!(elsewhere, Err(bantay_server::ServiceError::SignInRefused(ref m)) if m.contains("already used")), "{elsewhere:?}");
        let opened = w.events().await.iter().filter(|e| e["kind"] == "session.opened").count();
        assert_eq!(opened, 1);
        let factors = w.events().await.into_iter().find(|e| e["kind"] == "session.opened").unwrap();
        assert_eq!(factors["body"]["factors"], json!(["password", "totp"]));
    }

    async fn a_session_cannot_be_fixed_forged_or_used_after_sign_out(backend) {
        let w = World::bureau(backend).await;
        w.set("2026-07-01T09:00:00+08:00");
        password(&w, "BEN").await;
        let b = Browser::open(&w).await;

        // A cookie planted before sign-in is not adopted: sign-in makes its own.
        let planted = "bts_planted_by_someone_else";
        let request = b.http.post(format!("{}/signin", b.base))
            .header("cookie", format!("bantay_session={planted}"))
            .form(&[("login", "BEN"), ("password", GOOD)]);
        let signed = b.page(request.send().await.unwrap()).await;
        let secret = session_cookie(&signed);
        assert_ne!(secret, planted);
        assert_eq!(b.get("/", Some(planted)).await.location.as_deref(), Some("/signin"));

        // Sign-out needs the session's CSRF token.
        let home = b.get("/", Some(&secret)).await;
        let csrf = csrf_of(&home);
        let forged = b.post("/signout", Some(&secret), &[]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(forged.text.contains("no valid CSRF token"), "{}", forged.text);
        let wrong = b.post("/signout", Some(&secret), &[("csrf", "0123456789abcdef")]).await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN);
        assert_eq!(b.get("/", Some(&secret)).await.status, StatusCode::OK, "still signed in");

        let out = b.post("/signout", Some(&secret), &[("csrf", &csrf)]).await;
        assert_eq!(out.location.as_deref(), Some("/signin"));
        assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
        assert_eq!(b.get("/", Some(&secret)).await.location.as_deref(), Some("/signin"));
        let kinds = w.kinds_since(0).await;
        assert!(kinds.ends_with(&["session.opened".to_owned(), "session.closed".to_owned()]), "{kinds:?}");

        // A session ends after twelve hours, however busy it is.
        let again = session_cookie(&b.sign_in("BEN", GOOD, "").await);
        for _ in 0..35 {
            w.advance(20 * 60);
            assert_eq!(b.get("/", Some(&again)).await.status, StatusCode::OK);
        }
        w.advance(20 * 60);
        assert_eq!(b.get("/", Some(&again)).await.location.as_deref(), Some("/signin"));

        // And after half an hour unused: closed, and recorded so. The clock is the
        // database's: use on another server counts, and a restart resets nothing.
        let idle = session_cookie(&b.sign_in("BEN", GOOD, "").await);
        w.advance(bantay_server::IDLE_SECONDS - 60);
        let other = w.second_server().await;
        assert!(other.session(&idle).await.is_ok(), "used just in time, on another server");
        w.advance(bantay_server::IDLE_SECONDS - 60);
        assert_eq!(b.get("/", Some(&idle)).await.status, StatusCode::OK, "and here, in time");
        w.advance(bantay_server::IDLE_SECONDS + 1);
        assert_eq!(b.get("/", Some(&idle)).await.location.as_deref(), Some("/signin"));
        let last = w.events().await.pop().unwrap();
        assert_eq!((last["kind"].as_str(), last["body"]["reason"].as_str()), (Some("session.closed"), Some("idle")), "{last}");
        assert_eq!(b.get("/", Some(&idle)).await.location.as_deref(), Some("/signin"), "closed for good");

        // A sign-in posted from another site is refused.
        let request = b.http.post(format!("{}/signin", b.base))
            .header("origin", "https://evil.example")
            .form(&[("login", "BEN"), ("password", GOOD)]);
        let cross = b.page(request.send().await.unwrap()).await;
        assert_eq!(cross.status, StatusCode::FORBIDDEN);
        assert!(cross.set_cookie.is_none());
    }

    async fn five_failed_sign_ins_make_the_next_wait_even_with_the_right_password(backend) {
        let w = World::bureau(backend).await;
        w.set("2026-07-01T09:00:00+08:00");
        password(&w, "CARL").await;
        let b = Browser::open(&w).await;
        for _ in 0..5 {
            let wrong = b.sign_in("CARL", "guessing the passphrase", "").await;
            assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        }
        let locked = b.sign_in("CARL", GOOD, "").await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(locked.text.contains("too many failed sign-ins; try again after 2026-07-01"), "{}", locked.text);
        assert!(locked.set_cookie.is_none());
        // Another server over the same database (or this one restarted) keeps the lock.
        let other = w.second_server().await;
        let form = |login: &str| bantay_server::SignInForm { login: login.into(), password: GOOD.into(), code: None };
        let elsewhere = other.sign_in(&form("CARL"), "10.9.9.9").await;
        assert!(matches!(elsewhere, Err(bantay_server::ServiceError::TooManyAttempts(_))), "{elsewhere:?}");
        w.advance(15 * 60);
        let later = b.sign_in("CARL", GOOD, "").await;
        assert_eq!(later.location.as_deref(), Some("/"), "{}", later.text);

        // Prometheus sees the same: five refused, one locked out, one in; by route.
        let metrics = b.get("/metrics", None).await.text;
        for line in [
            "bantay_signins_total{outcome=\"refused\"} 5",
            "bantay_signins_total{outcome=\"locked\"} 1",
            "bantay_signins_total{outcome=\"succeeded\"} 1",
            "bantay_http_responses_total{route=\"/signin\",class=\"4xx\"} 6",
            "bantay_http_responses_total{route=\"/signin\",class=\"3xx\"} 1",
        ] {
            assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
        }
        assert!(metrics.contains("bantay_ledger_events "), "{metrics}");
    }

    async fn an_auditor_reads_the_findings_with_their_evidence(backend) {
        let w = World::bureau(backend).await;
        w.set("2026-07-01T09:00:00+08:00");
        w.import(vec![("finding.opened", json!({
            "id": "F-1", "clause": "4.5", "subject": "oracle@cps-db1",
            "summary": "a person used the system account oracle interactively",
            "evidence": "Jul  1 08:59:01 cps-db1 su[4242]: (to oracle) ana on pts/0",
        }))]).await;
        password(&w, "BEN").await;
        w.service.assign_role(&w.operator(), "BEN", bantay_core::Role::Auditor, true).await.unwrap();
        let b = Browser::open(&w).await;
        let secret = session_cookie(&b.sign_in("BEN", GOOD, "").await);
        let page = b.get("/findings", Some(&secret)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page.text.contains("<td>F-1</td><td>4.5</td><td>oracle@cps-db1</td>"), "{}", page.text);
        assert!(page.text.contains("(to oracle) ana on pts/0"));
        let viewed = w.events().await.pop().unwrap();
        assert_eq!((viewed["kind"].as_str(), viewed["actor"].as_str()), (Some("evidence.viewed"), Some("BEN")));
        assert_eq!(viewed["body"], json!({ "findings": ["F-1"], "through": "page" }));
        let home = b.get("/", Some(&secret)).await;
        assert!(home.text.contains("<li class=\"rule breach\"><span class=\"clause\">4.5</span>"), "{}", home.text);
        assert!(home.text.contains("<span class=\"count\">1 open</span>"), "{}", home.text);

        // Everyone's privileges, each with its clause.
        w.legacy_grant("G-1", "ANA", "cps-db-0", "1.3.2", "2026-01-01", "2026-12-31").await;
        let people = b.get("/people", Some(&secret)).await;
        assert!(people.text.contains("<td>ANA Santos (ANA)</td><td>cps-db-0</td><td>CMO 04-2019 1.3.2</td>"), "{}", people.text);
        assert!(people.text.contains("<td>BEN Santos (BEN)</td><td class=\"none\" colspan=\"3\">none</td>"), "{}", people.text);

        // The ledger page proves an event, and says which numbers exist when asked for another.
        let proved = b.get("/ledger?prove=1", Some(&secret)).await;
        assert!(proved.text.contains("✓ Event 1 is included under the signed head of"), "{}", proved.text);
        for (query, words) in [("prove=99999", "the ledger holds events 0 to"), ("prove=one", "`one` is not an event number")] {
            let refused = b.get(&format!("/ledger?{query}"), Some(&secret)).await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
            assert!(refused.text.contains(words), "{}", refused.text);
        }

        // Administrators configure; an auditor does not.
        let refused = w.service.assign_role(&bantay_server::Actor::person("BEN"), "ANA", bantay_core::Role::Auditor, true).await;
        assert!(matches!(refused, Err(bantay_server::ServiceError::Forbidden(_))), "{refused:?}");

        // Every page is sent with the headers that keep it from being framed or sniffed.
        let response = b.http.get(format!("{}/signin", b.base)).send().await.unwrap();
        let csp = response.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"), "{csp}");
        assert_eq!(response.headers()["x-frame-options"], "DENY");
    }
}

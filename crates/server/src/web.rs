//! The web UI: server-rendered pages (maud), plain forms, no script. Handlers find the
//! session from its cookie, call one service method and render its answer; what a person
//! may see or do is decided in the service by Bantay's own policy.
//!
//! Safety: the session cookie is `HttpOnly`, `SameSite=Strict` and `Secure`, and holds a
//! secret Bantay makes at sign-in (a cookie sent before is never adopted, so a session
//! cannot be fixed in advance); every form that changes something carries the session's
//! CSRF token; sign-in refuses a cross-site `Origin`; every page is sent with a strict
//! Content-Security-Policy and may not be framed.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use bantay_core::Timestamp;
use maud::{html, Markup, DOCTYPE};

use crate::error::ServiceError;
use crate::overview::{awaits, Dashboard};
use crate::requests::{RequestForm, RequestView};
use crate::service::Service;
use crate::signin::{Session, SignInForm};

type AppState = Arc<Service>;

/// The session cookie's name.
pub const COOKIE: &str = "bantay_session";

const STYLE: &str = include_str!("web.css");

/// The web UI's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard))
        .route("/signin", get(signin_page).post(signin))
        .route("/signout", post(signout))
        .route("/findings", get(findings))
        .route("/findings/{id}", post(finding_step))
        .route("/requests", get(requests_page).post(submit_request))
        .route("/requests/{id}", get(request_page))
        .route("/requests/{id}/approve", post(approve_request))
        .route("/password", get(password_page).post(change_password))
        .route("/organisation", get(organisation_page))
        .route("/people", get(people_page))
        .route("/accounts", get(accounts_page))
        .route("/ledger", get(ledger_page))
        .route("/passes", post(submit_pass))
        .route("/passes/{id}", get(pass_page))
        .route("/passes/{id}/approve", post(approve_pass))
        .route("/datacenters/{datacenter}", get(board_page))
        .route("/gate", get(gate_index))
        .route("/gate/{datacenter}", get(gate_page).post(gate_scan))
        .route("/static/bantay.css", get(stylesheet))
}

/// Headers every page is sent with.
pub async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Not `no-referrer`: with it, browsers send `Origin: null` on a form's POST, and
        // sign-in could not tell its own page from another site's.
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in fixed {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    response
}

/// The session secret in the request's cookie, if any.
fn cookie_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// A signed-in person; a page asked for without one goes to the sign-in page.
struct Visitor {
    session: Session,
    secret: String,
}

/// Why a page is not shown.
enum PageError {
    SignIn,
    Service(ServiceError),
}

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Unauthenticated => PageError::SignIn,
            other => PageError::Service(other),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn => Redirect::to("/signin").into_response(),
            PageError::Service(e) => {
                let status =
                    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                if status == StatusCode::INTERNAL_SERVER_ERROR {
                    tracing::error!(error = %e, "page failed");
                }
                let body = layout(
                    status.canonical_reason().unwrap_or("Error"),
                    None,
                    html! {
                        h1 { (status.canonical_reason().unwrap_or("Error")) }
                        p.refusal { (e.to_string()) }
                        p { a href="/" { "Back to the dashboard" } }
                    },
                );
                (status, body).into_response()
            }
        }
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, service: &AppState) -> Result<Self, PageError> {
        let secret = cookie_secret(&parts.headers).ok_or(PageError::SignIn)?;
        let session = service.session(&secret).await?;
        Ok(Visitor { session, secret })
    }
}

/// The page around every view: the bar with who is signed in and the sign-out button.
fn layout(title: &str, session: Option<&Session>, body: Markup) -> (HeaderMap, String) {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Bantay" }
                link rel="stylesheet" href="/static/bantay.css";
            }
            body {
                header.bar {
                    a.brand href="/" { "Bantay" }
                    @if let Some(s) = session {
                        nav {
                            a href="/" { "Dashboard" }
                            a href="/requests" { "Requests" }
                            @if s.may(bantay_core::Action::ViewFindings) { a href="/findings" { "Findings" } }
                            @if s.may(bantay_core::Action::ViewDatacenter) { a href="/gate" { "Datacenters" } }
                            a href="/organisation" { "Organisation" }
                            @if s.may(bantay_core::Action::ReadAll) {
                                a href="/people" { "People" }
                                a href="/accounts" { "System accounts" }
                                a href="/ledger" { "Ledger" }
                            }
                        }
                        form.signout method="post" action="/signout" {
                            a.who href="/password" title="Change your password" { (s.name) " (" (s.person) ")" }
                            input type="hidden" name="csrf" value=(s.csrf);
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (headers, markup.into_string())
}

fn when(seconds: i64) -> String {
    Timestamp::from_unix_seconds(seconds).to_string()
}

/// `12-01` for a time: a day in Manila, for a chart's axis.
fn day(seconds: i64) -> String {
    let text = when(seconds);
    text.get(5..10).unwrap_or(&text).to_owned()
}

/// `12-01 06:00` for a time in Manila.
fn day_and_hour(seconds: i64) -> String {
    let text = when(seconds);
    format!("{} {}", text.get(5..10).unwrap_or(""), text.get(11..16).unwrap_or(""))
}

// ---- sign-in ----

fn signin_view(message: Option<&str>, login: &str) -> Markup {
    html! {
        section.signin {
            h1 { "Sign in to Bantay" }
            p.lead { "Privileged access under CMO 04-2019." }
            @if let Some(m) = message { p.refusal role="alert" { (m) } }
            form method="post" action="/signin" {
                label for="login" { "Staff number or e-mail" }
                input #login name="login" value=(login) autocomplete="username" required autofocus;
                label for="password" { "Password" }
                input #password name="password" type="password" autocomplete="current-password" required;
                label for="code" { "Authenticator code " small { "(approvers and administrators)" } }
                input #code name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*";
                button type="submit" { "Sign in" }
            }
        }
    }
}

async fn signin_page() -> impl IntoResponse {
    layout("Sign in", None, signin_view(None, ""))
}

/// A sign-in posted from another site is refused: only Bantay's own page signs in.
fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        None => true,
        Some(origin) => {
            let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
            host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host))
        }
    }
}

/// The client's address, when the server was started with it (`bantay serve` is); failed
/// sign-ins are counted by it.
struct Peer(String);

impl FromRequestParts<AppState> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(Peer(peer.map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())))
    }
}

async fn signin(
    State(service): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    if !same_origin(&headers) {
        let view = signin_view(Some("sign in from Bantay's own page"), "");
        return (StatusCode::FORBIDDEN, layout("Sign in", None, view)).into_response();
    }
    match service.sign_in(&form, &peer).await {
        Ok(signed) => {
            let cookie = format!(
                "{COOKIE}={}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
                signed.secret,
                crate::signin::SESSION_SECONDS
            );
            let mut response = Redirect::to("/").into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(e) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let view = signin_view(Some(&e.to_string()), &form.login);
            (status, layout("Sign in", None, view)).into_response()
        }
    }
}

/// What a changing form carries besides its fields.
#[derive(serde::Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Refuses a form without the session's CSRF token.
fn check_csrf(visitor: &Visitor, sent: &str) -> Result<(), PageError> {
    use sha2::Digest as _;
    // Compared as digests, so the time taken says nothing about the token.
    let digest = |s: &str| sha2::Sha256::digest(s.as_bytes());
    if sent.is_empty() || digest(sent) != digest(&visitor.session.csrf) {
        return Err(PageError::Service(ServiceError::Forbidden(
            "this form is out of date or came from another site (no valid CSRF token); reload the page and try again".to_owned(),
        )));
    }
    Ok(())
}

async fn signout(
    State(service): State<AppState>,
    visitor: Visitor,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&visitor, &form.csrf)?;
    service.sign_out(&visitor.secret).await?;
    let mut response = Redirect::to("/signin").into_response();
    let gone = format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
    if let Ok(value) = HeaderValue::from_str(&gone) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

// ---- pages ----

async fn dashboard(
    State(service): State<AppState>,
    visitor: Visitor,
) -> Result<impl IntoResponse, PageError> {
    let view = service.dashboard(&visitor.session).await?;
    Ok(layout("Dashboard", Some(&visitor.session), dashboard_view(&visitor.session, &view)))
}

fn dashboard_view(session: &Session, view: &Dashboard) -> Markup {
    html! {
        h1 { "Good day, " (session.name) }
        p.roles {
            "Your roles in Bantay: "
            @for (i, role) in session.roles.iter().enumerate() {
                @if i > 0 { ", " }
                span.role { (role.title()) }
            }
        }
        @if let Some(standing) = &view.standing {
            section {
                h2 { "Compliance with CMO 04-2019, rule by rule" }
                ul.standing {
                    @for rule in standing {
                        li class=(if rule.open == 0 { "rule ok" } else { "rule breach" }) {
                            span.clause { (rule.clause) }
                            span.title { (rule.title) }
                            span.count {
                                @if rule.open == 0 { "no open findings" }
                                @else { (rule.open) " open" }
                                @if rule.acknowledged > 0 { " · " (rule.acknowledged) " acknowledged" }
                            }
                        }
                    }
                }
                @if view.weekly.iter().any(|(_, counts)| counts.iter().any(|&n| n > 0)) {
                    @let rules: Vec<&str> = crate::overview::RULES.iter().map(|(c, _)| *c).collect();
                    @let weeks: Vec<(String, Vec<usize>)> = view.weekly.iter().map(|(start, counts)| (day(*start), counts.clone())).collect();
                    (crate::charts::grouped("Findings opened each week, by rule, over the last twelve weeks", &rules, &weeks))
                }
            }
        }
        section {
            h2 { "Your privileges" }
            @if view.grants.is_empty() {
                p { "You hold no privileged access now." }
            } @else {
                table {
                    thead { tr { th { "Resource" } th { "Justified by" } th { "Until" } } }
                    tbody {
                        @for g in &view.grants {
                            tr {
                                td { (g.resource) }
                                td { "CMO 04-2019 " (g.clause) }
                                td { (g.valid_until.map_or_else(|| "standing".to_owned(), when)) }
                            }
                        }
                    }
                }
            }
        }
        p { (view.notifications) " notifications addressed to you." }
    }
}

async fn findings(
    State(service): State<AppState>,
    visitor: Visitor,
) -> Result<impl IntoResponse, PageError> {
    let findings = service.unremediated_findings(&visitor.session).await?;
    let handles = visitor.session.may(bantay_core::Action::HandleFinding);
    let body = html! {
        h1 { "Findings not yet remediated" }
        @if findings.is_empty() {
            p { "None: every rule holds." }
        } @else {
            table.findings {
                thead { tr { th { "Finding" } th { "Clause" } th { "Subject" } th { "What" } th { "Status" } th { "Opened" } @if handles { th { "Answer" } } } }
                tbody {
                    @for f in &findings {
                        tr id=(f.id) {
                            td { (f.id) }
                            td { (f.clause) }
                            td { (f.subject) }
                            td { (f.summary) details { summary { "Evidence" } pre { (f.evidence) } } }
                            td class={ "status " (f.status) } { (f.status) }
                            td { (when(f.opened)) }
                            @if handles {
                                td {
                                    form.step method="post" action={ "/findings/" (f.id) } {
                                        input type="hidden" name="csrf" value=(visitor.session.csrf);
                                        input name="note" aria-label="Note" placeholder="Who owns it, what was done" required;
                                        @if f.status != "acknowledged" {
                                            button.acknowledge type="submit" name="step" value="acknowledge" { "Acknowledge" }
                                        }
                                        button.remediate type="submit" name="step" value="remediate" { "Remediated" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout("Findings", Some(&visitor.session), body))
}

/// A finding's step as its row's form posts it.
#[derive(serde::Deserialize)]
struct FindingPost {
    #[serde(default)]
    csrf: String,
    step: String,
    #[serde(default)]
    note: String,
}

async fn finding_step(
    State(service): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<FindingPost>,
) -> Result<Response, PageError> {
    check_csrf(&visitor, &form.csrf)?;
    let step = crate::accounts::FindingStep::parse(&form.step)?;
    service.handle_finding_as(&visitor.session, &id, step, &form.note).await?;
    Ok(Redirect::to("/findings").into_response())
}

// ---- requests and approvals ----

/// The request form as a browser posts it.
#[derive(serde::Deserialize)]
struct RequestPost {
    #[serde(default)]
    csrf: String,
    resource: String,
    clause: String,
    kind: String,
    #[serde(default)]
    valid_from: String,
    valid_until: String,
}

fn request_rows(requests: &[RequestView]) -> Markup {
    html! {
        table.requests {
            thead { tr { th { "Request" } th { "For" } th { "Resource" } th { "Clause" } th { "Status" } th { "Until" } } }
            tbody {
                @for r in requests {
                    tr {
                        td { a href={ "/requests/" (r.id) } { (r.id) } }
                        td { (r.person) }
                        td { (r.resource) }
                        td { (r.clause) }
                        td class={ "status " (r.status) } { (r.status) }
                        td { (r.valid_until) }
                    }
                }
            }
        }
    }
}

async fn requests_page(
    State(service): State<AppState>,
    visitor: Visitor,
) -> Result<impl IntoResponse, PageError> {
    let page = service.requests_page(&visitor.session).await?;
    let session = &visitor.session;
    let body = html! {
        h1 { "Requests" }
        @if !page.awaiting.is_empty() {
            section.awaiting {
                h2 { "Awaiting your approval" }
                (request_rows(&page.awaiting))
            }
        }
        @if session.may(bantay_core::Action::Request) {
            section {
                h2 { "Ask for privileged access" }
                p { "Cite the duty of your unit that needs it (CMO 04-2019); the order's rules decide at once, then the heads of your units approve in turn." }
                form.ask method="post" action="/requests" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    label for="resource" { "Resource" }
                    input #resource name="resource" list="resources" required;
                    datalist #resources { @for r in &page.resources { option value=(r) {} } }
                    label for="clause" { "Duty clause" }
                    input #clause name="clause" placeholder="e.g. 1.2.4" required;
                    label for="kind" { "Kind" }
                    select #kind name="kind" {
                        option value="standing" { "Standing (days)" }
                        option value="just_in_time" { "Just in time (hours)" }
                    }
                    label for="valid_until" { "Until" }
                    input #valid_until name="valid_until" placeholder="2026-12-31" required;
                    button type="submit" { "Ask" }
                }
            }
        }
        @if session.may(bantay_core::Action::Request) {
            section {
                h2 { "Ask for an emergency datacenter pass" }
                p { "Datacenters are closed (4.3): one approved visit a shift, for an open incident, at most four hours, while the CCTV works. The Deputy Commissioner approves." }
                form.pass method="post" action="/passes" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    label for="datacenter" { "Datacenter" }
                    select #datacenter name="datacenter" {
                        @for (id, name) in &page.datacenters { option value=(id) { (name) } }
                    }
                    label for="incident" { "Incident" }
                    select #incident name="incident" {
                        @for (id, title) in &page.incidents { option value=(id) { (id) ": " (title) } }
                    }
                    label for="reason" { "What must be done inside" }
                    input #reason name="reason" required;
                    label for="until" { "Until" }
                    input #until name="until" placeholder="2026-12-01T10:00" required;
                    button type="submit" { "Ask for a pass" }
                }
            }
        }
        section {
            h2 { "Your requests" }
            @if page.mine.is_empty() { p { "None yet." } } @else { (request_rows(&page.mine)) }
        }
    };
    Ok(layout("Requests", Some(session), body))
}

async fn submit_request(
    State(service): State<AppState>,
    visitor: Visitor,
    Form(form): Form<RequestPost>,
) -> Result<Response, PageError> {
    check_csrf(&visitor, &form.csrf)?;
    let request = RequestForm {
        person: None,
        resource: form.resource.trim().to_owned(),
        clause: form.clause.trim().to_owned(),
        kind: form.kind,
        valid_from: Some(form.valid_from.trim().to_owned()).filter(|v| !v.is_empty()),
        valid_until: form.valid_until.trim().to_owned(),
    };
    let view = service.submit_as(&visitor.session, &request).await?;
    Ok(Redirect::to(&format!("/requests/{}", view.id)).into_response())
}

async fn request_page(
    State(service): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, PageError> {
    let r = service.request_for(&visitor.session, &id).await?;
    let session = &visitor.session;
    let body = html! {
        h1 { "Request " (r.id) }
        p.summary {
            span class={ "status " (r.status) } { (r.status) } " · "
            (r.person) " on " (r.resource) " under CMO 04-2019 " (r.clause)
            " · " (r.kind) " from " (r.valid_from) " until " (r.valid_until)
        }
        @if let Some(grant) = &r.grant { p.granted { "Granted: " (grant) } }
        section {
            h2 { "The order's decision, clause by clause" }
            ul.reasons {
                @for reason in &r.reasons {
                    li class=(reason.effect) { strong { (reason.clause) } " " (reason.effect) ": " (reason.message) }
                }
            }
        }
        section {
            h2 { "Approvals" }
            ol.steps {
                @for step in &r.steps {
                    li {
                        "Head of " (step.unit) ": "
                        @if let Some(approver) = &step.approver {
                            "approved by " (approver) " at " (step.time.as_deref().unwrap_or(""))
                        } @else if !step.eligible.is_empty() {
                            "awaiting " (step.eligible.join(", "))
                        } @else { "to come" }
                    }
                }
            }
            @if r.status == "pending" && awaits(&r, &session.person) && session.may(bantay_core::Action::ApproveRequest) {
                form.approve method="post" action={ "/requests/" (r.id) "/approve" } {
                    input type="hidden" name="csrf" value=(session.csrf);
                    button type="submit" { "Approve this step" }
                }
            }
        }
    };
    Ok(layout(&format!("Request {}", r.id), Some(session), body))
}

async fn approve_request(
    State(service): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&visitor, &form.csrf)?;
    let view = service.approve_as(&visitor.session, &id).await?;
    Ok(Redirect::to(&format!("/requests/{}", view.id)).into_response())
}

// ---- one's own password ----

fn password_view(session: &Session, message: Option<(&str, &str)>) -> Markup {
    html! {
        h1 { "Change your password" }
        @if let Some((class, text)) = message { p class=(class) role="alert" { (text) } }
        form.password method="post" action="/password" {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="current" { "Current password" }
            input #current name="current" type="password" autocomplete="current-password" required;
            label for="password" { "New password " small { "(at least 12 characters; a few words are easiest to remember)" } }
            input #password name="password" type="password" autocomplete="new-password" minlength="12" required;
            button type="submit" { "Change it" }
        }
    }
}

async fn password_page(visitor: Visitor) -> impl IntoResponse {
    layout("Password", Some(&visitor.session), password_view(&visitor.session, None))
}

#[derive(serde::Deserialize)]
struct PasswordPost {
    #[serde(default)]
    csrf: String,
    current: String,
    password: String,
}

async fn change_password(
    State(service): State<AppState>,
    visitor: Visitor,
    Form(form): Form<PasswordPost>,
) -> Result<Response, PageError> {
    check_csrf(&visitor, &form.csrf)?;
    let session = &visitor.session;
    let (status, message) =
        match service.change_password(session, &form.current, &form.password).await {
            Ok(()) => (StatusCode::OK, ("done", "Your password is changed.".to_owned())),
            Err(ServiceError::BadInput { message, .. }) => {
                (StatusCode::BAD_REQUEST, ("refusal", message))
            }
            Err(other) => return Err(other.into()),
        };
    let view = password_view(session, Some((message.0, &message.1)));
    Ok((status, layout("Password", Some(session), view)).into_response())
}

// ---- the organisation, people, system accounts, the ledger ----

async fn organisation_page(
    State(service): State<AppState>,
    visitor: Visitor,
) -> Result<impl IntoResponse, PageError> {
    let units = service.organisation(&visitor.session).await?;
    let body = html! {
        h1 { "The organisation and its duties" }
        p { "CMO 04-2019 gives each unit its duties; privileged access follows them (4.1)." }
        ol.org {
            @for unit in &units {
                li class={ "unit depth-" (unit.depth.min(4)) } id=(unit.id) {
                    h2 { (unit.name) " " small { "(" (unit.id) ")" } }
                    p.head {
                        (unit.head_title) ": "
                        @if unit.heads.is_empty() { span.bad { "no head on record" } } @else { (unit.heads.join(", ")) }
                    }
                    @if !unit.duties.is_empty() {
                        ul.duties {
                            @for (clause, title, text) in &unit.duties {
                                li { strong { (clause) " " (title) } details { summary { "The order's text" } p { (text) } } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout("Organisation", Some(&visitor.session), body))
}

async fn people_page(
    State(service): State<AppState>,
    visitor: Visitor,
) -> Result<impl IntoResponse, PageError> {
    let people = service.people(&visitor.session).await?;
    let body = html! {
        h1 { "Everyone's privileged access" }
        p { "Each privilege in force, with the clause of the order that justifies it." }
        table.people {
            thead { tr { th { "Person" } th { "Resource" } th { "Justified by" } th { "Until" } } }
            tbody {
                @for (person, grants) in &people {
                    @if grants.is_empty() {
                        tr { td { (person.name) " (" (person.id) ")" } td.none colspan="3" { "none" } }
                    }
                    @for (i, g) in grants.iter().enumerate() {
                        tr {
                            td { @if i == 0 { (person.name) " (" (person.id) ")" } }
                            td { (g.resource) }
                            td { "CMO 04-2019 " (g.clause) }
                            td { (g.valid_until.map_or_else(|| "standing".to_owned(), when)) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout("People", Some(&visitor.session), body))
}

async fn accounts_page(
    State(service): State<AppState>,
    visitor: Visitor,
) -> Result<impl IntoResponse, PageError> {
    let accounts = service.system_accounts_as(&visitor.session).await?;
    let body = html! {
        h1 { "System accounts (4.5)" }
        p { "Every privileged system account is documented here and never used by a person; a use from anywhere else, or by someone, is a finding." }
        @if accounts.is_empty() {
            p { "None documented yet: `bantay accounts document` records one." }
        } @else {
            table.accounts {
                thead { tr { th { "Account" } th { "System" } th { "Purpose" } th { "Custodian" } th { "Used as" } th { "From" } } }
                tbody {
                    @for a in &accounts {
                        tr {
                            td { (a.account) "@" (a.host) }
                            td { (a.system) }
                            td { (a.purpose) }
                            td { (a.custodian) }
                            td { (a.usage) }
                            td { (a.origins.join(", ")) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout("System accounts", Some(&visitor.session), body))
}

#[derive(serde::Deserialize)]
struct ProveQuery {
    prove: Option<String>,
}

async fn ledger_page(
    State(service): State<AppState>,
    visitor: Visitor,
    axum::extract::Query(query): axum::extract::Query<ProveQuery>,
) -> Result<impl IntoResponse, PageError> {
    let prove = match query.prove.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(text) => Some(text.parse::<u64>().map_err(|_| {
            ServiceError::bad("prove", format!("`{text}` is not an event number; write e.g. 42"))
        })?),
    };
    let page = service.ledger_page(&visitor.session, prove).await?;
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let body = html! {
        h1 { "The ledger" }
        @if let Some(head) = &page.head {
            section.head {
                h2 { "Signed head" }
                dl {
                    dt { "Events" } dd { (head.head.size) }
                    dt { "Root" } dd { code { (hex::encode(head.head.root)) } }
                    dt { "Signed" } dd { (when(head.head.time)) }
                    dt { "Key" } dd { code { (hex::encode(head.public_key.to_bytes())) } " (introduced by event " (head.key_seq) ")" }
                }
                p { "Compare the key with the one `bantay init` printed; `bantay ledger verify` checks every event and head." }
            }
        }
        section.prove {
            h2 { "Check that an event is in the ledger" }
            form.prove method="get" action="/ledger" {
                label for="prove" { "Event number" }
                input #prove name="prove" inputmode="numeric" required;
                button type="submit" { "Prove" }
            }
            @if let Some((bundle, checked)) = &page.proof {
                @match checked {
                    Ok(()) => p.verdict.ok { "✓ Event " (bundle.seq) " is included under the signed head of " (bundle.tree_size) " events, and the head's signature holds." },
                    Err(why) => p.verdict.bad { "✗ The proof of event " (bundle.seq) " does not hold: " (why) },
                }
                details {
                    summary { "The proof (" (bundle.proof.len()) " hashes): save it and check it offline with `bantay ledger verify-proof --public-key KEY FILE`" }
                    pre { (serde_json::to_string_pretty(bundle).unwrap_or_default()) }
                }
            }
        }
        section {
            h2 { "Newest events" }
            table.events {
                thead { tr { th { "#" } th { "Time" } th { "What" } th { "Who" } } }
                tbody {
                    @for e in &page.recent {
                        tr {
                            td { a href={ "/ledger?prove=" (text(&e["seq"])) } { (text(&e["seq"])) } }
                            td { (e["time"].as_i64().map(when).unwrap_or_default()) }
                            td { (text(&e["kind"])) }
                            td { (text(&e["actor"])) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout("Ledger", Some(&visitor.session), body))
}

// ---- emergency passes and the datacenter board (4.3) ----

/// The pass form as a browser posts it.
#[derive(serde::Deserialize)]
struct PassPost {
    #[serde(default)]
    csrf: String,
    datacenter: String,
    incident: String,
    reason: String,
    until: String,
}

async fn submit_pass(
    State(service): State<AppState>,
    visitor: Visitor,
    Form(form): Form<PassPost>,
) -> Result<Response, PageError> {
    check_csrf(&visitor, &form.csrf)?;
    let pass = crate::datacenter::PassForm {
        person: None,
        datacenter: form.datacenter,
        incident: form.incident,
        reason: form.reason.trim().to_owned(),
        from: None,
        until: form.until.trim().to_owned(),
    };
    let view = service.request_pass_as(&visitor.session, &pass).await?;
    Ok(Redirect::to(&format!("/passes/{}", view.id)).into_response())
}

async fn pass_page(
    State(service): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, PageError> {
    let session = &visitor.session;
    let pass = service.pass_seen_by(&session.person, &session.roles, &id).await?;
    let body = html! {
        h1 { "Emergency pass " (pass.id) }
        p.summary {
            "For " (pass.person) " into " (pass.datacenter) ", " (pass.from) " to " (pass.until)
            " — " span class={ "status " (pass.status) } { (pass.status) }
        }
        p { "Incident " (pass.incident) ": " (pass.reason) }
        @if let Some(approver) = &pass.approver { p { "Approved by " (approver) "." } }
        @if !pass.reasons.is_empty() {
            ul.reasons { @for r in &pass.reasons { li { strong { (r.clause) } " " (r.message) } } }
        }
        @if let Some(code) = &pass.code {
            section.code {
                h2 { "Show this at the door" }
                p { "The guard scans or types this code; it is good for this window only." }
                pre.passcode { (code) }
            }
        }
        @if pass.status == "requested" && session.may(bantay_core::Action::ApprovePass) {
            form.approve method="post" action={ "/passes/" (pass.id) "/approve" } {
                input type="hidden" name="csrf" value=(session.csrf);
                button type="submit" { "Approve this visit" }
            }
        }
    };
    Ok(layout("Emergency pass", Some(session), body))
}

async fn approve_pass(
    State(service): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&visitor, &form.csrf)?;
    let pass = service.approve_pass_as(&visitor.session, &id).await?;
    Ok(Redirect::to(&format!("/passes/{}", pass.id)).into_response())
}

async fn board_page(
    State(service): State<AppState>,
    visitor: Visitor,
    Path(datacenter): Path<String>,
) -> Result<impl IntoResponse, PageError> {
    let session = &visitor.session;
    let board = service.datacenter_board(session, &datacenter).await?;
    let week: Vec<(String, usize)> =
        board.week.iter().map(|(start, n)| (day_and_hour(*start), *n)).collect();
    let body = html! {
        h1 { (board.name) }
        @if session.may(bantay_core::Action::GuardGate) {
            p { a.station href={ "/gate/" (board.datacenter) } { "Open the guard station" } }
        }
        section.requested {
            h2 { "Passes awaiting approval" }
            @if board.requested.is_empty() { p { "None." } } @else {
                table {
                    thead { tr { th { "Pass" } th { "For" } th { "Window" } th { "Incident" } th { "Why" } } }
                    tbody {
                        @for p in &board.requested {
                            tr {
                                td { a href={ "/passes/" (p.id) } { (p.id) } }
                                td { (p.person) }
                                td { (day_and_hour(p.valid_from)) " – " (day_and_hour(p.valid_until)) }
                                td { (p.incident) }
                                td { (p.reason) }
                            }
                        }
                    }
                }
            }
        }
        section.shifts {
            h2 { "Shifts" }
            table.shifts {
                thead { tr { th { "Shift" } th { "Guards" } th { "Approved pass (4.3: one)" } th { "Visits" } } }
                tbody {
                    @for shift in &board.around {
                        tr class=(if shift.current { "current" } else { "" }) {
                            td { (day_and_hour(shift.start)) " – " (day_and_hour(shift.end)) @if shift.current { " (now)" } }
                            td { @if shift.guards.is_empty() { span.bad { "no guard rostered" } } @else { (shift.guards.join(", ")) } }
                            td {
                                @if shift.passes.is_empty() { "—" }
                                @for p in &shift.passes { a href={ "/passes/" (p.id) } { (p.id) } " " (p.person) " " }
                            }
                            td { (shift.visits) }
                        }
                    }
                }
            }
        }
        section {
            h2 { "Occupancy" }
            (crate::charts::bars("Visits in each shift of the past week", &week))
        }
    };
    Ok(layout("Datacenter board", Some(session), body))
}

// ---- the guard station (4.3, 4.4) ----

/// A scan at the door: the code the scanner typed, and which button (or Enter: entry).
#[derive(serde::Deserialize)]
struct ScanPost {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default = "entry")]
    action: String,
}

fn entry() -> String {
    "enter".to_owned()
}

fn gate_view(
    session: &Session,
    board: &crate::overview::GateBoard,
    result: Option<&crate::datacenter::GateView>,
) -> Markup {
    let guard = session.may(bantay_core::Action::GuardGate);
    html! {
        h1 { "Guard station · " (board.name) }
        @if let Some(r) = result {
            @let ok = r.logged.as_deref().is_some_and(|l| l == "entry" || l == "exit");
            section class={ "verdict " (if ok { "allow" } else { "refuse" }) } role="status" {
                p.big {
                    @if ok { "✓ " (r.logged.as_deref().unwrap_or("")) " logged" } @else { "✗ refused: " (r.verdict) }
                }
                @if let Some(name) = &r.name { p { (name) " (" (r.person.as_deref().unwrap_or("")) ")" } }
                @if let (Some(from), Some(until)) = (&r.from, &r.until) { p { "Pass " (r.pass.as_deref().unwrap_or("")) " valid " (from) " to " (until) } }
            }
        }
        @if guard {
            form.scan method="post" action={ "/gate/" (board.datacenter) } autocomplete="off" {
                input type="hidden" name="csrf" value=(session.csrf);
                label for="code" { "Scan or type the pass code" }
                input #code name="code" autofocus required;
                div.buttons {
                    button type="submit" name="action" value="enter" { "Entry" }
                    button.exit type="submit" name="action" value="exit" { "Exit" }
                }
            }
        }
        section {
            h2 { "Inside now (" (board.inside.len()) ")" }
            @if board.inside.is_empty() { p { "Nobody: the datacenter is closed (4.3)." } }
            @else {
                ul.inside { @for (v, name) in &board.inside { li { (name) " (" (v.person) ") since " (when(v.entered)) } } }
            }
        }
        section {
            h2 { "Logbook" }
            table.logbook {
                thead { tr { th { "Time" } th { "Guard" } th { "Action" } th { "Person" } th { "Verdict" } } }
                tbody {
                    @for l in &board.log {
                        tr { td { (when(l.time)) } td { (l.guard) } td { (l.action) } td { (l.person.as_deref().unwrap_or("")) } td { (l.verdict) } }
                    }
                }
            }
        }
    }
}

async fn gate_index(
    State(service): State<AppState>,
    visitor: Visitor,
) -> Result<impl IntoResponse, PageError> {
    visitor.session.require(bantay_core::Action::ViewDatacenter)?;
    let body = html! {
        h1 { "Datacenters" }
        ul.datacenters {
            @for dc in &service.pack().catalog.datacenters {
                li {
                    a href={ "/datacenters/" (dc.id) } { (dc.name) } " (" (dc.port) ")"
                    @if visitor.session.may(bantay_core::Action::GuardGate) {
                        " · " a.station href={ "/gate/" (dc.id) } { "Guard station" }
                    }
                }
            }
        }
    };
    Ok(layout("Datacenters", Some(&visitor.session), body))
}

async fn gate_page(
    State(service): State<AppState>,
    visitor: Visitor,
    Path(datacenter): Path<String>,
) -> Result<impl IntoResponse, PageError> {
    let board = service.gate_board(&visitor.session, &datacenter).await?;
    Ok(layout("Guard station", Some(&visitor.session), gate_view(&visitor.session, &board, None)))
}

/// Logs the scan and shows the verdict above a fresh, focused field for the next one.
async fn gate_scan(
    State(service): State<AppState>,
    visitor: Visitor,
    Path(datacenter): Path<String>,
    Form(form): Form<ScanPost>,
) -> Result<impl IntoResponse, PageError> {
    check_csrf(&visitor, &form.csrf)?;
    let session = &visitor.session;
    let result = service.scan_as(session, &datacenter, &form.action, form.code.trim()).await?;
    let board = service.gate_board(session, &datacenter).await?;
    Ok(layout("Guard station", Some(session), gate_view(session, &board, Some(&result))))
}

async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}

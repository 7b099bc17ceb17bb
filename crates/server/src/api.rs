//! The JSON API at `/api/v1`, documented by the OpenAPI document it serves at
//! `/api/v1/openapi.json`. Handlers authenticate the caller (a bearer token), call one
//! service method and turn its answer into JSON; the HTTP status of every error is
//! decided here, in one `IntoResponse`.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::datacenter::{GateView, IncidentForm, IncidentView, PassForm, PassView};
use crate::enforce::Reconciled;
use crate::error::ServiceError;
use crate::grants::{AssignmentForm, MovedGrant, MoverReport, Swept};
use crate::requests::{ApprovalView, DecisionView, ReasonView, RequestForm, RequestView};
use crate::reviews::{ReviewDecision, ReviewForm, ReviewItemView, ReviewView};
use crate::service::{Actor, Service};
use bantay_core::Action;

type AppState = Arc<Service>;

/// The error body every failing call returns.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    /// The input field at fault, for a 400.
    pub field: Option<String>,
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
        }
        let field = match &self {
            ServiceError::BadInput { field, .. } => Some(field.clone()),
            _ => None,
        };
        (status, Json(ErrorBody { error: self.to_string(), field })).into_response()
    }
}

/// Every API route, and the action Bantay's own policy must allow its caller
/// (`bantay_core::AccessPolicy`); `None` for what anyone may read. A route missing here is
/// refused to everyone, so a new route cannot slip past the policy.
pub const API_ROUTES: &[(&str, &str, Option<Action>)] = &[
    ("GET", "/healthz", None),
    ("GET", "/metrics", None),
    ("GET", "/api/v1/openapi.json", None),
    ("POST", "/api/v1/requests", Some(Action::Request)),
    ("POST", "/api/v1/decisions", Some(Action::ViewOwn)),
    ("GET", "/api/v1/requests", Some(Action::ViewOwn)),
    ("GET", "/api/v1/requests/{id}", Some(Action::ViewOwn)),
    ("POST", "/api/v1/requests/{id}/approve", Some(Action::ApproveRequest)),
    ("POST", "/api/v1/requests/{id}/withdraw", Some(Action::Request)),
    ("GET", "/api/v1/persons/{id}/grants", Some(Action::ViewOwn)),
    ("POST", "/api/v1/personnel-orders", Some(Action::Realign)),
    ("POST", "/api/v1/reviews", Some(Action::Configure)),
    ("GET", "/api/v1/reviews/{id}", Some(Action::ViewOwn)),
    ("POST", "/api/v1/reviews/{id}/decisions", Some(Action::ApproveRequest)),
    ("GET", "/api/v1/notifications", Some(Action::ViewOwn)),
    ("POST", "/api/v1/incidents", Some(Action::Work)),
    ("GET", "/api/v1/incidents", Some(Action::ViewOwn)),
    ("POST", "/api/v1/incidents/{id}/{step}", Some(Action::Work)),
    ("POST", "/api/v1/passes", Some(Action::Request)),
    ("GET", "/api/v1/passes/{id}", Some(Action::ViewOwn)),
    ("POST", "/api/v1/passes/{id}/approve", Some(Action::ApprovePass)),
    ("POST", "/api/v1/passes/{id}/revoke", Some(Action::ApprovePass)),
    ("GET", "/api/v1/passes/{id}/print", Some(Action::ViewOwn)),
    ("GET", "/api/v1/gate/{datacenter}/log", Some(Action::ViewDatacenter)),
    ("POST", "/api/v1/gate/{datacenter}/{action}", Some(Action::GuardGate)),
    ("GET", "/api/v1/findings", Some(Action::ViewFindings)),
    ("POST", "/api/v1/findings/{id}/{step}", Some(Action::HandleFinding)),
    ("GET", "/api/v1/tasks", Some(Action::ViewOwn)),
    ("POST", "/api/v1/tasks/{id}/done", Some(Action::Work)),
];

/// Authenticates the caller of an API route and asks the policy whether their roles allow
/// the route's action; the caller found travels on to the handler as [`Caller`].
async fn authorize(
    State(service): State<AppState>,
    matched: Option<axum::extract::MatchedPath>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = matched.as_ref().map_or("", |m| m.as_str());
    let method = request.method().as_str();
    let route = API_ROUTES.iter().find(|(m, p, _)| *m == method && *p == path);
    let action = match route {
        Some((_, _, None)) => return next.run(request).await,
        Some((_, _, Some(action))) => *action,
        None => {
            return ServiceError::Forbidden(format!("{method} {path} is not open to anyone"))
                .into_response()
        }
    };
    let secret = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let checked = async {
        let secret = secret.ok_or(ServiceError::Unauthenticated)?;
        let actor = service.authenticate(secret.trim()).await?;
        let roles = service.roles_of(actor.id()).await?;
        crate::signin::require(actor.id(), &roles, action)?;
        Ok::<_, ServiceError>((actor, roles))
    };
    match checked.await {
        Ok((actor, roles)) => {
            request.extensions_mut().insert(Caller(actor));
            request.extensions_mut().insert(CallerRoles(roles));
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

/// The roles [`authorize`] found the caller to hold, for what a route shows only to some.
#[derive(Clone)]
struct CallerRoles(std::collections::BTreeSet<bantay_core::Role>);

impl FromRequestParts<AppState> for CallerRoles {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ServiceError> {
        parts.extensions.get::<CallerRoles>().cloned().ok_or(ServiceError::Unauthenticated)
    }
}

/// The caller [`authorize`] found.
#[derive(Clone)]
struct Caller(Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ServiceError> {
        parts.extensions.get::<Caller>().cloned().ok_or(ServiceError::Unauthenticated)
    }
}

/// A JSON body whose rejection is a Bantay error naming what was wrong with it.
struct Body<T>(T);

impl<T: serde::de::DeserializeOwned + Send> axum::extract::FromRequest<AppState> for Body<T> {
    type Rejection = ServiceError;

    async fn from_request(
        req: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, ServiceError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(ServiceError::bad("body", rejection.body_text())),
        }
    }
}

type ApiResult<T> = Result<Json<T>, ServiceError>;

#[utoipa::path(post, path = "/api/v1/requests", request_body = RequestForm, tag = "requests",
    responses((status = 201, description = "Recorded: pending, or refused with the clauses that refuse it", body = RequestView),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn submit(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(form): Body<RequestForm>,
) -> Result<(StatusCode, Json<RequestView>), ServiceError> {
    Ok((StatusCode::CREATED, Json(s.submit(&actor, &form).await?)))
}

#[utoipa::path(post, path = "/api/v1/decisions", request_body = RequestForm, tag = "requests",
    responses((status = 200, description = "What the order would decide of this request now, recorded nowhere", body = DecisionView),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn preview(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(form): Body<RequestForm>,
) -> ApiResult<DecisionView> {
    Ok(Json(s.preview(&actor, &form).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct RequestFilter {
    /// Only requests of this status.
    status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/requests", params(RequestFilter), tag = "requests",
    responses((status = 200, body = Vec<RequestView>), (status = 401, body = ErrorBody)))]
async fn list_requests(
    State(s): State<AppState>,
    Caller(actor): Caller,
    CallerRoles(roles): CallerRoles,
    Query(f): Query<RequestFilter>,
) -> ApiResult<Vec<RequestView>> {
    Ok(Json(s.requests_seen_by(actor.id(), &roles, f.status.as_deref()).await?))
}

#[utoipa::path(get, path = "/api/v1/requests/{id}", params(("id" = String, Path)), tag = "requests",
    responses((status = 200, body = RequestView), (status = 404, body = ErrorBody)))]
async fn show_request(
    State(s): State<AppState>,
    Caller(actor): Caller,
    CallerRoles(roles): CallerRoles,
    Path(id): Path<String>,
) -> ApiResult<RequestView> {
    Ok(Json(s.request_seen_by(actor.id(), &roles, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/requests/{id}/approve", params(("id" = String, Path)), tag = "requests",
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn approve(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<RequestView> {
    Ok(Json(s.approve(&actor, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/requests/{id}/withdraw", params(("id" = String, Path)), tag = "requests",
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn withdraw(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<RequestView> {
    Ok(Json(s.withdraw(&actor, &id).await?))
}

/// A grant as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    pub id: String,
    pub person: String,
    pub resource: String,
    pub clause: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    /// `active`, `suspended`, `expired` or `revoked`.
    pub status: String,
    pub request: Option<String>,
}

fn time(seconds: i64) -> String {
    bantay_core::Timestamp::from_unix_seconds(seconds).to_string()
}

#[utoipa::path(get, path = "/api/v1/persons/{id}/grants", params(("id" = String, Path)), tag = "grants",
    responses((status = 200, body = Vec<GrantView>), (status = 404, body = ErrorBody)))]
async fn grants(
    State(s): State<AppState>,
    Caller(actor): Caller,
    CallerRoles(roles): CallerRoles,
    Path(id): Path<String>,
) -> ApiResult<Vec<GrantView>> {
    let rows = s.grants_seen_by(&actor, &roles, &id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|g| GrantView {
                id: g.id,
                person: g.person,
                resource: g.resource,
                clause: g.clause,
                valid_from: time(g.valid_from),
                valid_until: g.valid_until.map(time),
                status: g.status,
                request: g.request,
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/personnel-orders", request_body = AssignmentForm, tag = "personnel",
    responses((status = 201, description = "The mover report", body = MoverReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn personnel_order(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(form): Body<AssignmentForm>,
) -> Result<(StatusCode, Json<MoverReport>), ServiceError> {
    Ok((StatusCode::CREATED, Json(s.assign(&actor, &form).await?)))
}

#[utoipa::path(post, path = "/api/v1/reviews", request_body = ReviewForm, tag = "reviews",
    responses((status = 201, body = ReviewView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn open_review(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(form): Body<ReviewForm>,
) -> Result<(StatusCode, Json<ReviewView>), ServiceError> {
    Ok((StatusCode::CREATED, Json(s.open_review(&actor, &form).await?)))
}

#[utoipa::path(get, path = "/api/v1/reviews/{id}", params(("id" = String, Path)), tag = "reviews",
    responses((status = 200, body = ReviewView), (status = 404, body = ErrorBody)))]
async fn show_review(
    State(s): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<ReviewView> {
    Ok(Json(s.review(&id).await?))
}

#[utoipa::path(post, path = "/api/v1/reviews/{id}/decisions", params(("id" = String, Path)), request_body = ReviewDecision, tag = "reviews",
    responses((status = 200, body = ReviewView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn decide_review(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(d): Body<ReviewDecision>,
) -> ApiResult<ReviewView> {
    Ok(Json(s.decide_review(&actor, &id, &d).await?))
}

/// A notification in the caller's inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    pub subject: String,
    pub body: String,
    pub created: String,
    /// `queued`, `sent` or `failed` (mail delivery).
    pub status: String,
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    responses((status = 200, description = "The caller's inbox, newest first", body = Vec<NotificationView>), (status = 401, body = ErrorBody)))]
async fn inbox(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Vec<NotificationView>> {
    let rows = s.inbox(actor.id()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|n| NotificationView {
                id: n.id,
                subject: n.subject,
                body: n.body,
                created: time(n.created),
                status: n.status,
            })
            .collect(),
    ))
}

/// A revocation task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    pub id: String,
    pub grant: String,
    pub reason: String,
    pub due: String,
    /// `open` or `done`.
    pub status: String,
    pub evidence: Option<String>,
    pub done_by: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tasks", tag = "grants",
    responses((status = 200, description = "Revocation tasks, open ones first", body = Vec<TaskView>), (status = 401, body = ErrorBody)))]
async fn tasks(State(s): State<AppState>, _caller: Caller) -> ApiResult<Vec<TaskView>> {
    let rows = s.store().tasks().await.map_err(ServiceError::from)?;
    Ok(Json(
        rows.into_iter()
            .map(|t| TaskView {
                id: t.id,
                grant: t.grant_id,
                reason: t.reason,
                due: time(t.due),
                status: t.status,
                evidence: t.evidence,
                done_by: t.done_by,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskDoneForm {
    /// What was done and where it shows.
    pub evidence: String,
}

#[utoipa::path(post, path = "/api/v1/tasks/{id}/done", params(("id" = String, Path)), request_body = TaskDoneForm, tag = "grants",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn task_done(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(form): Body<TaskDoneForm>,
) -> Result<StatusCode, ServiceError> {
    s.complete_task(&actor, &id, &form.evidence).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/incidents", request_body = IncidentForm, tag = "datacenter",
    responses((status = 201, body = IncidentView), (status = 400, body = ErrorBody)))]
async fn open_incident(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(form): Body<IncidentForm>,
) -> Result<(StatusCode, Json<IncidentView>), ServiceError> {
    Ok((StatusCode::CREATED, Json(s.open_incident(&actor, &form).await?)))
}

#[utoipa::path(get, path = "/api/v1/incidents", tag = "datacenter",
    responses((status = 200, description = "Open incidents, the first to breach first", body = Vec<IncidentView>)))]
async fn incidents(State(s): State<AppState>, _caller: Caller) -> ApiResult<Vec<IncidentView>> {
    Ok(Json(s.open_incidents().await?))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/{step}", params(("id" = String, Path), ("step" = String, Path, description = "responded or resolved")), tag = "datacenter",
    responses((status = 200, body = IncidentView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn incident_step(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((id, step)): Path<(String, String)>,
) -> ApiResult<IncidentView> {
    Ok(Json(s.incident_step(&actor, &id, &step).await?))
}

#[utoipa::path(post, path = "/api/v1/passes", request_body = PassForm, tag = "datacenter",
    responses((status = 201, description = "Requested, or refused with the clauses that refuse it", body = PassView), (status = 400, body = ErrorBody)))]
async fn request_pass(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(form): Body<PassForm>,
) -> Result<(StatusCode, Json<PassView>), ServiceError> {
    Ok((StatusCode::CREATED, Json(s.request_pass(&actor, &form).await?)))
}

#[utoipa::path(get, path = "/api/v1/passes/{id}", params(("id" = String, Path)), tag = "datacenter",
    responses((status = 200, body = PassView), (status = 404, body = ErrorBody)))]
async fn show_pass(
    State(s): State<AppState>,
    Caller(actor): Caller,
    CallerRoles(roles): CallerRoles,
    Path(id): Path<String>,
) -> ApiResult<PassView> {
    Ok(Json(s.pass_seen_by(actor.id(), &roles, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/passes/{id}/approve", params(("id" = String, Path)), tag = "datacenter",
    responses((status = 200, description = "Approved and signed, or refused", body = PassView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn approve_pass(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<PassView> {
    Ok(Json(s.approve_pass(&actor, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeForm {
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/passes/{id}/revoke", params(("id" = String, Path)), request_body = RevokeForm, tag = "datacenter",
    responses((status = 200, body = PassView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn revoke_pass(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(form): Body<RevokeForm>,
) -> ApiResult<PassView> {
    Ok(Json(s.revoke_pass(&actor, &id, &form.reason).await?))
}

#[utoipa::path(get, path = "/api/v1/passes/{id}/print", params(("id" = String, Path)), tag = "datacenter",
    responses((status = 200, description = "The printable pass with its QR code", content_type = "text/html", body = String), (status = 409, body = ErrorBody)))]
async fn print_pass(
    State(s): State<AppState>,
    Caller(actor): Caller,
    CallerRoles(roles): CallerRoles,
    Path(id): Path<String>,
) -> Result<axum::response::Html<String>, ServiceError> {
    s.pass_seen_by(actor.id(), &roles, &id).await?;
    Ok(axum::response::Html(s.print_pass(&id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeForm {
    /// The pass code, as scanned or typed.
    pub code: String,
}

#[utoipa::path(post, path = "/api/v1/gate/{datacenter}/{action}", params(("datacenter" = String, Path), ("action" = String, Path, description = "check, enter or exit")), request_body = CodeForm, tag = "datacenter",
    responses((status = 200, description = "The verdict, and what was logged", body = GateView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn gate(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((datacenter, action)): Path<(String, String)>,
    Body(form): Body<CodeForm>,
) -> ApiResult<GateView> {
    let view = match action.as_str() {
        "check" => s.gate_check(&actor, &datacenter, &form.code).await?,
        "enter" => s.gate_enter(&actor, &datacenter, &form.code).await?,
        "exit" => s.gate_exit(&actor, &datacenter, &form.code).await?,
        other => return Err(ServiceError::NotFound { what: "gate action", id: other.to_owned() }),
    };
    Ok(Json(view))
}

/// A line of the guard's logbook.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogLine {
    pub seq: i64,
    pub time: String,
    pub guard: String,
    /// entry, exit or refused.
    pub action: String,
    pub pass: Option<String>,
    pub person: Option<String>,
    pub verdict: String,
}

#[utoipa::path(get, path = "/api/v1/gate/{datacenter}/log", params(("datacenter" = String, Path)), tag = "datacenter",
    responses((status = 200, description = "The logbook, newest first", body = Vec<LogLine>)))]
async fn logbook(
    State(s): State<AppState>,
    _caller: Caller,
    Path(datacenter): Path<String>,
) -> ApiResult<Vec<LogLine>> {
    let rows = s.logbook(&datacenter, 200).await?;
    Ok(Json(
        rows.into_iter()
            .map(|l| LogLine {
                seq: l.seq,
                time: time(l.time),
                guard: l.guard,
                action: l.action,
                pass: l.pass,
                person: l.person,
                verdict: l.verdict,
            })
            .collect(),
    ))
}

/// A finding: what breaks which clause, the evidence, and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingView {
    pub id: String,
    pub clause: String,
    pub subject: String,
    pub summary: String,
    /// The log lines, records or rows that show it.
    pub evidence: String,
    /// open, acknowledged, remediated or reopened.
    pub status: String,
    pub opened: String,
}

impl From<bantay_store::FindingRow> for FindingView {
    fn from(f: bantay_store::FindingRow) -> Self {
        Self {
            opened: time(f.opened),
            id: f.id,
            clause: f.clause,
            subject: f.subject,
            summary: f.summary,
            evidence: f.evidence,
            status: f.status,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/findings", tag = "findings",
    responses((status = 200, description = "Every finding, newest first", body = Vec<FindingView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn findings(State(s): State<AppState>, Caller(actor): Caller) -> ApiResult<Vec<FindingView>> {
    Ok(Json(s.findings(&actor, "api").await?.into_iter().map(FindingView::from).collect()))
}

/// Why a finding moves on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingNote {
    /// Who owns it and what will be done; what was done; why it is back.
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/findings/{id}/{step}", params(("id" = String, Path), ("step" = String, Path, description = "acknowledge, remediate or reopen")), request_body = FindingNote, tag = "findings",
    responses((status = 200, body = FindingView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn finding_step(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((id, step)): Path<(String, String)>,
    Body(form): Body<FindingNote>,
) -> ApiResult<FindingView> {
    let step = crate::accounts::FindingStep::parse(&step)?;
    Ok(Json(s.finding_step(&actor, &id, step, &form.note).await?.into()))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}

/// Adds to every operation the errors any route can answer (the middleware's 401 and 403,
/// and the service's statuses, from `ServiceError::status`), each with the error body,
/// so that a client or a schema-driven fuzzer finds every status documented.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, Ref, ResponseBuilder};
        const ERRORS: [(&str, &str); 7] = [
            ("400", "Bad input: the body names the field and how to fix it"),
            ("401", "No valid bearer token"),
            (
                "403",
                "Bantay's own policy refuses the caller's roles, or the service refuses the caller",
            ),
            ("404", "No such record"),
            ("409", "Refused in the record's present state"),
            ("502", "A system Bantay reads or enforces on did not answer"),
            ("503", "Too many writers at once; try again"),
        ];
        for item in api.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                for (status, description) in ERRORS {
                    operation.responses.responses.entry(status.to_owned()).or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(description)
                            .content(
                                "application/json",
                                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                            )
                            .build()
                            .into()
                    });
                }
            }
        }
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("token", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        api.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "token",
            Vec::<String>::new(),
        )]);
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Bantay", description = "Privileged-access governance for CMO 04-2019: requests, approvals, grants, realignment, reviews, incidents, emergency datacenter passes and the guard station."),
    paths(submit, preview, list_requests, show_request, approve, withdraw, grants, personnel_order, open_review, show_review, decide_review, inbox, tasks, task_done,
        open_incident, incidents, incident_step, request_pass, show_pass, approve_pass, revoke_pass, print_pass, gate, logbook, findings, finding_step),
    components(schemas(ErrorBody, RequestForm, RequestView, DecisionView, ReasonView, ApprovalView, GrantView, AssignmentForm, MoverReport, MovedGrant,
        ReviewForm, ReviewDecision, ReviewView, ReviewItemView, NotificationView, TaskView, TaskDoneForm,
        IncidentForm, IncidentView, PassForm, PassView, RevokeForm, CodeForm, GateView, LogLine, Swept, Reconciled, FindingView, FindingNote)),
    modifiers(&BearerAuth, &ErrorResponses)
)]
struct ApiDoc;

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The API's routes over a service.
pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/requests", post(submit).get(list_requests))
        .route("/api/v1/decisions", post(preview))
        .route("/api/v1/requests/{id}", get(show_request))
        .route("/api/v1/requests/{id}/approve", post(approve))
        .route("/api/v1/requests/{id}/withdraw", post(withdraw))
        .route("/api/v1/persons/{id}/grants", get(grants))
        .route("/api/v1/personnel-orders", post(personnel_order))
        .route("/api/v1/reviews", post(open_review))
        .route("/api/v1/reviews/{id}", get(show_review))
        .route("/api/v1/reviews/{id}/decisions", post(decide_review))
        .route("/api/v1/notifications", get(inbox))
        .route("/api/v1/incidents", post(open_incident).get(incidents))
        .route("/api/v1/incidents/{id}/{step}", post(incident_step))
        .route("/api/v1/passes", post(request_pass))
        .route("/api/v1/passes/{id}", get(show_pass))
        .route("/api/v1/passes/{id}/approve", post(approve_pass))
        .route("/api/v1/passes/{id}/revoke", post(revoke_pass))
        .route("/api/v1/passes/{id}/print", get(print_pass))
        .route("/api/v1/gate/{datacenter}/log", get(logbook))
        .route("/api/v1/gate/{datacenter}/{action}", post(gate))
        .route("/api/v1/findings", get(findings))
        .route("/api/v1/findings/{id}/{step}", post(finding_step))
        .route("/api/v1/tasks", get(tasks))
        .route("/api/v1/tasks/{id}/done", post(task_done))
        .route_layer(axum::middleware::from_fn_with_state(service.clone(), authorize))
        .merge(crate::scim_http::routes())
        .merge(crate::web::routes())
        .layer(axum::middleware::map_response(crate::web::page_headers))
        .route_layer(axum::middleware::from_fn_with_state(service.clone(), crate::metrics::count))
        .with_state(service)
}

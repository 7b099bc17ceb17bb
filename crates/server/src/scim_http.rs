//! SCIM 2.0 over HTTP at `/scim/v2` (RFC 7644): discovery (`ServiceProviderConfig`,
//! `ResourceTypes`, `Schemas`, readable without a token) and `Users` and `Groups`
//! (list with filter and pagination, `.search`, read, create, replace, PATCH, delete,
//! with `Authorization: Bearer <token>`). Every answer is `application/scim+json`;
//! every refusal an RFC 7644 §3.12 error body.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bantay_connect::scim::{self, AttrPath, Filter, ResourceType, ScimError};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::scim::ScimWrite;
use crate::service::{Actor, Service};

type AppState = Arc<Service>;

/// The most resources one page holds (`ServiceProviderConfig` says so).
const MAX_RESULTS: usize = 200;

const CONTENT_TYPE: &str = "application/scim+json";

/// A SCIM answer: a status and a JSON body, or a refusal.
enum Answer {
    Json(StatusCode, Value, Option<String>),
    Empty,
    Error(ScimError),
}

impl From<ScimError> for Answer {
    fn from(e: ScimError) -> Self {
        Answer::Error(e)
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        match self {
            Answer::Json(status, body, location) => {
                let mut response =
                    (status, [(header::CONTENT_TYPE, CONTENT_TYPE)], body.to_string())
                        .into_response();
                if let Some(location) = location.and_then(|l| l.parse().ok()) {
                    response.headers_mut().insert(header::LOCATION, location);
                }
                response
            }
            Answer::Empty => StatusCode::NO_CONTENT.into_response(),
            Answer::Error(e) => {
                let status =
                    StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let mut response =
                    (status, [(header::CONTENT_TYPE, CONTENT_TYPE)], e.body().to_string())
                        .into_response();
                if e.status == 401 {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        header::HeaderValue::from_static("Bearer realm=\"bantay\""),
                    );
                }
                response
            }
        }
    }
}

fn ok(body: Value) -> Answer {
    Answer::Json(StatusCode::OK, body, None)
}

/// The base of every URL shown: the address the client used (`Host`, and
/// `X-Forwarded-Proto` behind a proxy).
fn base(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).unwrap_or("http");
    format!("{scheme}://{host}/scim/v2")
}

async fn caller(service: &Service, headers: &HeaderMap) -> Result<Actor, ScimError> {
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ScimError {
            status: 401,
            scim_type: None,
            detail: "send a SCIM token as `Authorization: Bearer <token>` \
                     (`bantay tokens issue --person P --scim`)"
                .into(),
        })?;
    service.authenticate_scim(secret.trim()).await.map_err(|_| ScimError {
        status: 401,
        scim_type: None,
        detail: "not a live SCIM token: issue one with `bantay tokens issue --person P --scim` \
                 (a person's API token does not serve SCIM)"
            .into(),
    })
}

fn resource_type(endpoint: &str) -> Result<&'static ResourceType, ScimError> {
    scim::resource_types()
        .iter()
        .find(|rt| rt.endpoint.trim_start_matches('/') == endpoint)
        .ok_or_else(|| {
            ScimError::not_found(format!(
                "no resource type at `/{endpoint}`; there are /Users and /Groups"
            ))
        })
}

fn json_body(bytes: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("the body is not JSON: {e}")))
}

/// `attributes`, `excludedAttributes`, and for lists `filter`, `startIndex`, `count`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    attributes: Option<String>,
    excluded_attributes: Option<String>,
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
}

impl Params {
    fn from_search(body: &Value) -> Result<Self, ScimError> {
        let list = |key: &str| -> Option<String> {
            match body.get(key)? {
                Value::Array(items) => {
                    Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","))
                }
                Value::String(s) => Some(s.clone()),
                _ => None,
            }
        };
        let number = |key: &str| body.get(key).map(|v| v.to_string());
        if !body
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|v| v == scim::SEARCH_REQUEST))
        {
            return Err(ScimError::bad(
                "invalidSyntax",
                format!("`schemas` must be [\"{}\"]", scim::SEARCH_REQUEST),
            ));
        }
        Ok(Self {
            attributes: list("attributes"),
            excluded_attributes: list("excludedAttributes"),
            filter: body.get("filter").and_then(Value::as_str).map(str::to_owned),
            start_index: number("startIndex"),
            count: number("count"),
        })
    }

    fn paths(text: Option<&str>, rt: &ResourceType) -> Result<Vec<AttrPath>, ScimError> {
        text.unwrap_or_default()
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| AttrPath::parse(p, rt))
            .collect()
    }

    fn project(
        &self,
        rt: &ResourceType,
        resource: &Map<String, Value>,
    ) -> Result<Value, ScimError> {
        let attributes = Self::paths(self.attributes.as_deref(), rt)?;
        let excluded = Self::paths(self.excluded_attributes.as_deref(), rt)?;
        Ok(Value::Object(scim::project(rt, resource, &attributes, &excluded)))
    }

    fn number(text: Option<&str>, name: &str) -> Result<Option<i64>, ScimError> {
        text.map(|t| {
            t.trim().parse::<i64>().map_err(|_| {
                ScimError::bad(
                    "invalidValue",
                    format!("`{name}` must be a whole number, not `{t}`"),
                )
            })
        })
        .transpose()
    }
}

async fn service_provider_config() -> Answer {
    ok(scim::service_provider_config(MAX_RESULTS))
}

fn schema_json(schema: &scim::Schema, base: &str) -> Value {
    let mut v = serde_json::to_value(schema).unwrap_or(Value::Null);
    v["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"]);
    v["meta"] =
        json!({ "resourceType": "Schema", "location": format!("{base}/Schemas/{}", schema.id) });
    v
}

fn resource_type_json(rt: &ResourceType, base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": rt.name,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema.id,
        "schemaExtensions": rt.extensions.iter().map(|e| json!({ "schema": e.id, "required": false })).collect::<Vec<_>>(),
        "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{}", rt.name) },
    })
}

fn list(items: Vec<Value>) -> Answer {
    ok(json!({
        "schemas": [scim::LIST_RESPONSE],
        "totalResults": items.len(),
        "startIndex": 1,
        "itemsPerPage": items.len(),
        "Resources": items,
    }))
}

async fn schemas(headers: HeaderMap) -> Answer {
    let base = base(&headers);
    list(scim::schemas().into_iter().map(|s| schema_json(s, &base)).collect())
}

async fn schema(headers: HeaderMap, Path(id): Path<String>) -> Answer {
    match scim::schemas().into_iter().find(|s| s.id == id) {
        Some(s) => ok(schema_json(s, &base(&headers))),
        None => ScimError::not_found(format!("no schema `{id}`")).into(),
    }
}

async fn resource_types(headers: HeaderMap) -> Answer {
    let base = base(&headers);
    list(scim::resource_types().iter().map(|rt| resource_type_json(rt, &base)).collect())
}

async fn one_resource_type(headers: HeaderMap, Path(id): Path<String>) -> Answer {
    match scim::resource_type(&id) {
        Some(rt) => ok(resource_type_json(rt, &base(&headers))),
        None => ScimError::not_found(format!("no resource type `{id}`; there are User and Group"))
            .into(),
    }
}

async fn search_get(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(endpoint): Path<String>,
    Query(params): Query<Params>,
) -> Answer {
    let found = async {
        let rt = resource_type(&endpoint)?;
        search(&s, &headers, &[rt], params).await
    };
    found.await.unwrap_or_else(Answer::Error)
}

async fn search_post(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(endpoint): Path<String>,
    body: Bytes,
) -> Answer {
    let found = async {
        let rt = resource_type(&endpoint)?;
        let params = Params::from_search(&json_body(&body)?)?;
        search(&s, &headers, &[rt], params).await
    };
    found.await.unwrap_or_else(Answer::Error)
}

/// `POST /.search`: every resource type at once (RFC 7644 §3.4.3).
async fn search_all(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Answer {
    let found = async {
        let params = Params::from_search(&json_body(&body)?)?;
        let all: Vec<&ResourceType> = scim::resource_types().iter().collect();
        search(&s, &headers, &all, params).await
    };
    found.await.unwrap_or_else(Answer::Error)
}

/// A page of the resources a filter selects (RFC 7644 §3.4.2): `startIndex` counts from
/// 1, `count` is at most [`MAX_RESULTS`]; without a filter, every resource. Across
/// several types, a filter naming an attribute one type lacks selects none of it.
async fn search(
    s: &Service,
    headers: &HeaderMap,
    types: &[&ResourceType],
    params: Params,
) -> Result<Answer, ScimError> {
    caller(s, headers).await?;
    let text = params.filter.as_deref().filter(|f| !f.trim().is_empty());
    let mut filters = Vec::new();
    let mut refusal = None;
    for &rt in types {
        match text.map(|f| Filter::parse(f, rt)).transpose() {
            Ok(filter) => filters.push((rt, filter)),
            Err(e) => refusal = Some(e),
        }
    }
    if let (true, Some(e)) = (filters.is_empty(), refusal) {
        return Err(e);
    }
    let start = Params::number(params.start_index.as_deref(), "startIndex")?.unwrap_or(1).max(1);
    let count = Params::number(params.count.as_deref(), "count")?
        .unwrap_or(MAX_RESULTS as i64)
        .clamp(0, MAX_RESULTS as i64);
    let mut selected = Vec::new();
    for (rt, filter) in &filters {
        for resource in s.scim_list(rt, &base(headers)).await? {
            if filter.as_ref().map_or(Ok(true), |f| f.matches(rt, &resource))? {
                selected.push((*rt, resource));
            }
        }
    }
    let total = selected.len();
    let page: Vec<Value> = selected
        .iter()
        .skip(usize::try_from(start - 1).unwrap_or(usize::MAX))
        .take(usize::try_from(count).unwrap_or(0))
        .map(|(rt, r)| params.project(rt, r))
        .collect::<Result<_, _>>()?;
    Ok(ok(json!({
        "schemas": [scim::LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": page.len(),
        "Resources": page,
    })))
}

async fn create(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(endpoint): Path<String>,
    Query(params): Query<Params>,
    body: Bytes,
) -> Answer {
    let created = async {
        let rt = resource_type(&endpoint)?;
        let actor = caller(&s, &headers).await?;
        let body = json_body(&body)?;
        let id = s.scim_write(&actor, rt, ScimWrite::Create(&body)).await?;
        let shown = s.scim_get(rt, &base(&headers), &id).await?;
        let location = shown
            .get("meta")
            .and_then(|m| m.get("location"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok::<_, ScimError>(Answer::Json(StatusCode::CREATED, params.project(rt, &shown)?, location))
    };
    created.await.unwrap_or_else(Answer::Error)
}

async fn read(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((endpoint, id)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Answer {
    let read = async {
        let rt = resource_type(&endpoint)?;
        caller(&s, &headers).await?;
        let shown = s.scim_get(rt, &base(&headers), &id).await?;
        Ok::<_, ScimError>(ok(params.project(rt, &shown)?))
    };
    read.await.unwrap_or_else(Answer::Error)
}

async fn write(
    s: &Service,
    headers: &HeaderMap,
    endpoint: &str,
    id: &str,
    params: &Params,
    body: &Bytes,
    patch: bool,
) -> Result<Answer, ScimError> {
    let rt = resource_type(endpoint)?;
    let actor = caller(s, headers).await?;
    let body = json_body(body)?;
    let change = if patch { ScimWrite::Patch(id, &body) } else { ScimWrite::Replace(id, &body) };
    let id = s.scim_write(&actor, rt, change).await?;
    let shown = s.scim_get(rt, &base(headers), &id).await?;
    Ok(ok(params.project(rt, &shown)?))
}

/// `PUT` replaces a resource, `PATCH` changes it.
async fn replace_or_patch(
    State(s): State<AppState>,
    method: axum::http::Method,
    headers: HeaderMap,
    Path((endpoint, id)): Path<(String, String)>,
    Query(params): Query<Params>,
    body: Bytes,
) -> Answer {
    let patch = method == axum::http::Method::PATCH;
    write(&s, &headers, &endpoint, &id, &params, &body, patch).await.unwrap_or_else(Answer::Error)
}

async fn delete(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((endpoint, id)): Path<(String, String)>,
) -> Answer {
    let deleted = async {
        let rt = resource_type(&endpoint)?;
        let actor = caller(&s, &headers).await?;
        s.scim_delete(&actor, rt, &id).await?;
        Ok::<_, ScimError>(Answer::Empty)
    };
    deleted.await.unwrap_or_else(Answer::Error)
}

/// The SCIM routes, to merge into the API's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/scim/v2/ServiceProviderConfig", get(service_provider_config))
        .route("/scim/v2/Schemas", get(schemas))
        .route("/scim/v2/Schemas/{id}", get(schema))
        .route("/scim/v2/ResourceTypes", get(resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(one_resource_type))
        .route("/scim/v2/.search", post(search_all))
        .route("/scim/v2/{endpoint}", get(search_get).post(create))
        .route("/scim/v2/{endpoint}/.search", post(search_post))
        .route(
            "/scim/v2/{endpoint}/{id}",
            get(read).put(replace_or_patch).patch(replace_or_patch).delete(delete),
        )
}

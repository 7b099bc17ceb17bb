//! Identities an identity provider provisions over SCIM 2.0: Users and Groups kept as
//! the provider writes them (checked against the schemas of `connect::scim`), and what
//! they mean for the order.
//!
//! A User is a person: creating one records the person (or takes up a person already
//! on record whose id is the userName or whose e-mail address is one of the User's),
//! and its names and primary e-mail keep the person's record current. A User deleted,
//! or made inactive, has left: every privileged grant they still hold is suspended from
//! that moment with a task to revoke it (as at a realignment, section 3), Bantay
//! removes what it enforces itself, and accounts on real systems still linked to them
//! are a 4.1 finding. Groups are kept for the provider (their members are Users or
//! Groups on record); Bantay's units come from the policy pack and personnel orders,
//! not from the provider's groups.

use bantay_connect::scim::{self, ResourceType, ScimError};
use bantay_core::Timestamp;
use bantay_store::{IdentityRow, NewEvent};
use serde_json::{json, Map, Value};

use crate::error::{Result, ServiceError};
use crate::grants::REVOCATION_DEADLINE_SECONDS;
use crate::held::id_of;
use crate::service::{new_id, Actor, Service};

/// What a client asks to write.
#[derive(Debug, Clone, Copy)]
pub enum ScimWrite<'a> {
    Create(&'a Value),
    Replace(&'a str, &'a Value),
    Patch(&'a str, &'a Value),
}

impl From<ServiceError> for ScimError {
    fn from(e: ServiceError) -> Self {
        let status = e.status();
        if status == 500 {
            tracing::error!(error = %e, "SCIM request failed");
        }
        let scim_type = (status == 400).then_some("invalidValue");
        ScimError { status, scim_type, detail: e.to_string() }
    }
}

/// Every User and Group on record, parsed: what showing one needs (a User's groups, a
/// member's name) and what writing one checks (unique userNames, members on record).
struct Directory {
    users: Vec<(IdentityRow, Map<String, Value>)>,
    groups: Vec<(IdentityRow, Map<String, Value>)>,
}

fn parsed(rows: Vec<IdentityRow>) -> Result<Vec<(IdentityRow, Map<String, Value>)>> {
    rows.into_iter()
        .map(|row| {
            let body = serde_json::from_str(&row.body).map_err(|e| {
                ServiceError::Refused(format!(
                    "stored {} `{}` is not JSON: {e}",
                    row.resource_type, row.id
                ))
            })?;
            Ok((row, body))
        })
        .collect()
}

impl Directory {
    fn of(&self, rt: &ResourceType) -> &[(IdentityRow, Map<String, Value>)] {
        if rt.name == "Group" {
            &self.groups
        } else {
            &self.users
        }
    }

    fn find(&self, rt: &ResourceType, id: &str) -> Option<&(IdentityRow, Map<String, Value>)> {
        self.of(rt).iter().find(|(row, _)| row.id == id)
    }

    /// A resource as a client reads it: the kept body, `id`, `meta`, a User's groups
    /// and each member's `$ref` and type.
    fn show(
        &self,
        rt: &ResourceType,
        row: &IdentityRow,
        body: &Map<String, Value>,
        base: &str,
    ) -> Map<String, Value> {
        let mut shown = body.clone();
        shown.insert("id".into(), row.id.clone().into());
        let time = |t: i64| Timestamp::from_unix_seconds(t).manila().date_time();
        shown.insert(
            "meta".into(),
            json!({
                "resourceType": rt.name,
                "created": time(row.created),
                "lastModified": time(row.modified),
                "location": format!("{base}{}/{}", rt.endpoint, row.id),
                "version": format!("W/\"{}\"", row.version),
            }),
        );
        if rt.name == "User" {
            let groups: Vec<Value> = self
                .groups
                .iter()
                .filter(|(_, g)| members(g).any(|m| m == row.id))
                .map(|(g, body)| {
                    json!({ "value": g.id, "$ref": format!("{base}/Groups/{}", g.id),
                            "display": body.get("displayName").cloned().unwrap_or(Value::Null), "type": "direct" })
                })
                .collect();
            if !groups.is_empty() {
                shown.insert("groups".into(), Value::Array(groups));
            }
        } else if let Some(Value::Array(list)) = shown.get_mut("members") {
            for member in list.iter_mut().filter_map(Value::as_object_mut) {
                let Some(id) = member.get("value").and_then(Value::as_str).map(str::to_owned)
                else {
                    continue;
                };
                let kind = if self.users.iter().any(|(u, _)| u.id == id) {
                    "User"
                } else if self.groups.iter().any(|(g, _)| g.id == id) {
                    "Group"
                } else {
                    continue;
                };
                member.insert("$ref".into(), format!("{base}/{kind}s/{id}").into());
                member.insert("type".into(), kind.into());
            }
        }
        shown
    }
}

fn members(group: &Map<String, Value>) -> impl Iterator<Item = &str> {
    group
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("value").and_then(Value::as_str))
}

/// The name Bantay shows for a User: displayName, else the formatted name, else given
/// and family names, else the userName.
fn display_name(user: &Map<String, Value>) -> Option<String> {
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str).filter(|s| !s.trim().is_empty()).map(str::to_owned)
    };
    let name = user.get("name");
    text(user.get("displayName"))
        .or_else(|| text(name.and_then(|n| n.get("formatted"))))
        .or_else(|| {
            let parts: Vec<&str> = ["givenName", "familyName"]
                .iter()
                .filter_map(|k| name.and_then(|n| n.get(*k)).and_then(Value::as_str))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
        .or_else(|| text(user.get("userName")))
}

/// The User's e-mail addresses, the primary one first.
fn emails(user: &Map<String, Value>) -> Vec<String> {
    let mut list: Vec<(bool, String)> = user
        .get("emails")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let primary = e.get("primary").and_then(Value::as_bool).unwrap_or(false);
            Some((!primary, e.get("value")?.as_str()?.to_owned()))
        })
        .collect();
    list.sort_by_key(|(not_primary, _)| *not_primary);
    list.into_iter().map(|(_, e)| e).collect()
}

fn active(user: &Map<String, Value>) -> bool {
    user.get("active").and_then(Value::as_bool).unwrap_or(true)
}

impl Service {
    async fn directory(&self) -> Result<Directory> {
        Ok(Directory {
            users: parsed(self.store.identities("User").await?)?,
            groups: parsed(self.store.identities("Group").await?)?,
        })
    }

    /// Every resource of a type, as shown, with URLs under `base` (`…/scim/v2`).
    pub async fn scim_list(
        &self,
        rt: &ResourceType,
        base: &str,
    ) -> Result<Vec<Map<String, Value>>> {
        let dir = self.directory().await?;
        Ok(dir.of(rt).iter().map(|(row, body)| dir.show(rt, row, body, base)).collect())
    }

    /// One resource, as shown.
    pub async fn scim_get(
        &self,
        rt: &ResourceType,
        base: &str,
        id: &str,
    ) -> std::result::Result<Map<String, Value>, ScimError> {
        let dir = self.directory().await?;
        match dir.find(rt, id) {
            Some((row, body)) => Ok(dir.show(rt, row, body, base)),
            None => Err(ScimError::not_found(format!("no {} `{id}`", rt.name))),
        }
    }

    /// Creates, replaces or patches a resource in one append (the person it is and, for
    /// a User who has left, the suspensions that follows) and gives its id.
    pub async fn scim_write(
        &self,
        actor: &Actor,
        rt: &ResourceType,
        write: ScimWrite<'_>,
    ) -> std::result::Result<String, ScimError> {
        let (outcome, _) = self
            .decided(|_| async {
                let dir = self.directory().await?;
                let (id, old) = match write {
                    ScimWrite::Create(_) => (None, None),
                    ScimWrite::Replace(id, _) | ScimWrite::Patch(id, _) => match dir.find(rt, id) {
                        Some(found) => (Some(id), Some(found)),
                        None => {
                            return Ok((
                                Vec::new(),
                                Err(ScimError::not_found(format!("no {} `{id}`", rt.name))),
                            ))
                        }
                    },
                };
                let kept = match write {
                    ScimWrite::Create(body) => scim::accept(rt, body, None),
                    ScimWrite::Replace(_, body) => scim::accept(rt, body, old.map(|(_, b)| b)),
                    ScimWrite::Patch(_, body) => match old {
                        Some((_, b)) => scim::apply_patch(rt, b, body),
                        None => Err(ScimError::not_found(rt.name)),
                    },
                };
                let kept = match kept.and_then(|k| self.check_references(rt, &dir, id, k)) {
                    Ok(k) => k,
                    Err(e) => return Ok((Vec::new(), Err(e))),
                };
                if rt.name == "User" {
                    let (events, id, suspended) = self
                        .user_events(actor, &dir, old.map(|(row, body)| (row, body)), kept)
                        .await?;
                    return Ok((events, Ok((id, suspended))));
                }
                let id = id.map_or_else(|| new_id("G"), str::to_owned);
                let event = self.event(
                    "identity.provisioned",
                    actor,
                    json!({ "type": "Group", "id": id, "resource": kept }),
                );
                Ok((vec![event], Ok((id, Vec::new()))))
            })
            .await?;
        let (id, suspended) = outcome?;
        self.enforce_all(&suspended).await;
        Ok(id)
    }

    /// The checks a schema cannot make: a userName no other User has (in any case), and
    /// group members on record.
    fn check_references(
        &self,
        rt: &ResourceType,
        dir: &Directory,
        id: Option<&str>,
        kept: Map<String, Value>,
    ) -> std::result::Result<Map<String, Value>, ScimError> {
        if rt.name == "User" {
            let name = kept.get("userName").and_then(Value::as_str).unwrap_or_default();
            if let Some((other, _)) = dir.users.iter().find(|(row, body)| {
                Some(row.id.as_str()) != id
                    && body
                        .get("userName")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.to_lowercase() == name.to_lowercase())
            }) {
                return Err(ScimError::conflict(format!(
                    "userName `{name}` is User `{}`'s already",
                    other.id
                )));
            }
        } else {
            for member in members(&kept) {
                if Some(member) == id {
                    return Err(ScimError::bad("invalidValue", "a group cannot be its own member"));
                }
                if !dir.users.iter().chain(&dir.groups).any(|(row, _)| row.id == member) {
                    return Err(ScimError::bad(
                        "invalidValue",
                        format!("members: no User or Group `{member}`"),
                    ));
                }
            }
        }
        Ok(kept)
    }

    /// A User's events: the person it is (recorded or brought up to date) and the
    /// identity; when it becomes inactive, what its leaving suspends.
    async fn user_events(
        &self,
        actor: &Actor,
        dir: &Directory,
        old: Option<(&IdentityRow, &Map<String, Value>)>,
        kept: Map<String, Value>,
    ) -> Result<(Vec<NewEvent>, String, Vec<String>)> {
        let persons = self.store.persons().await?;
        let addresses = emails(&kept);
        let person_id = match old.and_then(|(row, _)| row.person.clone()) {
            Some(p) => p,
            None => {
                let name = kept.get("userName").and_then(Value::as_str).unwrap_or_default();
                let taken =
                    |p: &str| dir.users.iter().any(|(row, _)| row.person.as_deref() == Some(p));
                persons
                    .iter()
                    .filter(|p| !taken(&p.id))
                    .find(|p| {
                        p.id.eq_ignore_ascii_case(name)
                            || p.email.as_deref().is_some_and(|m| {
                                addresses.iter().any(|a| a.eq_ignore_ascii_case(m))
                            })
                    })
                    .map_or_else(|| new_id("P"), |p| p.id.clone())
            }
        };
        let id = old.map_or_else(|| person_id.clone(), |(row, _)| row.id.clone());
        let on_record = persons.iter().find(|p| p.id == person_id);
        let name = display_name(&kept).unwrap_or_else(|| id.clone());
        let email = addresses.first().cloned().or_else(|| on_record.and_then(|p| p.email.clone()));
        let mut events = Vec::new();
        // The person's record changes only when the provider changed their name or address.
        if on_record.is_none_or(|p| p.name != name || p.email != email) {
            events.push(self.event(
                "person.recorded",
                actor,
                json!({ "id": person_id, "name": name, "port": on_record.and_then(|p| p.port.clone()), "email": email }),
            ));
        }
        let left = old.is_none_or(|(_, body)| active(body)) && !active(&kept);
        events.push(self.event(
            "identity.provisioned",
            actor,
            json!({ "type": "User", "id": id, "resource": kept, "person": person_id }),
        ));
        let mut suspended = Vec::new();
        if left {
            let why = format!("User `{id}` made inactive by the identity provider");
            let (more, resources) = self.leaver_events(actor, &person_id, &why).await?;
            events.extend(more);
            suspended = resources;
        }
        Ok((events, id, suspended))
    }

    /// Deletes a resource. A User deleted leaves the groups it was in and, if it was
    /// active, has left the Bureau (see the module's note).
    pub async fn scim_delete(
        &self,
        actor: &Actor,
        rt: &ResourceType,
        id: &str,
    ) -> std::result::Result<(), ScimError> {
        let (outcome, _) = self
            .decided(|_| async {
                let dir = self.directory().await?;
                let Some((row, body)) = dir.find(rt, id) else {
                    return Ok((
                        Vec::new(),
                        Err(ScimError::not_found(format!("no {} `{id}`", rt.name))),
                    ));
                };
                let mut events = vec![self.event(
                    "identity.deprovisioned",
                    actor,
                    json!({ "type": rt.name, "id": id, "person": row.person }),
                )];
                for (group, g) in &dir.groups {
                    if group.id != id && members(g).any(|m| m == id) {
                        let mut g = g.clone();
                        if let Some(Value::Array(list)) = g.get_mut("members") {
                            list.retain(|m| m.get("value").and_then(Value::as_str) != Some(id));
                            if list.is_empty() {
                                g.remove("members");
                            }
                        }
                        events.push(self.event(
                            "identity.provisioned",
                            actor,
                            json!({ "type": "Group", "id": group.id, "resource": g }),
                        ));
                    }
                }
                let mut suspended = Vec::new();
                if let (Some(person), true) = (&row.person, active(body)) {
                    let why = format!("User `{id}` deleted by the identity provider");
                    let (more, resources) = self.leaver_events(actor, person, &why).await?;
                    events.extend(more);
                    suspended = resources;
                }
                Ok((events, Ok(suspended)))
            })
            .await?;
        self.enforce_all(&outcome?).await;
        Ok(())
    }

    /// What a person's leaving suspends: each privileged grant in force, from now, with a
    /// task to revoke it; and a 4.1 finding for accounts on real systems still linked to
    /// them.
    /// Gives the events and the resources of the grants suspended.
    async fn leaver_events(
        &self,
        actor: &Actor,
        person: &str,
        why: &str,
    ) -> Result<(Vec<NewEvent>, Vec<String>)> {
        let now = self.now();
        let due = now.plus_seconds(REVOCATION_DEADLINE_SECONDS);
        let mut events = Vec::new();
        let mut suspended = Vec::new();
        for grant in self.store.grants_of(person).await? {
            let in_force = grant.status == "active"
                && grant.valid_until.is_none_or(|u| u > now.unix_seconds());
            if !in_force {
                continue;
            }
            let reason = format!("{person} has left: {why}");
            suspended.push(grant.resource.clone());
            events.push(self.event(
                "grant.suspended",
                actor,
                json!({ "id": grant.id, "from": now.unix_seconds(), "reason": reason }),
            ));
            events.push(self.event(
                "task.opened",
                actor,
                json!({
                    "id": new_id("T"), "grant": grant.id, "due": due.unix_seconds(),
                    "reason": format!("remove {} from {person} ({}): {reason}", grant.resource, grant.clause),
                }),
            ));
        }
        let accounts: Vec<String> = self
            .store
            .held_accounts()
            .await?
            .into_iter()
            .filter(|h| h.person.as_deref() == Some(person))
            .map(|h| format!("{}@{} on {}", h.account, h.source, h.resource))
            .collect();
        if !accounts.is_empty() {
            let clause = self.pack.rules.grants.clause.as_str();
            let id = id_of(clause, &format!("departed|{person}|{}", now.unix_seconds()));
            if self.store.finding(&id).await?.is_none() {
                events.push(self.event(
                    "finding.opened",
                    actor,
                    json!({
                        "id": id, "clause": clause, "subject": person,
                        "summary": format!(
                            "{person} has left ({why}) but {} account(s) on real systems are still linked to them: disable or remove them",
                            accounts.len()
                        ),
                        "evidence": accounts.join("; "),
                    }),
                ));
            }
        }
        Ok((events, suspended))
    }

    /// Removes, on the targets Bantay enforces, what suspended grants gave.
    async fn enforce_all(&self, resources: &[String]) {
        let mut resources = resources.to_vec();
        resources.sort();
        resources.dedup();
        for resource in resources {
            self.enforce_resource(&resource).await;
        }
    }
}

//! Access reviews: a campaign asks the head of each holder's unit to confirm or revoke
//! every standing privileged grant by a deadline; what is not confirmed by then is
//! revoked (4.1: access only as long as it is still needed).

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::error::{Result, ServiceError};
use crate::service::{new_id, parse_time, Actor, Service};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewForm {
    pub title: String,
    /// Grants not confirmed by then are revoked.
    pub deadline: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewDecision {
    pub grant: String,
    /// `confirmed` or `revoked`.
    pub decision: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewItemView {
    pub grant: String,
    pub reviewer: String,
    /// `pending`, `confirmed` or `revoked`.
    pub decision: String,
    pub decided_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewView {
    pub id: String,
    pub title: String,
    pub deadline: String,
    pub status: String,
    pub items: Vec<ReviewItemView>,
}

impl Service {
    /// Opens a review of every standing grant (no end, or ending after the deadline),
    /// each assigned to the head of the holder's unit. Only a head of the group (or
    /// Bantay's operator) opens one.
    pub async fn open_review(&self, actor: &Actor, form: &ReviewForm) -> Result<ReviewView> {
        let now = self.now();
        if form.title.trim().is_empty() {
            return Err(ServiceError::bad(
                "title",
                "name the review, e.g. `Q4 2026 privileged access`",
            ));
        }
        let deadline = parse_time("deadline", &form.deadline)?;
        if deadline <= now {
            return Err(ServiceError::bad(
                "deadline",
                format!("{deadline} has passed; give a future date"),
            ));
        }
        if !actor.is_system() {
            let top = self.pack.org.units().iter().position(|u| u.parent.is_none());
            let top_id = top.map(|i| self.pack.org.units()[i].id.clone()).unwrap_or_default();
            if !self.store.heads(&top_id, now.unix_seconds()).await?.iter().any(|h| h == actor.id())
            {
                return Err(ServiceError::Forbidden(format!(
                    "only the head of {top_id} opens an access review"
                )));
            }
        }
        let id = new_id("V");
        self.decided(|_| async {
            let mut items = Vec::new();
            let mut reviewers: Vec<String> = Vec::new();
            for grant in self.store.standing_grants(deadline.unix_seconds()).await? {
                let (snapshot, persons) = self.snapshot_of(&[&grant.person], &[]).await?;
                let Some(unit) = self.unit_at(&snapshot, persons[0], now) else { continue };
                let Some(reviewer) = self.eligible(unit, &[&grant.person], now).await?.into_iter().next()
                else {
                    continue;
                };
                if !reviewers.contains(&reviewer) {
                    reviewers.push(reviewer.clone());
                }
                items.push(json!({ "grant": grant.id, "reviewer": reviewer }));
            }
            let mut events = vec![self.event(
                "review.opened",
                actor,
                json!({ "id": id, "title": form.title, "deadline": deadline.unix_seconds(), "items": items }),
            )];
            for reviewer in reviewers {
                events.push(self.notification(
                    &reviewer,
                    &format!("Review {id}: confirm your unit's privileged access by {deadline}"),
                    &format!("{}: confirm or revoke each grant assigned to you in {id} by {deadline}; what is not confirmed is revoked then.", form.title),
                ));
            }
            Ok((events, ()))
        })
        .await?;
        self.review(&id).await
    }

    /// A reviewer confirms or revokes one grant of an open review.
    pub async fn decide_review(
        &self,
        actor: &Actor,
        id: &str,
        decision: &ReviewDecision,
    ) -> Result<ReviewView> {
        if !["confirmed", "revoked"].contains(&decision.decision.as_str()) {
            return Err(ServiceError::bad("decision", "write confirmed or revoked"));
        }
        self.decided(|_| async {
            let (review, items) = self
                .store
                .review(id)
                .await?
                .ok_or_else(|| ServiceError::NotFound { what: "review", id: id.to_owned() })?;
            if review.status != "open" {
                return Err(ServiceError::Refused(format!("review {id} is closed")));
            }
            let item = items
                .iter()
                .find(|i| i.grant_id == decision.grant)
                .ok_or_else(|| ServiceError::bad("grant", format!("`{}` is not in review {id}", decision.grant)))?;
            if item.decision != "pending" {
                return Err(ServiceError::Refused(format!("{} was {} already", item.grant_id, item.decision)));
            }
            if item.reviewer != actor.id() {
                return Err(ServiceError::Forbidden(format!(
                    "{} is for {} to review, not {}",
                    item.grant_id, item.reviewer, actor.id()
                )));
            }
            let mut events = vec![self.event(
                "review.decided",
                actor,
                json!({ "review": id, "grant": item.grant_id, "decision": decision.decision, "by": actor.id() }),
            )];
            if decision.decision == "revoked" && self.revocable(&item.grant_id).await? {
                events.push(self.event(
                    "grant.revoked",
                    actor,
                    json!({ "id": item.grant_id, "reason": format!("revoked in review {id} by {}", actor.id()) }),
                ));
            }
            Ok((events, ()))
        })
        .await?;
        if decision.decision == "revoked" {
            if let Some(g) = self.store.grant(&decision.grant).await? {
                self.enforce_resource(&g.resource).await;
            }
        }
        self.review(id).await
    }

    pub async fn review(&self, id: &str) -> Result<ReviewView> {
        let (review, items) = self
            .store
            .review(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { what: "review", id: id.to_owned() })?;
        Ok(ReviewView {
            id: review.id,
            title: review.title,
            deadline: bantay_core::Timestamp::from_unix_seconds(review.deadline).to_string(),
            status: review.status,
            items: items
                .into_iter()
                .map(|i| ReviewItemView {
                    grant: i.grant_id,
                    reviewer: i.reviewer,
                    decision: i.decision,
                    decided_by: i.decided_by,
                })
                .collect(),
        })
    }

    /// The events that close reviews past their deadline, revoking every grant still
    /// awaiting a decision; with the reviews closed and the grants revoked.
    pub(crate) async fn close_due_reviews(
        &self,
        actor: &Actor,
        now: i64,
    ) -> Result<(Vec<bantay_store::NewEvent>, Vec<String>, Vec<String>)> {
        let (mut events, mut closed, mut revoked) = (Vec::new(), Vec::new(), Vec::new());
        for review in self.store.reviews_due(now).await? {
            let Some((_, items)) = self.store.review(&review.id).await? else { continue };
            for item in items.iter().filter(|i| i.decision == "pending") {
                if self.revocable(&item.grant_id).await? {
                    events.push(self.event(
                        "grant.revoked",
                        actor,
                        json!({
                            "id": item.grant_id,
                            "reason": format!("not confirmed in review {} by its deadline {}", review.id,
                                bantay_core::Timestamp::from_unix_seconds(review.deadline)),
                        }),
                    ));
                    revoked.push(item.grant_id.clone());
                }
            }
            events.push(self.event("review.closed", actor, json!({ "id": review.id })));
            closed.push(review.id);
        }
        Ok((events, closed, revoked))
    }

    async fn revocable(&self, grant: &str) -> Result<bool> {
        Ok(self
            .store
            .grant(grant)
            .await?
            .is_some_and(|g| g.status == "active" || g.status == "suspended"))
    }
}

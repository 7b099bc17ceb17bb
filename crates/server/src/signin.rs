//! Signing in to Bantay itself: passwords (argon2id), a TOTP second factor for those who
//! approve or configure, browser sessions, and the roles a signed-in person holds.
//!
//! Bantay's own authorisation is a Cedar policy (`bantay_core::AccessPolicy`); this file
//! works out a person's roles from the organisation (a unit head heads a unit, the
//! datacenter approver heads the pack's approver unit, a guard is on a roster) and from
//! `role.assigned` events (auditors, administrators), and asks the policy.
//!
//! Secrets: a session's cookie secret is never kept (the ledger and the table hold its
//! SHA-256); passwords and TOTP secrets are kept outside the ledger, which records only
//! that they were set. The CSRF token of a session is derived from its secret.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use bantay_core::{AccessPolicy, Action, Role};
use bantay_store::{CredentialRow, NewEvent};
use serde_json::json;
use sha2::Digest as _;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::error::{Result, ServiceError};
use crate::service::{new_id, Actor, Service};

/// How long a session lasts, whatever is done in it (a working day and a half).
pub const SESSION_SECONDS: i64 = 12 * 3600;

/// A session not used for this long is closed (a browser left open at a desk).
pub const IDLE_SECONDS: i64 = 30 * 60;
/// Failed sign-ins for one name before further tries for it wait.
pub const MAX_FAILURES: usize = 5;
/// Failed sign-ins from one address before further tries from it wait: higher, because
/// behind a reverse proxy or a NAT everyone may come from one address, and five typos
/// there must not lock the whole Bureau out.
pub const MAX_FAILURES_PER_ADDRESS: usize = 50;
/// The window those failures are counted in, and how long a locked name waits.
pub const FAILURE_WINDOW: i64 = 15 * 60;
/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

static POLICY: LazyLock<std::result::Result<AccessPolicy, String>> =
    LazyLock::new(AccessPolicy::shipped);

const REFUSED: &str = "wrong sign-in name or password";

/// Someone signed in, as a page or the API sees them.
#[derive(Debug, Clone)]
pub struct Session {
    pub person: String,
    pub name: String,
    pub reference: String,
    pub roles: BTreeSet<Role>,
    /// The token every form of this session must carry.
    pub csrf: String,
    pub expires: i64,
}

impl Session {
    pub fn actor(&self) -> Actor {
        Actor::person(&self.person)
    }

    pub fn may(&self, action: Action) -> bool {
        permits(&self.roles, action)
    }

    /// Refuses, naming the roles that could, unless this session may take `action`.
    pub fn require(&self, action: Action) -> Result<()> {
        require(&self.person, &self.roles, action)
    }
}

/// Refuses, naming the roles that could, unless `roles` allow `action`.
pub(crate) fn require(person: &str, roles: &BTreeSet<Role>, action: Action) -> Result<()> {
    if permits(roles, action) {
        return Ok(());
    }
    let who: Vec<&str> = Role::ALL
        .into_iter()
        .filter(|r| permits(&BTreeSet::from([*r]), action))
        .map(Role::title)
        .collect();
    Err(ServiceError::Forbidden(format!(
        "{person} may not do this: it is for {}",
        if who.is_empty() { "nobody".to_owned() } else { who.join(", ") }
    )))
}

/// Whether roles allow an action; an unreadable policy allows nothing (a test reads it).
pub fn permits(roles: &BTreeSet<Role>, action: Action) -> bool {
    POLICY.as_ref().is_ok_and(|p| p.permits(roles, action))
}

/// What a sign-in form holds.
#[derive(Clone, Default, serde::Deserialize)]
pub struct SignInForm {
    /// A person's id (staff number) or e-mail address.
    pub login: String,
    pub password: String,
    /// The authenticator app's six digits, for those who need a second factor.
    #[serde(default)]
    pub code: Option<String>,
}

/// A session just opened: the cookie's secret is shown once, here.
#[derive(Clone)]
pub struct SignedIn {
    pub secret: String,
    pub person: String,
    pub reference: String,
    pub expires: i64,
}

// Whatever logs these by `{:?}` never prints a password, a code or a session's secret.
impl std::fmt::Debug for SignInForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInForm").field("login", &self.login).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("person", &self.person)
            .field("reference", &self.reference)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// A password set, and the second factor enrolled with it when the person's roles need one.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub person: String,
    /// `otpauth://totp/…` for an authenticator app, when a TOTP secret was made.
    pub totp_uri: Option<String>,
}

/// When a key with these failed sign-ins in the window (oldest first) may try again,
/// if `max` of them mean it may not now.
fn locked_until(failures: &[i64], max: usize) -> Option<i64> {
    (max > 0 && failures.len() >= max).then(|| failures[failures.len() - max] + FAILURE_WINDOW)
}

/// A session's last use is noted at most this often (seconds): a busy session writes
/// once in a while, not on every page. A session may so be closed as idle up to this
/// much sooner than the timeout, never later.
const USE_NOTED_EVERY: i64 = 30;

fn sha256_hex(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// The CSRF token of the session whose secret this is.
fn csrf_of(secret: &str) -> String {
    sha256_hex(&format!("bantay csrf\n{secret}"))[..32].to_owned()
}

/// A password is hashed once for a person who does not exist, so that a wrong name takes
/// as long as a wrong password.
static DECOY: LazyLock<String> =
    LazyLock::new(|| hash_password("decoy password").unwrap_or_default());

fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| ServiceError::Refused(format!("cannot make a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Refused(format!("cannot hash the password: {e}")))
}

fn password_matches(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

fn totp(secret_base32: &str, person: &str) -> Result<TOTP> {
    let bytes = Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .map_err(|e| ServiceError::Refused(format!("the TOTP secret kept for {person}: {e:?}")))?;
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, Some("Bantay".to_owned()), person.to_owned())
        .map_err(|e| ServiceError::Refused(format!("the TOTP secret kept for {person}: {e}")))
}

impl Service {
    /// The roles `person` holds now.
    pub async fn roles_of(&self, person: &str) -> Result<BTreeSet<Role>> {
        let now = self.now().unix_seconds();
        let mut roles = BTreeSet::from([Role::Requester]);
        let approver_unit = &self.pack.rules.datacenter.approver_unit;
        for a in self.store.assignments(person).await? {
            let in_force = a.valid_from <= now && a.valid_until.is_none_or(|u| u > now);
            if in_force && a.is_head != 0 {
                roles.insert(Role::UnitHead);
                if &a.unit == approver_unit {
                    roles.insert(Role::Approver);
                }
            }
        }
        // On a roster from yesterday's shifts to a month ahead.
        for dc in &self.pack.catalog.datacenters {
            let roster = self.store.roster(&dc.id, now - 86_400, now + 30 * 86_400).await?;
            if roster.iter().any(|r| r.guard == person) {
                roles.insert(Role::Guard);
            }
        }
        for role in self.store.access_roles(person).await? {
            match role.as_str() {
                "auditor" => roles.insert(Role::Auditor),
                "administrator" => roles.insert(Role::Administrator),
                _ => false,
            };
        }
        Ok(roles)
    }

    /// Whether `actor` may configure Bantay: the CLI's operator, or an administrator.
    async fn configures(&self, actor: &Actor) -> Result<bool> {
        Ok(actor.is_system() || permits(&self.roles_of(actor.id()).await?, Action::Configure))
    }

    /// Names `person` auditor or administrator (`assign`), or takes the role away.
    pub async fn assign_role(
        &self,
        actor: &Actor,
        person: &str,
        role: Role,
        assign: bool,
    ) -> Result<()> {
        if !self.configures(actor).await? {
            return Err(ServiceError::Forbidden(format!(
                "{} may not name roles: that is for an administrator",
                actor.id()
            )));
        }
        if !matches!(role, Role::Auditor | Role::Administrator) {
            return Err(ServiceError::bad(
                "role",
                format!(
                    "{} follows from the organisation (units, heads, the roster); only auditor and administrator are named",
                    role.as_str()
                ),
            ));
        }
        if self.store.person(person).await?.is_none() {
            return Err(ServiceError::bad("person", format!("no person `{person}`")));
        }
        let kind = if assign { "role.assigned" } else { "role.removed" };
        self.record(kind, actor, json!({ "person": person, "role": role.as_str() })).await?;
        Ok(())
    }

    /// A signed-in person changes their own password: the current one must match (a
    /// session left open on a shared machine is not enough), the new one meets the same
    /// rules as [`Service::set_password`], and the second factor stays as it is.
    pub async fn change_password(&self, session: &Session, current: &str, new: &str) -> Result<()> {
        let kept = self.store.credential(&session.person).await?;
        let matches = match kept {
            Some(row) => {
                let current = current.to_owned();
                tokio::task::spawn_blocking(move || password_matches(&row.password, &current))
                    .await
                    .map_err(|e| {
                        ServiceError::Refused(format!("checking the password stopped: {e}"))
                    })?
            }
            None => false,
        };
        if !matches {
            return Err(ServiceError::bad("current", "that is not your current password"));
        }
        if current == new {
            return Err(ServiceError::bad(
                "password",
                "choose a password other than the current one",
            ));
        }
        self.set_password(&session.actor(), &session.person, new, false).await?;
        // Whoever knew the old password is signed out everywhere else.
        let now = self.now().unix_seconds();
        let others: Vec<NewEvent> = self
            .store
            .sessions_of(&session.person, now)
            .await?
            .into_iter()
            .filter(|s| s.reference != session.reference)
            .map(|s| {
                let body = json!({ "reference": s.reference, "reason": "password changed" });
                self.event("session.closed", &session.actor(), body)
            })
            .collect();
        if !others.is_empty() {
            self.store.append(others, now).await?;
        }
        Ok(())
    }

    /// Sets `person`'s password; enrols a TOTP second factor when their roles need one and
    /// none is enrolled, or when `new_totp` asks for a new one. A person may set their own;
    /// an administrator or the CLI's operator anyone's.
    pub async fn set_password(
        &self,
        actor: &Actor,
        person: &str,
        password: &str,
        new_totp: bool,
    ) -> Result<Enrolment> {
        if actor.id() != person && !self.configures(actor).await? {
            return Err(ServiceError::Forbidden(format!(
                "{} may not set {person}'s password: that is for them or an administrator",
                actor.id()
            )));
        }
        let record = self
            .store
            .person(person)
            .await?
            .ok_or_else(|| ServiceError::bad("person", format!("no person `{person}`")))?;
        if password.chars().count() < MIN_PASSWORD {
            return Err(ServiceError::bad(
                "password",
                format!("use at least {MIN_PASSWORD} characters; a passphrase of a few words is easiest to remember"),
            ));
        }
        let lower = password.to_lowercase();
        if lower.contains(&person.to_lowercase()) || lower.contains(&record.name.to_lowercase()) {
            return Err(ServiceError::bad(
                "password",
                "do not use your id or name in the password",
            ));
        }
        let kept = self.store.credential(person).await?;
        let needs_totp = self.roles_of(person).await?.iter().any(|r| r.needs_second_factor());
        let mut totp_secret = kept.as_ref().and_then(|k| k.totp.clone());
        let mut totp_uri = None;
        if new_totp || (needs_totp && totp_secret.is_none()) {
            let secret = Secret::Raw(rand::random::<[u8; 20]>().to_vec()).to_encoded().to_string();
            totp_uri = Some(totp(&secret, person)?.get_url());
            totp_secret = Some(secret);
        }
        let hash = tokio::task::spawn_blocking({
            let password = password.to_owned();
            move || hash_password(&password)
        })
        .await
        .map_err(|e| ServiceError::Refused(format!("hashing the password stopped: {e}")))??;
        let row = CredentialRow {
            person: person.to_owned(),
            password: hash,
            totp: totp_secret,
            changed: self.now().unix_seconds(),
        };
        let factors: Vec<&str> =
            if row.totp.is_some() { vec!["password", "totp"] } else { vec!["password"] };
        // The secrets and the record that they were set, in one transaction.
        let event =
            self.event("credential.set", actor, json!({ "person": person, "factors": factors }));
        let now = self.now().unix_seconds();
        self.store.append_with_credential(vec![event], now, &row).await?;
        Ok(Enrolment { person: person.to_owned(), totp_uri })
    }

    /// Signs in: the password, then the second factor for those whose roles need one.
    /// Five failures for a name (fifty from an address) within 15 minutes make further
    /// tries wait, without the password being checked.
    pub async fn sign_in(&self, form: &SignInForm, address: &str) -> Result<SignedIn> {
        let now = self.now().unix_seconds();
        let login = form.login.trim().to_lowercase();
        let (name_key, address_key) = (format!("name:{login}"), format!("address:{address}"));
        // The failures within the window: those less than FAILURE_WINDOW seconds old.
        let since = now - FAILURE_WINDOW + 1;
        let mut locked = None;
        for (key, max) in [(&name_key, MAX_FAILURES), (&address_key, MAX_FAILURES_PER_ADDRESS)] {
            locked = locked.max(locked_until(&self.store.signin_failures(key, since).await?, max));
        }
        if let Some(until) = locked {
            tracing::warn!(login = %login, address, "sign-in refused: too many failures");
            self.metrics.signins_locked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Err(ServiceError::TooManyAttempts(format!(
                "too many failed sign-ins; try again after {}",
                bantay_core::Timestamp::from_unix_seconds(until)
            )));
        }
        let (keys, who) = ([name_key.as_str(), address_key.as_str()], login.as_str());
        let fail = |message: &'static str| async move {
            tracing::info!(login = %who, address, "sign-in refused");
            self.metrics.signins_refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            match self.store.signin_failed(&keys, now, now - FAILURE_WINDOW).await {
                Ok(()) => ServiceError::SignInRefused(message.to_owned()),
                Err(e) => e.into(),
            }
        };
        let person = self.person_by_login(&login).await?;
        let credential = match &person {
            Some(p) => self.store.credential(p).await?,
            None => None,
        };
        let hash = credential.as_ref().map_or_else(|| DECOY.clone(), |c| c.password.clone());
        let password = form.password.clone();
        let matches = tokio::task::spawn_blocking(move || password_matches(&hash, &password))
            .await
            .map_err(|e| ServiceError::Refused(format!("checking the password stopped: {e}")))?;
        let (Some(person), Some(credential), true) = (person, credential, matches) else {
            return Err(fail(REFUSED).await);
        };
        let roles = self.roles_of(&person).await?;
        let mut factors = vec!["password"];
        if roles.iter().any(|r| r.needs_second_factor()) {
            let Some(secret) = &credential.totp else {
                return Err(ServiceError::SignInRefused(format!(
                    "{person} approves or configures and so signs in with a second factor, which is not enrolled: ask an administrator to run `bantay users password {person}`"
                )));
            };
            let code = form.code.as_deref().unwrap_or("").trim().replace(' ', "");
            if code.is_empty() {
                return Err(ServiceError::SignInRefused(
                    "enter the six-digit code from your authenticator app".to_owned(),
                ));
            }
            let totp = totp(secret, &person)?;
            let step = now.max(0) as u64 / 30;
            let good = (step.saturating_sub(1)..=step + 1).find(|s| totp.generate(s * 30) == code);
            // Each code is good once, on whichever server it is given to.
            let fresh = match good {
                Some(used) => self.store.use_totp_step(&person, used as i64).await?,
                None => false,
            };
            if !fresh {
                return Err(fail("wrong or already used code from the authenticator app").await);
            }
            factors.push("totp");
        }
        let secret = format!("bts_{}", hex::encode(rand::random::<[u8; 32]>()));
        let reference = new_id("S");
        let expires = now + SESSION_SECONDS;
        let body = json!({
            "reference": reference, "person": person, "hash": sha256_hex(&secret),
            "expires": expires, "factors": factors, "address": address,
        });
        self.record("session.opened", &Actor::person(&person), body).await?;
        self.store.session_used(&reference, Some(now)).await?;
        self.store.forget_session_use(now - SESSION_SECONDS).await?;
        self.store.signin_succeeded(&name_key).await?;
        tracing::info!(person = %person, session = %reference, "signed in");
        self.metrics.signins.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(SignedIn { secret, person, reference, expires })
    }

    async fn person_by_login(&self, login: &str) -> Result<Option<String>> {
        if let Some(p) = self.store.person(login).await? {
            return Ok(Some(p.id));
        }
        // Ids are staff numbers written as given; e-mail addresses in any case.
        let persons = self.store.persons().await?;
        Ok(persons
            .into_iter()
            .find(|p| {
                p.id.eq_ignore_ascii_case(login)
                    || p.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(login))
            })
            .map(|p| p.id))
    }

    /// The open session a cookie's secret belongs to.
    pub async fn session(&self, secret: &str) -> Result<Session> {
        let now = self.now().unix_seconds();
        let row = self
            .store
            .session(&sha256_hex(secret), now)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        if self.went_idle(&row.reference, now).await? {
            let body = json!({ "reference": row.reference, "reason": "idle" });
            self.record("session.closed", &Actor::person(&row.person), body).await?;
            return Err(ServiceError::Unauthenticated);
        }
        let roles = self.roles_of(&row.person).await?;
        // A role that needs a second factor, gained after a sign-in with a password only.
        if roles.iter().any(|r| r.needs_second_factor()) && !row.factors.contains("totp") {
            return Err(ServiceError::Unauthenticated);
        }
        let name = self.store.person(&row.person).await?.map_or_else(String::new, |p| p.name);
        Ok(Session {
            person: row.person,
            name,
            reference: row.reference,
            roles,
            csrf: csrf_of(secret),
            expires: row.expires,
        })
    }

    /// Whether a session has gone unused past the timeout; if not, notes that it is used
    /// now. The time is kept in the database, so every server and a restarted one agree;
    /// a session with no use noted (opened before this was kept) starts being timed now.
    async fn went_idle(&self, reference: &str, now: i64) -> Result<bool> {
        match self.store.session_last_used(reference).await? {
            Some(last) if now - last > IDLE_SECONDS => {
                self.store.session_used(reference, None).await?;
                Ok(true)
            }
            Some(last) if now - last < USE_NOTED_EVERY => Ok(false),
            _ => {
                self.store.session_used(reference, Some(now)).await?;
                Ok(false)
            }
        }
    }

    /// Closes the session a cookie's secret belongs to.
    pub async fn sign_out(&self, secret: &str) -> Result<()> {
        let session = self.session(secret).await?;
        let body = json!({ "reference": session.reference, "reason": "signed out" });
        self.record("session.closed", &session.actor(), body).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_access_policy_reads() {
        assert!(POLICY.is_ok(), "{:?}", POLICY.as_ref().err());
    }

    #[test]
    fn five_failures_lock_a_name_for_the_rest_of_the_window() {
        let failures: Vec<i64> = (100..105).collect();
        assert_eq!(locked_until(&failures[..4], MAX_FAILURES), None);
        assert_eq!(locked_until(&failures, MAX_FAILURES), Some(100 + FAILURE_WINDOW));
        // The window is counted from the fifth-newest failure.
        let more: Vec<i64> = (100..107).collect();
        assert_eq!(locked_until(&more, MAX_FAILURES), Some(102 + FAILURE_WINDOW));
        // The same five from one address lock nothing there.
        assert_eq!(locked_until(&failures, MAX_FAILURES_PER_ADDRESS), None);
    }

    #[test]
    fn debug_output_never_shows_a_password_a_code_or_a_session_secret() {
        let form = SignInForm {
            login: "ANA".into(),
            password: "hunter2 hunter2".into(),
            code: Some("123456".into()),
        };
        let signed = SignedIn {
            secret: "bts_0123".into(),
            person: "ANA".into(),
            reference: "S-1".into(),
            expires: 0,
        };
        let text = format!("{form:?} {signed:?}");
        assert!(text.contains("ANA") && text.contains("S-1"), "{text}");
        for secret in ["hunter2", "123456", "bts_0123"] {
            assert!(!text.contains(secret), "{text}");
        }
    }

    #[test]
    fn a_password_hash_is_argon2id_and_checks_only_its_password() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(password_matches(&hash, "correct horse battery"));
        assert!(!password_matches(&hash, "correct horse batterx"));
        assert!(!password_matches("not a hash", "correct horse battery"));
    }
}

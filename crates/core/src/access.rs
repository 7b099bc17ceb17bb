//! Bantay's own authorisation: which of its roles may take which action. The rules are a
//! Cedar policy (`access.cedar`), evaluated per request from the roles the caller holds;
//! the service layer works out the roles (from the organisation, the roster and
//! `role.assigned` events) and asks here.

use std::collections::BTreeSet;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request,
};

/// The policy, as shipped.
pub const ACCESS_POLICY: &str = include_str!("access.cedar");

/// A role a person holds in Bantay itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Requester,
    UnitHead,
    /// The datacenter approver (4.3): head of the pack's approver unit.
    Approver,
    Guard,
    Auditor,
    Administrator,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Requester,
        Role::UnitHead,
        Role::Approver,
        Role::Guard,
        Role::Auditor,
        Role::Administrator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Requester => "requester",
            Role::UnitHead => "unit-head",
            Role::Approver => "approver",
            Role::Guard => "guard",
            Role::Auditor => "auditor",
            Role::Administrator => "administrator",
        }
    }

    /// What the role is called on a page.
    pub fn title(self) -> &'static str {
        match self {
            Role::Requester => "Requester",
            Role::UnitHead => "Unit head",
            Role::Approver => "Datacenter approver",
            Role::Guard => "Guard",
            Role::Auditor => "Auditor",
            Role::Administrator => "Administrator",
        }
    }

    /// Roles that approve or configure sign in with a second factor (DESIGN.md).
    pub fn needs_second_factor(self) -> bool {
        matches!(self, Role::UnitHead | Role::Approver | Role::Administrator)
    }
}

/// Something a person may do in Bantay. Each route of the web UI and the API names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Their own dashboard, privileges, requests, inbox.
    ViewOwn,
    /// Ask for privileges (for themselves, or as a unit head for their unit), or for an
    /// emergency datacenter pass.
    Request,
    /// Report on what is theirs to do: an incident they handle, a revocation task.
    Work,
    /// Record a personnel order that realigns someone (section 3).
    Realign,
    ApproveRequest,
    ApprovePass,
    /// The datacenter board: shifts, passes, who is inside.
    ViewDatacenter,
    /// The guard station: log an entry or exit (4.4).
    GuardGate,
    ViewFindings,
    /// Move a finding on: acknowledge it, record its remediation, reopen it.
    HandleFinding,
    /// Everything else on record: the ledger, every person's privileges, system accounts.
    ReadAll,
    /// Connectors, imports, credentials, roles.
    Configure,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::ViewOwn,
        Action::Request,
        Action::Work,
        Action::Realign,
        Action::ApproveRequest,
        Action::ApprovePass,
        Action::ViewDatacenter,
        Action::GuardGate,
        Action::ViewFindings,
        Action::HandleFinding,
        Action::ReadAll,
        Action::Configure,
    ];

    fn id(self) -> &'static str {
        match self {
            Action::ViewOwn => "view-own",
            Action::Request => "request",
            Action::Work => "work",
            Action::Realign => "realign",
            Action::ApproveRequest => "approve-request",
            Action::ApprovePass => "approve-pass",
            Action::ViewDatacenter => "view-datacenter",
            Action::GuardGate => "guard-gate",
            Action::ViewFindings => "view-findings",
            Action::HandleFinding => "handle-finding",
            Action::ReadAll => "read-all",
            Action::Configure => "configure",
        }
    }

    /// The groups an action belongs to: `read` (auditors and administrators may),
    /// `change`, and within it `approve`.
    fn groups(self) -> &'static [&'static str] {
        match self {
            Action::ViewOwn | Action::ViewDatacenter | Action::ViewFindings | Action::ReadAll => {
                &["read"]
            }
            Action::ApproveRequest | Action::ApprovePass => &["change", "approve"],
            Action::Request
            | Action::Work
            | Action::Realign
            | Action::GuardGate
            | Action::HandleFinding
            | Action::Configure => &["change"],
        }
    }
}

/// The compiled policy. Roles and actions are few (6 and 12), so every set of roles is
/// decided for every action once, by Cedar, when the policy is loaded; a request to
/// Bantay then looks its answer up instead of building entities and evaluating again.
#[derive(Debug)]
pub struct AccessPolicy {
    policies: PolicySet,
    authorizer: Authorizer,
    actions: Vec<(Action, Entity)>,
    roles: Vec<(Role, Entity)>,
    /// For each set of roles (bit `i` for `Role::ALL[i]`), the actions it may take (bit
    /// `j` for `Action::ALL[j]`).
    table: Vec<u16>,
}

impl AccessPolicy {
    /// The shipped policy. Fails only if `access.cedar` does not parse, which a test rules out.
    pub fn shipped() -> Result<Self, String> {
        Self::new(ACCESS_POLICY)
    }

    pub fn new(text: &str) -> Result<Self, String> {
        let policies = PolicySet::from_str(text).map_err(|e| format!("access policy: {e}"))?;
        let group = |name: &str| uid("Action", name);
        let actions = Action::ALL
            .iter()
            .map(|&a| {
                let parents = a.groups().iter().map(|g| group(g)).collect::<Result<_, _>>()?;
                Ok((a, Entity::new_no_attrs(uid("Action", a.id())?, parents)))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let roles = Role::ALL
            .iter()
            .map(|&r| Ok((r, Entity::new_no_attrs(uid("Role", r.as_str())?, Default::default()))))
            .collect::<Result<Vec<_>, String>>()?;
        let mut policy =
            Self { policies, authorizer: Authorizer::new(), actions, roles, table: Vec::new() };
        policy.table = (0..1u32 << Role::ALL.len())
            .map(|set| {
                let held: BTreeSet<Role> = role_set(set);
                Action::ALL.iter().enumerate().try_fold(0u16, |allowed, (j, &action)| {
                    Ok::<_, String>(allowed | (u16::from(policy.decide(&held, action)?) << j))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(policy)
    }

    /// Whether a person holding `roles` may take `action`.
    pub fn permits(&self, roles: &BTreeSet<Role>, action: Action) -> bool {
        let set = Role::ALL
            .iter()
            .enumerate()
            .filter(|(_, r)| roles.contains(r))
            .fold(0usize, |set, (i, _)| set | 1 << i);
        let bit = Action::ALL.iter().position(|a| *a == action).unwrap_or(usize::MAX);
        self.table.get(set).is_some_and(|allowed| bit < 16 && allowed >> bit & 1 == 1)
    }

    fn decide(&self, roles: &BTreeSet<Role>, action: Action) -> Result<bool, String> {
        let user = uid("User", "caller")?;
        let held = self.roles.iter().filter(|(r, _)| roles.contains(r));
        let principal = Entity::new_no_attrs(user.clone(), held.map(|(_, e)| e.uid()).collect());
        let groups = action.groups().iter().map(|g| uid("Action", g));
        let groups = groups
            .map(|g| g.map(|g| Entity::new_no_attrs(g, Default::default())))
            .collect::<Result<Vec<_>, _>>()?;
        let entities = Entities::from_entities(
            self.roles
                .iter()
                .map(|(_, e)| e.clone())
                .chain(self.actions.iter().map(|(_, e)| e.clone()))
                .chain(groups)
                .chain([principal]),
            None,
        )
        .map_err(|e| e.to_string())?;
        let action_uid = uid("Action", action.id())?;
        let request = Request::new(user, action_uid, uid("Page", "any")?, Context::empty(), None)
            .map_err(|e| e.to_string())?;
        let answer = self.authorizer.is_authorized(&request, &self.policies, &entities);
        Ok(answer.decision() == Decision::Allow)
    }
}

/// The roles of a set written as bits (bit `i` for `Role::ALL[i]`).
fn role_set(bits: u32) -> BTreeSet<Role> {
    Role::ALL.iter().enumerate().filter(|(i, _)| bits >> i & 1 == 1).map(|(_, &r)| r).collect()
}

fn uid(kind: &str, id: &str) -> Result<EntityUid, String> {
    let kind = EntityTypeName::from_str(&format!("Bantay::{kind}")).map_err(|e| e.to_string())?;
    Ok(EntityUid::from_type_name_and_id(kind, EntityId::new(id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compiled once: compiling decides every set of roles.
    static POLICY: std::sync::LazyLock<AccessPolicy> =
        std::sync::LazyLock::new(|| AccessPolicy::shipped().unwrap());

    fn may(roles: &[Role], action: Action) -> bool {
        POLICY.permits(&roles.iter().copied().collect(), action)
    }

    /// Every role × action, as DESIGN.md says it should be.
    #[test]
    fn each_role_may_do_what_the_design_says_and_nothing_else() {
        use Action::*;
        let expected: [(Role, &[Action]); 6] = [
            (Role::Requester, &[ViewOwn, Request, Work]),
            (Role::UnitHead, &[ApproveRequest, Realign, ViewFindings, HandleFinding]),
            (
                Role::Approver,
                &[
                    ApproveRequest,
                    ApprovePass,
                    Realign,
                    ViewDatacenter,
                    ViewFindings,
                    HandleFinding,
                ],
            ),
            (Role::Guard, &[GuardGate, ViewDatacenter]),
            (Role::Auditor, &[ViewOwn, ViewDatacenter, ViewFindings, ReadAll]),
            (
                Role::Administrator,
                &[ViewOwn, ViewDatacenter, ViewFindings, HandleFinding, ReadAll, Configure],
            ),
        ];
        for (role, allowed) in expected {
            for action in Action::ALL {
                assert_eq!(
                    may(&[role], action),
                    allowed.contains(&action),
                    "{role:?} × {action:?}"
                );
            }
        }
    }

    /// The table looked up per request is what Cedar decides, for every set of roles.
    #[test]
    fn the_compiled_table_is_what_cedar_decides_for_every_set_of_roles() {
        let policy = &*POLICY;
        for bits in 0..1u32 << Role::ALL.len() {
            let roles = role_set(bits);
            for action in Action::ALL {
                assert_eq!(
                    policy.permits(&roles, action),
                    policy.decide(&roles, action).unwrap(),
                    "{roles:?} × {action:?}"
                );
            }
        }
    }

    #[test]
    fn an_auditor_changes_nothing_and_an_administrator_approves_nothing_whatever_else_they_hold() {
        let all_but = |r: Role| Role::ALL.into_iter().filter(move |x| *x != r).collect::<Vec<_>>();
        let auditor_too =
            [Role::Requester, Role::UnitHead, Role::Approver, Role::Guard, Role::Auditor];
        for action in Action::ALL.into_iter().filter(|a| a.groups().contains(&"change")) {
            assert!(!may(&auditor_too, action), "auditor × {action:?}");
        }
        let admin = all_but(Role::Auditor);
        assert!(!may(&admin, Action::ApproveRequest));
        assert!(!may(&admin, Action::ApprovePass));
        assert!(may(&admin, Action::Configure));
        assert!(may(&admin, Action::GuardGate), "an administrator on the roster still guards");
    }

    #[test]
    fn nobody_without_a_role_may_do_anything() {
        for action in Action::ALL {
            assert!(!may(&[], action));
        }
    }
}

//! The policy pack: the order as data (`org.toml`, `resources.toml`, `rules.toml`) and as
//! Cedar (`duties.cedar`, `schema.cedarschema`). Loading checks everything a person can get
//! wrong when they edit the pack, and reports each problem with its file, line and a hint.
//!
//! The pack arrives as text ([`PackSources`]); reading the directory is the caller's job,
//! so the core stays free of IO.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::catalog::{Catalog, Datacenter, PrivilegeClass, ShiftPlan, System};
use crate::clauses::{ClauseInfo, Clauses};
use crate::org::{Clause, Duty, Organisation, Unit, UnitIdx};
use crate::policy::Duties;
use crate::rules::{
    ApprovalChain, DatacenterRules, GrantDurations, IncidentSla, Rules, SeparationOfDuties,
    SystemAccountRules,
};

/// The file names of a pack directory.
pub const ORG_FILE: &str = "org.toml";
pub const RESOURCES_FILE: &str = "resources.toml";
pub const RULES_FILE: &str = "rules.toml";
pub const DUTIES_FILE: &str = "duties.cedar";
pub const SCHEMA_FILE: &str = "schema.cedarschema";

/// The text of each file of a pack. `dir` is only used to name files in errors.
#[derive(Debug, Clone)]
pub struct PackSources {
    pub dir: String,
    pub org: String,
    pub resources: String,
    pub rules: String,
    pub duties: String,
    pub schema: String,
}

/// A loaded, checked policy pack.
#[derive(Debug)]
pub struct PolicyPack {
    pub org: Organisation,
    pub catalog: Catalog,
    pub rules: Rules,
    pub clauses: Clauses,
    pub duties: Duties,
}

/// One thing wrong with a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackProblem {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for PackProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message)?,
            None => write!(f, "{}: {}", self.file, self.message)?,
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found in a pack (loading goes on past the first, where it can).
#[derive(Debug, Clone, thiserror::Error)]
pub struct PackErrors(pub Vec<PackProblem>);

impl fmt::Display for PackErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(f, "the policy pack has {n} problem{}:", if n == 1 { "" } else { "s" })?;
        for p in &self.0 {
            writeln!(f, "{p}")?;
        }
        Ok(())
    }
}

/// A file's name and text, for turning byte offsets into line numbers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SourceFile<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

impl SourceFile<'_> {
    pub fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
    }

    pub fn problem(
        &self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> PackProblem {
        PackProblem {
            file: self.name.to_owned(),
            line: span.map(|s| self.line_of(s.start)),
            message: message.into(),
            hint,
        }
    }
}

impl PolicyPack {
    /// Loads and checks a pack. Either every file is right and the pack is returned, or
    /// every problem found is.
    pub fn load(src: &PackSources) -> Result<Self, PackErrors> {
        let names = [ORG_FILE, RESOURCES_FILE, RULES_FILE, DUTIES_FILE, SCHEMA_FILE]
            .map(|f| join(&src.dir, f));
        let org_file = SourceFile { name: &names[0], text: &src.org };
        let res_file = SourceFile { name: &names[1], text: &src.resources };
        let rules_file = SourceFile { name: &names[2], text: &src.rules };
        let duties_file = SourceFile { name: &names[3], text: &src.duties };
        let schema_file = SourceFile { name: &names[4], text: &src.schema };
        let mut problems = Vec::new();

        let raw_org: Option<RawOrg> = parse_toml(&org_file, &mut problems);
        let raw_res: Option<RawResources> = parse_toml(&res_file, &mut problems);
        let raw_rules: Option<RawRules> = parse_toml(&rules_file, &mut problems);
        let (Some(raw_org), Some(raw_res), Some(raw_rules)) = (raw_org, raw_res, raw_rules) else {
            return Err(PackErrors(problems));
        };

        let org = build_org(raw_org, &org_file, &mut problems);
        let catalog = build_catalog(raw_res, &res_file, &mut problems);
        let clauses = build_clauses(&org, &raw_rules.clause, &rules_file, &mut problems);
        let rules = build_rules(raw_rules, &org, &catalog, &clauses, &rules_file, &mut problems);
        if !problems.is_empty() {
            return Err(PackErrors(problems));
        }
        let duties = Duties::compile(&org, &catalog, &clauses, duties_file, schema_file);
        match duties {
            Ok(duties) => Ok(Self { org, catalog, rules, clauses, duties }),
            Err(mut cedar_problems) => {
                problems.append(&mut cedar_problems);
                Err(PackErrors(problems))
            }
        }
    }
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_owned()
    } else {
        format!("{}/{file}", dir.trim_end_matches('/'))
    }
}

fn parse_toml<T: serde::de::DeserializeOwned>(
    file: &SourceFile<'_>,
    problems: &mut Vec<PackProblem>,
) -> Option<T> {
    match toml::from_str(file.text) {
        Ok(value) => Some(value),
        Err(e) => {
            let message = e.message().trim().to_owned();
            let hint = if message.contains("missing field") {
                Some("every entry needs the field named; see the shipped pack policy/cmo-04-2019 for a complete example".to_owned())
            } else if message.contains("unknown field") {
                Some(
                    "check the spelling of the key; the fields this entry takes are listed above"
                        .to_owned(),
                )
            } else {
                Some("this is not valid TOML here; see https://toml.io for the syntax".to_owned())
            };
            problems.push(file.problem(e.span(), message, hint));
            None
        }
    }
}

// ---- org.toml ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrg {
    unit: Vec<RawUnit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnit {
    id: Spanned<String>,
    name: String,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
    parent: Option<Spanned<String>>,
    head: String,
    #[serde(default)]
    port_scoped: bool,
    #[serde(default)]
    duty: Vec<RawDuty>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDuty {
    clause: Spanned<String>,
    title: String,
    text: String,
}

fn build_org(raw: RawOrg, file: &SourceFile<'_>, problems: &mut Vec<PackProblem>) -> Organisation {
    let mut names: HashMap<String, usize> = HashMap::new();
    for (i, unit) in raw.unit.iter().enumerate() {
        for name in std::iter::once(&unit.id).chain(&unit.aliases) {
            if names.insert(name.get_ref().clone(), i).is_some() {
                problems.push(file.problem(
                    Some(name.span()),
                    format!("the unit name `{}` is used twice", name.get_ref()),
                    Some("each unit id and alias must name one unit".into()),
                ));
            }
        }
    }
    let mut seen_clauses: HashSet<String> = HashSet::new();
    let mut units = Vec::with_capacity(raw.unit.len());
    for unit in &raw.unit {
        let parent = unit.parent.as_ref().and_then(|p| match names.get(p.get_ref()) {
            Some(&i) => Some(UnitIdx(i as u16)),
            None => {
                problems.push(file.problem(
                    Some(p.span()),
                    format!(
                        "unit `{}` has parent `{}`, which is not a unit",
                        unit.id.get_ref(),
                        p.get_ref()
                    ),
                    Some(format!(
                        "known units: {}",
                        known(raw.unit.iter().map(|u| u.id.get_ref()))
                    )),
                ));
                None
            }
        });
        let mut duties = Vec::new();
        for duty in &unit.duty {
            let Some(clause) = Clause::parse(duty.clause.get_ref()) else {
                problems.push(file.problem(
                    Some(duty.clause.span()),
                    format!("`{}` is not a clause number", duty.clause.get_ref()),
                    Some("write clauses as the order numbers them, e.g. \"1.2.4\"".into()),
                ));
                continue;
            };
            if !seen_clauses.insert(clause.to_string()) {
                problems.push(file.problem(
                    Some(duty.clause.span()),
                    format!("clause {clause} is listed twice"),
                    Some("a clause of the order belongs to one unit".into()),
                ));
            }
            duties.push(Duty { clause, title: duty.title.clone(), text: duty.text.clone() });
        }
        units.push(Unit {
            id: unit.id.get_ref().clone(),
            name: unit.name.clone(),
            aliases: unit.aliases.iter().map(|a| a.get_ref().clone()).collect(),
            parent,
            head: unit.head.clone(),
            port_scoped: unit.port_scoped,
            duties,
        });
    }
    if units.len() > usize::from(u16::MAX) {
        problems.push(file.problem(None, "more than 65,535 units", None));
    }
    // A cycle would make `in` meaningless; walk up from each unit at most n steps.
    for (i, unit) in raw.unit.iter().enumerate() {
        let mut at = units[i].parent;
        for _ in 0..units.len() {
            match at {
                Some(UnitIdx(p)) if usize::from(p) == i => {
                    problems.push(file.problem(
                        unit.parent.as_ref().map(Spanned::span),
                        format!("unit `{}` is its own ancestor", unit.id.get_ref()),
                        Some("the unit hierarchy must be a tree: check the `parent` of each unit".into()),
                    ));
                    break;
                }
                Some(UnitIdx(p)) => at = units[usize::from(p)].parent,
                None => break,
            }
        }
    }
    Organisation::new(units)
}

fn known<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names.map(String::as_str).collect::<Vec<_>>().join(", ")
}

// ---- resources.toml ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResources {
    class: Vec<RawClass>,
    kinds: Vec<String>,
    system: Vec<RawSystem>,
    ports: Vec<String>,
    #[serde(default)]
    datacenter: Vec<RawDatacenter>,
    shifts: RawShifts,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClass {
    id: Spanned<String>,
    title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSystem {
    id: Spanned<String>,
    name: String,
    elements: Vec<Spanned<String>>,
    #[serde(default)]
    critical: bool,
    #[serde(default)]
    in_house: bool,
    #[serde(default)]
    productivity: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatacenter {
    id: String,
    name: String,
    port: Spanned<String>,
    cameras: Vec<String>,
    guard_posts: Vec<String>,
    #[serde(default)]
    hosts: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShifts {
    time_zone: Spanned<String>,
    starts: Spanned<Vec<String>>,
}

fn build_catalog(
    raw: RawResources,
    file: &SourceFile<'_>,
    problems: &mut Vec<PackProblem>,
) -> Catalog {
    let class_ids: HashSet<&str> = raw.class.iter().map(|c| c.id.get_ref().as_str()).collect();
    if class_ids.len() != raw.class.len() {
        problems.push(file.problem(None, "a privilege class is listed twice", None));
    }
    for class in &raw.class {
        if !is_identifier(class.id.get_ref()) {
            problems.push(file.problem(
                Some(class.id.span()),
                format!(
                    "class id `{}` must be lower-case letters, digits and `-`",
                    class.id.get_ref()
                ),
                None,
            ));
        }
    }
    let mut systems = Vec::new();
    for system in &raw.system {
        for element in &system.elements {
            if !class_ids.contains(element.get_ref().as_str()) {
                problems.push(file.problem(
                    Some(element.span()),
                    format!(
                        "system `{}` has element `{}`, which is not a privilege class",
                        system.id.get_ref(),
                        element.get_ref()
                    ),
                    Some(format!("classes: {}", known(raw.class.iter().map(|c| c.id.get_ref())))),
                ));
            }
        }
        systems.push(System {
            id: system.id.get_ref().clone(),
            name: system.name.clone(),
            elements: system.elements.iter().map(|e| e.get_ref().clone()).collect(),
            critical: system.critical,
            in_house: system.in_house,
            productivity: system.productivity,
        });
    }
    let mut datacenters = Vec::new();
    for dc in raw.datacenter {
        if !raw.ports.contains(dc.port.get_ref()) {
            problems.push(file.problem(
                Some(dc.port.span()),
                format!(
                    "datacenter `{}` is at port `{}`, which is not in `ports`",
                    dc.id,
                    dc.port.get_ref()
                ),
                Some("add the port to `ports` or correct its spelling".into()),
            ));
        }
        datacenters.push(Datacenter {
            id: dc.id,
            name: dc.name,
            port: dc.port.into_inner(),
            cameras: dc.cameras,
            guard_posts: dc.guard_posts,
            hosts: dc.hosts,
        });
    }
    if raw.shifts.time_zone.get_ref() != "Asia/Manila" {
        problems.push(file.problem(
            Some(raw.shifts.time_zone.span()),
            format!("time zone `{}` is not supported", raw.shifts.time_zone.get_ref()),
            Some("Bantay keeps the Bureau's clock: write \"Asia/Manila\"".into()),
        ));
    }
    let mut starts = Vec::new();
    for start in raw.shifts.starts.get_ref() {
        match parse_clock(start) {
            Some(s) if starts.last().is_none_or(|&last| s > last) => starts.push(s),
            _ => problems.push(file.problem(
                Some(raw.shifts.starts.span()),
                format!("shift start `{start}` is not a time of day later than the one before"),
                Some("list shift starts in order within one day, e.g. [\"06:00\", \"14:00\", \"22:00\"]".into()),
            )),
        }
    }
    if starts.is_empty() {
        problems.push(file.problem(Some(raw.shifts.starts.span()), "no shifts are defined", None));
    }
    let classes = raw
        .class
        .into_iter()
        .map(|c| PrivilegeClass { id: c.id.into_inner(), title: c.title })
        .collect();
    Catalog::new(
        classes,
        raw.kinds,
        systems,
        raw.ports,
        datacenters,
        ShiftPlan { time_zone: raw.shifts.time_zone.into_inner(), starts },
    )
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn parse_clock(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && s.len() == 5).then_some(h * 3600 + m * 60)
}

// ---- rules.toml ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    separation_of_duties: Vec<RawSeparation>,
    grants: RawGrants,
    approval_chain: Vec<RawChain>,
    datacenter: RawDatacenterRules,
    #[serde(default)]
    incident_sla: Vec<RawIncidentSla>,
    system_accounts: RawSystemAccounts,
    clause: Vec<RawClause>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIncidentSla {
    clause: Spanned<String>,
    priority: Spanned<String>,
    respond_minutes: u32,
    resolve_hours: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClause {
    clause: Spanned<String>,
    title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeparation {
    clause: Spanned<String>,
    systems: Vec<Spanned<String>>,
    classes: Vec<Spanned<String>>,
    max: Spanned<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrants {
    clause: Spanned<String>,
    standing_max_days: u32,
    just_in_time_max_hours: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChain {
    clause: Spanned<String>,
    applies_to: Spanned<String>,
    steps: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatacenterRules {
    clause: Spanned<String>,
    passes_per_shift: u32,
    max_pass_hours: u32,
    approver_unit: Spanned<String>,
    cctv_required: bool,
    incident_required: bool,
    incident_priorities: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSystemAccounts {
    clause: Spanned<String>,
    interactive_use_allowed: bool,
}

fn build_clauses(
    org: &Organisation,
    rule_clauses: &[RawClause],
    file: &SourceFile<'_>,
    problems: &mut Vec<PackProblem>,
) -> Clauses {
    let mut infos: Vec<ClauseInfo> = org
        .duties()
        .map(|(unit, duty)| ClauseInfo {
            clause: duty.clause.clone(),
            title: duty.title.clone(),
            unit: Some(unit),
        })
        .collect();
    for raw in rule_clauses {
        let Some(clause) = Clause::parse(raw.clause.get_ref()) else {
            problems.push(file.problem(
                Some(raw.clause.span()),
                format!("`{}` is not a clause number", raw.clause.get_ref()),
                Some("write clauses as the order numbers them, e.g. \"4.2\"".into()),
            ));
            continue;
        };
        if infos.iter().any(|i| i.clause == clause) {
            problems.push(file.problem(
                Some(raw.clause.span()),
                format!("clause {clause} is already a duty in org.toml or listed twice"),
                None,
            ));
            continue;
        }
        infos.push(ClauseInfo { clause, title: raw.title.clone(), unit: None });
    }
    if infos.len() > crate::clauses::MAX_CLAUSES {
        problems.push(file.problem(
            None,
            format!(
                "the pack has {} clauses; Bantay handles at most {}",
                infos.len(),
                crate::clauses::MAX_CLAUSES
            ),
            None,
        ));
        infos.truncate(crate::clauses::MAX_CLAUSES);
    }
    Clauses::new(infos)
}

fn build_rules(
    raw: RawRules,
    org: &Organisation,
    catalog: &Catalog,
    clauses: &Clauses,
    file: &SourceFile<'_>,
    problems: &mut Vec<PackProblem>,
) -> Rules {
    let clause = |c: &Spanned<String>, problems: &mut Vec<PackProblem>| -> Clause {
        match Clause::parse(c.get_ref()) {
            Some(parsed) if clauses.find(&parsed).is_some() => parsed,
            _ => {
                problems.push(file.problem(
                    Some(c.span()),
                    format!("rule cites clause `{}`, which is neither a duty in org.toml nor a `[[clause]]` here", c.get_ref()),
                    Some("add the clause with its title under [[clause]], or correct the number".into()),
                ));
                // A placeholder: the load fails with the problem above, so it is never used.
                Clause::placeholder()
            }
        }
    };
    let mut separation_of_duties = Vec::new();
    for sod in &raw.separation_of_duties {
        let c = clause(&sod.clause, problems);
        for system in &sod.systems {
            if catalog.system(system.get_ref()).is_none() {
                problems.push(file.problem(
                    Some(system.span()),
                    format!("separation of duties names system `{}`, which resources.toml does not define", system.get_ref()),
                    Some(format!("systems: {}", known(catalog.systems.iter().map(|s| &s.id)))),
                ));
            }
        }
        for class in &sod.classes {
            if catalog.class(class.get_ref()).is_none() {
                problems.push(file.problem(
                    Some(class.span()),
                    format!("separation of duties names class `{}`, which resources.toml does not define", class.get_ref()),
                    Some(format!("classes: {}", known(catalog.classes.iter().map(|c| &c.id)))),
                ));
            }
        }
        if *sod.max.get_ref() >= sod.classes.len() || sod.classes.len() > 8 {
            problems.push(file.problem(
                Some(sod.max.span()),
                format!("`max = {}` must be less than the number of classes ({}), and at most 8 classes", sod.max.get_ref(), sod.classes.len()),
                Some("a separation of duties forbids holding more than `max` of the listed classes".into()),
            ));
        }
        separation_of_duties.push(SeparationOfDuties {
            clause: c,
            systems: sod.systems.iter().map(|s| s.get_ref().clone()).collect(),
            classes: sod.classes.iter().map(|s| s.get_ref().clone()).collect(),
            max: *sod.max.get_ref(),
        });
    }
    let grants = GrantDurations {
        clause: clause(&raw.grants.clause, problems),
        standing_max_days: raw.grants.standing_max_days,
        just_in_time_max_hours: raw.grants.just_in_time_max_hours,
    };
    let mut approval_chains = Vec::new();
    for chain in &raw.approval_chain {
        let c = clause(&chain.clause, problems);
        if !["default", "critical"].contains(&chain.applies_to.get_ref().as_str()) {
            problems.push(file.problem(
                Some(chain.applies_to.span()),
                format!("`applies_to = \"{}\"` is not known", chain.applies_to.get_ref()),
                Some("write \"default\" or \"critical\"".into()),
            ));
        }
        for step in &chain.steps {
            let s = step.get_ref().as_str();
            if !["requester_division", "requester_service"].contains(&s) && org.find(s).is_none() {
                problems.push(file.problem(
                    Some(step.span()),
                    format!("approval step `{s}` is neither requester_division, requester_service nor a unit"),
                    Some(format!("units: {}", known(org.units().iter().map(|u| &u.id)))),
                ));
            }
        }
        approval_chains.push(ApprovalChain {
            clause: c,
            applies_to: chain.applies_to.get_ref().clone(),
            steps: chain.steps.iter().map(|s| s.get_ref().clone()).collect(),
        });
    }
    let dc = &raw.datacenter;
    if org.find(dc.approver_unit.get_ref()).is_none() {
        problems.push(file.problem(
            Some(dc.approver_unit.span()),
            format!("datacenter approver unit `{}` is not a unit", dc.approver_unit.get_ref()),
            Some(format!("units: {}", known(org.units().iter().map(|u| &u.id)))),
        ));
    }
    let datacenter = DatacenterRules {
        clause: clause(&dc.clause, problems),
        passes_per_shift: dc.passes_per_shift,
        max_pass_hours: dc.max_pass_hours,
        approver_unit: dc.approver_unit.get_ref().clone(),
        cctv_required: dc.cctv_required,
        incident_required: dc.incident_required,
        incident_priorities: dc.incident_priorities.clone(),
    };
    let system_accounts = SystemAccountRules {
        clause: clause(&raw.system_accounts.clause, problems),
        interactive_use_allowed: raw.system_accounts.interactive_use_allowed,
    };
    let mut incident_slas: Vec<IncidentSla> = Vec::new();
    for sla in &raw.incident_sla {
        if incident_slas.iter().any(|s| &s.priority == sla.priority.get_ref()) {
            problems.push(file.problem(
                Some(sla.priority.span()),
                format!("priority `{}` has two service levels", sla.priority.get_ref()),
                Some("keep one [[incident_sla]] per priority".into()),
            ));
        }
        incident_slas.push(IncidentSla {
            clause: clause(&sla.clause, problems),
            priority: sla.priority.get_ref().clone(),
            respond_seconds: i64::from(sla.respond_minutes) * 60,
            resolve_seconds: i64::from(sla.resolve_hours) * 3600,
        });
    }
    for priority in &raw.datacenter.incident_priorities {
        if !incident_slas.iter().any(|s| &s.priority == priority) {
            problems.push(file.problem(
                Some(raw.datacenter.clause.span()),
                format!("datacenter passes may serve `{priority}` incidents, which have no [[incident_sla]]"),
                None,
            ));
        }
    }
    Rules {
        separation_of_duties,
        grants,
        approval_chains,
        datacenter,
        incident_slas,
        system_accounts,
    }
}

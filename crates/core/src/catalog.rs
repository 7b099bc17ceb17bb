//! What privileged access is held on (the pack's `resources.toml`): privilege classes,
//! resource kinds, systems with their elements, ports, datacenters and shifts.

use std::collections::HashMap;

/// A privilege class: `os`, `database`, `application`, `network`, …
#[derive(Debug, Clone)]
pub struct PrivilegeClass {
    pub id: String,
    pub title: String,
}

/// A system of the Bureau (CPS, ERP, …) and the classes that are its elements.
#[derive(Debug, Clone)]
pub struct System {
    pub id: String,
    pub name: String,
    pub elements: Vec<String>,
    /// CPS and ERP: the systems 4.2 and the longer approval chain are about.
    pub critical: bool,
    /// Developed by the Bureau itself (2.2.2 reads on these).
    pub in_house: bool,
    /// An office productivity suite (1.3.1 names "productivity applications").
    pub productivity: bool,
}

#[derive(Debug, Clone)]
pub struct Datacenter {
    pub id: String,
    pub name: String,
    pub port: String,
    pub cameras: Vec<String>,
    pub guard_posts: Vec<String>,
    /// The hosts racked inside: a console login on one needs someone inside (4.3, 4.4).
    pub hosts: Vec<String>,
}

/// The shift plan of 4.3: shifts start at these seconds after Manila midnight, in order;
/// the last runs past midnight into the first.
#[derive(Debug, Clone)]
pub struct ShiftPlan {
    pub time_zone: String,
    pub starts: Vec<u32>,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub classes: Vec<PrivilegeClass>,
    pub kinds: Vec<String>,
    pub systems: Vec<System>,
    pub ports: Vec<String>,
    pub datacenters: Vec<Datacenter>,
    pub shifts: ShiftPlan,
    class_index: HashMap<String, usize>,
    system_index: HashMap<String, usize>,
}

impl Catalog {
    /// The datacenter a host is racked in (host names compared without case or domain).
    pub fn datacenter_of_host(&self, host: &str) -> Option<&Datacenter> {
        let short = |h: &str| h.split('.').next().unwrap_or(h).to_ascii_lowercase();
        let host = short(host);
        self.datacenters.iter().find(|dc| dc.hosts.iter().any(|h| short(h) == host))
    }

    pub(crate) fn new(
        classes: Vec<PrivilegeClass>,
        kinds: Vec<String>,
        systems: Vec<System>,
        ports: Vec<String>,
        datacenters: Vec<Datacenter>,
        shifts: ShiftPlan,
    ) -> Self {
        let class_index = classes.iter().enumerate().map(|(i, c)| (c.id.clone(), i)).collect();
        let system_index = systems.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        Self { classes, kinds, systems, ports, datacenters, shifts, class_index, system_index }
    }

    pub fn class(&self, id: &str) -> Option<&PrivilegeClass> {
        self.class_index.get(id).map(|&i| &self.classes[i])
    }

    pub fn system(&self, id: &str) -> Option<&System> {
        self.system_index.get(id).map(|&i| &self.systems[i])
    }

    pub fn has_kind(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }

    pub fn has_port(&self, port: &str) -> bool {
        self.ports.iter().any(|p| p == port)
    }
}

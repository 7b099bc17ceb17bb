//! 4.5's reading of an account's use: the registry of documented system accounts, and
//! whether one use of an account breaks the order. Pure: callers turn log lines into
//! [`AccountUse`]s and record what [`misuse`] finds.

use std::net::IpAddr;

use crate::rules::SystemAccountRules;

/// A documented system account (4.5): what it is for, who answers for it, how it is used
/// and from where.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SystemAccount {
    /// The host it lives on, or `*` for every host (a directory or database account).
    pub host: String,
    pub account: String,
    /// The system it serves (`CPS`, `ERP`, …).
    pub system: String,
    pub purpose: String,
    /// The unit answerable for it.
    pub custodian: String,
    /// How it is used: by a service, a batch job, replication, …
    pub usage: String,
    /// Where programs may log in with it from: addresses, networks (`10.20.1.0/24`) or
    /// host names. Empty: only on the host itself.
    pub origins: Vec<String>,
}

impl SystemAccount {
    /// Whether this record documents `account` on `host`.
    pub fn covers(&self, host: &str, account: &str) -> bool {
        self.account == account && (self.host == "*" || self.host.eq_ignore_ascii_case(host))
    }

    /// Whether `source` is one of the documented origins.
    pub fn allows_origin(&self, source: &str) -> bool {
        let ip = source.parse::<IpAddr>().ok();
        self.origins.iter().any(|origin| match (ip, network(origin)) {
            (Some(ip), Some((net, bits))) => in_network(ip, net, bits),
            _ => origin.eq_ignore_ascii_case(source),
        })
    }
}

/// Checks an origin as written in the registry: an address, a network, or a host name.
pub fn check_origin(origin: &str) -> Result<(), String> {
    if origin.contains('/') {
        return match network(origin) {
            Some(_) => Ok(()),
            None => Err(format!("`{origin}` is not a network: write it as 10.20.1.0/24")),
        };
    }
    let host_name = !origin.is_empty()
        && origin.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    if host_name {
        Ok(())
    } else {
        Err(format!("`{origin}` is not an address, network or host name"))
    }
}

fn network(origin: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match origin.split_once('/') {
        Some((addr, bits)) => (addr.parse::<IpAddr>().ok()?, bits.parse::<u8>().ok()?),
        None => {
            let addr = origin.parse::<IpAddr>().ok()?;
            (addr, if addr.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((addr, bits))
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// One use of an account, as a log line told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountUse<'a> {
    pub host: &'a str,
    pub account: &'a str,
    /// The account that switched into it (`su`, `sudo`), if any.
    pub by: Option<&'a str>,
    pub source: Option<&'a str>,
    /// `ssh`, `sudo`, `su`, `login`, `postgres`, `windows`, …
    pub service: &'a str,
    pub interactive: bool,
    pub success: bool,
}

/// How a use breaks 4.5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misuse {
    /// A person at a keyboard used a system account: a shell, a console, `su` or `sudo`
    /// into it, an interactive database client.
    Interactive,
    /// A login with a system account from a place its record does not name (a
    /// workstation network, say).
    ForeignOrigin,
}

impl Misuse {
    pub fn describe(&self, use_: &AccountUse<'_>) -> String {
        let who = use_.by.map_or_else(|| "someone".to_owned(), |by| format!("`{by}`"));
        let from = use_.source.map(|s| format!(" from {s}")).unwrap_or_default();
        match self {
            Misuse::Interactive => format!(
                "{who} used system account `{}` on {} interactively ({}{from})",
                use_.account, use_.host, use_.service
            ),
            Misuse::ForeignOrigin => format!(
                "system account `{}` logged in to {}{from}, which its record does not name as an origin ({})",
                use_.account, use_.host, use_.service
            ),
        }
    }
}

/// What 4.5 says of one use: nothing for accounts that are not documented system
/// accounts and for failed attempts; a misuse otherwise if the order's rule is broken.
pub fn misuse(
    rules: &SystemAccountRules,
    registry: &[SystemAccount],
    use_: &AccountUse<'_>,
) -> Option<Misuse> {
    if !use_.success {
        return None;
    }
    let record = registry.iter().find(|r| r.covers(use_.host, use_.account))?;
    let documented_origin = use_.source.is_some_and(|s| record.allows_origin(s));
    // sshd logs a program's key login as it logs a person's: the record's origins tell
    // them apart. Everywhere else (`su`, `sudo -i`, a console, `psql`, a remote desktop)
    // the log says a person was at the keyboard.
    let program_over_ssh = use_.service == "ssh" && documented_origin;
    if use_.interactive && !rules.interactive_use_allowed && !program_over_ssh {
        return Some(Misuse::Interactive);
    }
    // A switch on the host (`su`, `sudo`, a local session) has no network origin.
    let remote = use_.source.is_some_and(|s| s.parse::<IpAddr>().is_ok());
    (remote && !documented_origin).then_some(Misuse::ForeignOrigin)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Clause;

    fn oracle() -> SystemAccount {
        SystemAccount {
            host: "cps-db1".into(),
            account: "oracle".into(),
            system: "CPS".into(),
            purpose: "runs the CPS database".into(),
            custodian: "SDD".into(),
            usage: "service".into(),
            origins: vec!["10.20.1.0/24".into(), "cps-app1".into()],
        }
    }

    fn rules() -> SystemAccountRules {
        SystemAccountRules { clause: Clause::parse("4.5").unwrap(), interactive_use_allowed: false }
    }

    fn use_<'a>(service: &'a str, interactive: bool, source: Option<&'a str>) -> AccountUse<'a> {
        AccountUse {
            host: "CPS-DB1",
            account: "oracle",
            by: Some("jdelacruz"),
            source,
            service,
            interactive,
            success: true,
        }
    }

    #[test]
    fn interactive_use_of_a_system_account_is_a_misuse() {
        let registry = [oracle()];
        let check = |u: AccountUse<'_>| misuse(&rules(), &registry, &u);
        // A person at a keyboard: sudo -i, su, a console, psql.
        assert_eq!(check(use_("sudo", true, Some("pts/0"))), Some(Misuse::Interactive));
        assert_eq!(check(use_("su", true, None)), Some(Misuse::Interactive));
        assert_eq!(check(use_("postgres", true, Some("10.20.1.5"))), Some(Misuse::Interactive));
        // SSH: a program from a documented origin, a person from anywhere else.
        assert_eq!(check(use_("ssh", true, Some("10.20.1.5"))), None);
        assert_eq!(check(use_("ssh", true, Some("cps-app1"))), None);
        assert_eq!(check(use_("ssh", true, Some("10.30.7.7"))), Some(Misuse::Interactive));
        // A program's login from a place the record does not name.
        assert_eq!(check(use_("postgres", false, Some("10.30.7.7"))), Some(Misuse::ForeignOrigin));
        assert_eq!(check(use_("sudo", false, Some("pts/0"))), None);
        // Failed attempts, and accounts that are not system accounts, are not 4.5's.
        assert_eq!(check(AccountUse { success: false, ..use_("su", true, None) }), None);
        assert_eq!(check(AccountUse { account: "jdelacruz", ..use_("su", true, None) }), None);
        let allowed = SystemAccountRules { interactive_use_allowed: true, ..rules() };
        assert_eq!(misuse(&allowed, &registry, &use_("su", true, None)), None);
    }

    #[test]
    fn origins_are_addresses_networks_or_host_names() {
        let a = oracle();
        assert!(a.allows_origin("10.20.1.200") && !a.allows_origin("10.20.2.1"));
        assert!(check_origin("10.20.1.0/24").is_ok() && check_origin("fe80::/10").is_ok());
        assert!(check_origin("10.20.1.0/33").is_err() && check_origin("a b").is_err());
        let v6 = SystemAccount { origins: vec!["2001:db8::/32".into()], ..oracle() };
        assert!(v6.allows_origin("2001:db8:1::5") && !v6.allows_origin("2001:db9::1"));
    }
}

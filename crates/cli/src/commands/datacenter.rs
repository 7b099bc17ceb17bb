//! `bantay incident …`, `camera`, `roster add`, `pass …` and `guard …`: the helpdesk's
//! incidents, the datacenter's cameras and guards, emergency passes and the guard station.

use std::path::PathBuf;
use std::process::ExitCode;

use bantay_server::{GateView, IncidentForm, IncidentView, PassForm, PassView, RosterForm};

use crate::output::Output;
use crate::place::{runtime, Place};
use crate::served::{open, or_exit, print_json, ServiceOptions};

#[derive(Debug, clap::Subcommand)]
pub enum IncidentCommand {
    /// Open an incident at tier 1, with the SLA clocks of its priority (1.1).
    Open {
        #[arg(long)]
        title: String,
        /// P1 to P4.
        #[arg(long)]
        priority: String,
        #[arg(long)]
        owner: String,
    },
    /// Record the first response.
    Respond {
        id: String,
    },
    Resolve {
        id: String,
    },
    /// Open incidents, the first to breach first.
    List,
}

#[derive(Debug, clap::Args)]
pub struct CameraArgs {
    #[arg(long)]
    datacenter: String,
    #[arg(long)]
    camera: String,
    /// The camera is down (without it: working).
    #[arg(long)]
    down: bool,
    #[arg(long, default_value = "")]
    note: String,
}

#[derive(Debug, clap::Args)]
pub struct RosterArgs {
    #[arg(long)]
    guard: String,
    #[arg(long)]
    datacenter: String,
    #[arg(long)]
    post: String,
    #[arg(long)]
    from: String,
    #[arg(long)]
    until: String,
}

#[derive(Debug, clap::Subcommand)]
pub enum PassCommand {
    /// Ask for an emergency visit to a datacenter for an open P1/P2 incident (4.3).
    /// Exit 1 if it is refused (the clauses are printed).
    Request {
        #[arg(long)]
        datacenter: String,
        #[arg(long)]
        incident: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        until: String,
        /// Who would enter, when not the requester.
        #[arg(long = "for")]
        person: Option<String>,
    },
    /// The Deputy Commissioner's written approval (`--as`).
    Approve {
        id: String,
    },
    Revoke {
        id: String,
        #[arg(long)]
        reason: String,
    },
    Show {
        id: String,
    },
    /// Write the printable pass (HTML with its QR code) to stdout.
    Print {
        id: String,
    },
    /// Check a pass code offline with the ledger's public key: exit 0 valid, 1 not.
    Verify {
        /// The public key (64 hex digits) or a file holding it.
        #[arg(long)]
        public_key: String,
        /// The code, as scanned or typed.
        code: String,
        /// The time to check at; now when omitted.
        #[arg(long)]
        at: Option<String>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum GuardCommand {
    /// Vet a pass code (nothing is logged).
    Check {
        #[arg(long)]
        datacenter: String,
        code: String,
    },
    /// Admit the holder of a valid pass; anything else is logged as refused. Exit 1 if refused.
    Enter {
        #[arg(long)]
        datacenter: String,
        code: Option<String>,
        /// Log someone who went in without a valid pass (it becomes a finding).
        #[arg(long, requires = "note")]
        without_pass: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Log the exit of the holder of a pass.
    Exit {
        #[arg(long)]
        datacenter: String,
        code: String,
    },
    /// The logbook, newest first.
    Log {
        #[arg(long)]
        datacenter: String,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

pub fn incident(
    command: &IncidentCommand,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let actor = options.actor();
        let views = match command {
            IncidentCommand::Open { title, priority, owner } => {
                let form = IncidentForm {
                    title: title.clone(),
                    priority: priority.clone(),
                    owner: owner.clone(),
                };
                vec![or_exit!(service.open_incident(&actor, &form).await)]
            }
            IncidentCommand::Respond { id } => {
                vec![or_exit!(service.incident_step(&actor, id, "responded").await)]
            }
            IncidentCommand::Resolve { id } => {
                vec![or_exit!(service.incident_step(&actor, id, "resolved").await)]
            }
            IncidentCommand::List => or_exit!(service.open_incidents().await),
        };
        match output {
            Output::Json if matches!(command, IncidentCommand::List) => print_json(&views)?,
            Output::Json => print_json(&views[0])?,
            Output::Text => views.iter().for_each(print_incident),
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn print_incident(i: &IncidentView) {
    println!(
        "{}  {} tier {} {:<8} {}  ({}, owner {})",
        i.id, i.priority, i.tier, i.status, i.title, i.clock, i.owner
    );
}

pub fn camera(
    args: &CameraArgs,
    place: &Place,
    options: &ServiceOptions,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        or_exit!(
            service
                .camera_status(
                    &options.actor(),
                    &args.datacenter,
                    &args.camera,
                    !args.down,
                    &args.note
                )
                .await
        );
        println!(
            "{} {}: {}",
            args.datacenter,
            args.camera,
            if args.down { "down" } else { "operational" }
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn roster(
    args: &RosterArgs,
    place: &Place,
    options: &ServiceOptions,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let form = RosterForm {
            guard: args.guard.clone(),
            datacenter: args.datacenter.clone(),
            post: args.post.clone(),
            from: args.from.clone(),
            until: args.until.clone(),
        };
        let id = or_exit!(service.roster_guard(&options.actor(), &form).await);
        println!(
            "{id}: {} guards {} at {} from {} until {}",
            args.guard, args.datacenter, args.post, args.from, args.until
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn pass(
    command: &PassCommand,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    if let PassCommand::Verify { public_key, code, at } = command {
        return verify(public_key, code, at.as_deref(), output);
    }
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let actor = options.actor();
        let view = match command {
            PassCommand::Request { datacenter, incident, reason, from, until, person } => {
                let form = PassForm {
                    person: person.clone(),
                    datacenter: datacenter.clone(),
                    incident: incident.clone(),
                    reason: reason.clone(),
                    from: from.clone(),
                    until: until.clone(),
                };
                or_exit!(service.request_pass(&actor, &form).await)
            }
            PassCommand::Approve { id } => or_exit!(service.approve_pass(&actor, id).await),
            PassCommand::Revoke { id, reason } => {
                or_exit!(service.revoke_pass(&actor, id, reason).await)
            }
            PassCommand::Show { id } => or_exit!(service.pass(id).await),
            PassCommand::Print { id } => {
                print!("{}", or_exit!(service.print_pass(id).await));
                return Ok(ExitCode::SUCCESS);
            }
            PassCommand::Verify { .. } => return Ok(ExitCode::from(2)),
        };
        match output {
            Output::Json => print_json(&view)?,
            Output::Text => print_pass(&view),
        }
        Ok(if view.status == "refused" { ExitCode::from(1) } else { ExitCode::SUCCESS })
    })
}

fn print_pass(p: &PassView) {
    println!("{}: {}", p.id, p.status);
    println!(
        "  {} into {} from {} until {}, for {}: {}",
        p.person, p.datacenter, p.from, p.until, p.incident, p.reason
    );
    for r in &p.reasons {
        println!("  denies  {} ({})", r.message, r.clause);
    }
    if let Some(code) = &p.code {
        println!("  approved by {}; code {code}", p.approver.as_deref().unwrap_or("?"));
    }
}

fn verify(
    public_key: &str,
    code: &str,
    at: Option<&str>,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let text = if std::path::Path::new(public_key).is_file() {
        std::fs::read_to_string(PathBuf::from(public_key))?
    } else {
        public_key.to_owned()
    };
    let key = bantay_store::parse_public_key(text.trim()).map_err(anyhow::Error::msg)?;
    let now = crate::clock::now_or(at)?.unix_seconds();
    let check = bantay_server::check_pass_code(code, &[key], now);
    let claims = match &check {
        bantay_server::CodeCheck::Valid(c)
        | bantay_server::CodeCheck::TooEarly(c)
        | bantay_server::CodeCheck::Expired(c) => Some(c.clone()),
        _ => None,
    };
    match output {
        Output::Json => {
            print_json(&serde_json::json!({ "verdict": check.verdict(), "claims": claims }))?
        }
        Output::Text => {
            println!("{}", check.verdict());
            if let Some(c) = &claims {
                let t = |s| bantay_core::Timestamp::from_unix_seconds(s).to_string();
                println!(
                    "  pass {} for {} into {} from {} until {}",
                    c.pass,
                    c.person,
                    c.datacenter,
                    t(c.from),
                    t(c.until)
                );
            }
            if let bantay_server::CodeCheck::Malformed(why) = &check {
                println!("  {why}");
            }
        }
    }
    Ok(if matches!(check, bantay_server::CodeCheck::Valid(_)) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn guard(
    command: &GuardCommand,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let actor = options.actor();
        let view = match command {
            GuardCommand::Check { datacenter, code } => {
                or_exit!(service.gate_check(&actor, datacenter, code).await)
            }
            GuardCommand::Enter { datacenter, code: _, without_pass: Some(person), note } => {
                or_exit!(
                    service
                        .gate_enter_without_pass(
                            &actor,
                            datacenter,
                            person,
                            note.as_deref().unwrap_or("")
                        )
                        .await
                )
            }
            GuardCommand::Enter { datacenter, code: Some(code), .. } => {
                or_exit!(service.gate_enter(&actor, datacenter, code).await)
            }
            GuardCommand::Enter { .. } => {
                anyhow::bail!("give the pass code, or --without-pass PERSON --note WHY")
            }
            GuardCommand::Exit { datacenter, code } => {
                or_exit!(service.gate_exit(&actor, datacenter, code).await)
            }
            GuardCommand::Log { datacenter, limit } => {
                let log = or_exit!(service.logbook(datacenter, *limit).await);
                if output == Output::Json {
                    print_json(&log)?;
                } else {
                    for l in log {
                        let t = bantay_core::Timestamp::from_unix_seconds(l.time);
                        println!(
                            "{t}  {:<8} {:<16} {:<10} guard {}  pass {}",
                            l.action,
                            l.verdict,
                            l.person.as_deref().unwrap_or("-"),
                            l.guard,
                            l.pass.as_deref().unwrap_or("-")
                        );
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
        };
        match output {
            Output::Json => print_json(&view)?,
            Output::Text => print_gate(&view),
        }
        let admitted = matches!(view.verdict.as_str(), "valid" | "exit")
            || view.logged.as_deref() == Some("entry");
        Ok(if admitted { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}

fn print_gate(v: &GateView) {
    println!("{}", v.verdict.to_uppercase());
    if let (Some(person), Some(pass)) = (&v.person, &v.pass) {
        println!(
            "  {} ({person}), pass {pass}, {} to {}",
            v.name.as_deref().unwrap_or("?"),
            v.from.as_deref().unwrap_or("?"),
            v.until.as_deref().unwrap_or("?")
        );
    }
    if let Some(logged) = &v.logged {
        println!(
            "  logged: {logged}{}",
            v.visit.as_ref().map(|id| format!(" (visit {id})")).unwrap_or_default()
        );
    }
}

//! `bantay personnel …` and `bantay resources add`: recording people, personnel orders
//! (with the mover report of a realignment) and resources.

use std::process::ExitCode;

use bantay_server::{AssignmentForm, PersonForm, ResourceForm};

use crate::output::Output;
use crate::place::{runtime, Place};
use crate::served::{open, or_exit, print_json, ServiceOptions};

#[derive(Debug, clap::Subcommand)]
pub enum PersonnelCommand {
    /// Record a person (or update their name, port and mail address).
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// The port they serve (port-scoped units, PDMU).
        #[arg(long)]
        port: Option<String>,
        /// Where their notifications are mailed.
        #[arg(long)]
        email: Option<String>,
    },
    /// Record a personnel order (CPO): from its effective date the person is in the
    /// unit. Every grant they hold is re-examined as of that date; what the new unit's
    /// duties do not justify is suspended and gets a revocation task. Prints the mover
    /// report.
    Assign {
        #[arg(long)]
        person: String,
        #[arg(long)]
        unit: String,
        /// The order's number, e.g. CPO-2026-0142.
        #[arg(long)]
        order: String,
        #[arg(long)]
        effective: String,
        /// The order makes them head of the unit.
        #[arg(long)]
        head: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct ResourceArgs {
    #[arg(long)]
    id: String,
    /// host, database, application, device, appliance, console or datacenter.
    #[arg(long)]
    kind: String,
    /// The privilege class: os, database, application, network, …
    #[arg(long)]
    class: String,
    #[arg(long)]
    system: Option<String>,
    #[arg(long)]
    port: Option<String>,
    /// A configured target that enforces access to it (`--target NAME=…`).
    #[arg(long = "on")]
    target: Option<String>,
    /// The role on the target that carries the privilege.
    #[arg(long)]
    role: Option<String>,
}

pub fn run(
    command: &PersonnelCommand,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let actor = options.actor();
        match command {
            PersonnelCommand::Add { id, name, port, email } => {
                let form = PersonForm {
                    id: id.clone(),
                    name: name.clone(),
                    port: port.clone(),
                    email: email.clone(),
                };
                or_exit!(service.record_person(&actor, &form).await);
                println!("recorded {id}");
            }
            PersonnelCommand::Assign { person, unit, order, effective, head } => {
                let form = AssignmentForm {
                    person: person.clone(),
                    unit: unit.clone(),
                    order: order.clone(),
                    effective: effective.clone(),
                    head: *head,
                };
                let report = or_exit!(service.assign(&actor, &form).await);
                if output == Output::Json {
                    print_json(&report)?;
                } else {
                    let from = if report.from_units.is_empty() {
                        "no unit".to_owned()
                    } else {
                        report.from_units.join(", ")
                    };
                    println!(
                        "{}: {} moves from {from} to {} on {}",
                        report.order, report.person, report.to_unit, report.effective
                    );
                    for g in &report.kept {
                        println!(
                            "  keeps     {} {} ({}): {}",
                            g.grant, g.resource, g.clause, g.reason
                        );
                    }
                    for g in &report.suspended {
                        println!(
                            "  suspended {} {} ({}): {}\n            task {} due {}",
                            g.grant,
                            g.resource,
                            g.clause,
                            g.reason,
                            g.task.as_deref().unwrap_or("-"),
                            g.due.as_deref().unwrap_or("-")
                        );
                    }
                    for f in &report.held_findings {
                        println!(
                            "  finding   {f} (an account on a real system; bantay findings list)"
                        );
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn add_resource(
    args: &ResourceArgs,
    place: &Place,
    options: &ServiceOptions,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let form = ResourceForm {
            id: args.id.clone(),
            kind: args.kind.clone(),
            class: args.class.clone(),
            system: args.system.clone(),
            port: args.port.clone(),
            target: args.target.clone(),
            target_role: args.role.clone(),
        };
        or_exit!(service.record_resource(&options.actor(), &form).await);
        println!("recorded {}", args.id);
        Ok(ExitCode::SUCCESS)
    })
}

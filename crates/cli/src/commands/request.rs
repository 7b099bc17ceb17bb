//! `bantay request …`: ask for a privilege, approve, withdraw, show and list requests.

use std::process::ExitCode;

use bantay_server::{RequestForm, RequestView};

use crate::output::Output;
use crate::place::{runtime, Place};
use crate::served::{open, or_exit, print_json, ServiceOptions};

#[derive(Debug, clap::Subcommand)]
pub enum RequestCommand {
    /// Ask for a privilege on a resource, citing the duty that needs it. Exit 1 if the
    /// order refuses it (the clauses are printed), 2 on bad input.
    Submit {
        /// The resource, e.g. cps-db-0.
        #[arg(long)]
        resource: String,
        /// The duty clause that needs it, e.g. 2.2.1.
        #[arg(long)]
        clause: String,
        /// standing (days) or just_in_time (hours).
        #[arg(long, default_value = "standing")]
        kind: String,
        /// When it starts (Manila time unless an offset is given); now when omitted.
        #[arg(long)]
        from: Option<String>,
        /// When it ends.
        #[arg(long)]
        until: String,
        /// The person who would hold it, when a unit head asks for them.
        #[arg(long = "for")]
        person: Option<String>,
    },
    /// Approve the step of a request that awaits you (`--as`).
    Approve { id: String },
    /// Withdraw a pending request.
    Withdraw { id: String },
    /// Show a request, its decision and its approval steps.
    Show { id: String },
    /// List requests, newest first.
    List {
        /// pending, approved, refused, withdrawn or expired.
        #[arg(long)]
        status: Option<String>,
    },
}

pub fn run(
    command: &RequestCommand,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let actor = options.actor();
        let views = match command {
            RequestCommand::Submit { resource, clause, kind, from, until, person } => {
                let form = RequestForm {
                    person: person.clone(),
                    resource: resource.clone(),
                    clause: clause.clone(),
                    kind: kind.clone(),
                    valid_from: from.clone(),
                    valid_until: until.clone(),
                };
                service.submit(&actor, &form).await.map(|v| vec![v])
            }
            RequestCommand::Approve { id } => service.approve(&actor, id).await.map(|v| vec![v]),
            RequestCommand::Withdraw { id } => service.withdraw(&actor, id).await.map(|v| vec![v]),
            RequestCommand::Show { id } => service.view(id).await.map(|v| vec![v]),
            RequestCommand::List { status } => service.requests(status.as_deref()).await,
        };
        let views = or_exit!(views);
        match (output, command) {
            (Output::Json, RequestCommand::List { .. }) => print_json(&views)?,
            (Output::Json, _) => print_json(&views[0])?,
            (Output::Text, RequestCommand::List { .. }) => {
                for v in &views {
                    println!(
                        "{}  {:<9} {} {} on {} ({}) until {}",
                        v.id, v.status, v.person, v.kind, v.resource, v.clause, v.valid_until
                    );
                }
            }
            (Output::Text, _) => print_view(&views[0]),
        }
        let refused = views.len() == 1 && views[0].status == "refused";
        Ok(if refused && !matches!(command, RequestCommand::Show { .. }) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}

fn print_view(v: &RequestView) {
    println!("{}: {}", v.id, v.status);
    println!(
        "  {} asks that {} hold {} on {}, citing {}",
        v.requester,
        v.person,
        v.kind.replace('_', "-"),
        v.resource,
        v.clause
    );
    println!("  from {} until {}; pending until {}", v.valid_from, v.valid_until, v.expires);
    for r in &v.reasons {
        println!("  {:<7} {}", r.effect, r.message);
    }
    // A refused request has no approvals to wait for.
    for s in v.steps.iter().filter(|_| v.status != "refused") {
        match (&s.approver, &s.time) {
            (Some(who), Some(when)) => {
                println!("  step {}: {} approved for {} at {when}", s.step, who, s.unit)
            }
            _ if !s.eligible.is_empty() => println!(
                "  step {}: awaits the head of {} ({})",
                s.step,
                s.unit,
                s.eligible.join(", ")
            ),
            _ => println!("  step {}: head of {}", s.step, s.unit),
        }
    }
    if let Some(grant) = &v.grant {
        println!("  grant {grant}");
    }
}

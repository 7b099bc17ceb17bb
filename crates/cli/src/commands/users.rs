//! `bantay users`: signing in to Bantay's web pages — passwords with their second factor,
//! and the roles the organisation does not already imply (auditor, administrator).

use std::io::BufRead;
use std::process::ExitCode;

use bantay_core::Role;

use crate::place::{runtime, Place};
use crate::served::{failed, open, ServiceOptions};

#[derive(Debug, clap::Subcommand)]
pub enum UsersCommand {
    /// Set a person's password, read from BANTAY_PASSWORD or the first line of standard
    /// input. Unit heads, approvers and administrators are enrolled in a TOTP second
    /// factor the first time: the `otpauth://` address for their authenticator app is
    /// printed once.
    Password {
        person: String,
        /// Enrol a new second factor even if one is enrolled (a lost phone).
        #[arg(long)]
        new_totp: bool,
    },
    /// Name a person auditor or administrator, or take the role away with --remove.
    Role {
        person: String,
        #[arg(value_parser = ["auditor", "administrator"])]
        role: String,
        #[arg(long)]
        remove: bool,
    },
    /// A person's roles in Bantay, as its policy sees them now.
    Show { person: String },
}

pub fn users(
    command: &UsersCommand,
    place: &Place,
    options: &ServiceOptions,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let actor = options.actor();
        match command {
            UsersCommand::Password { person, new_totp } => {
                let password = match std::env::var("BANTAY_PASSWORD") {
                    Ok(p) => p,
                    Err(_) => {
                        let mut line = String::new();
                        std::io::stdin().lock().read_line(&mut line)?;
                        line.trim_end_matches(['\r', '\n']).to_owned()
                    }
                };
                match service.set_password(&actor, person, &password, *new_totp).await {
                    Ok(enrolment) => {
                        eprintln!("the password of {person} is set (the ledger records that, never the password)");
                        if let Some(uri) = enrolment.totp_uri {
                            eprintln!("second factor: add this to {person}'s authenticator app; it is shown only now");
                            println!("{uri}");
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(failed(&e)),
                }
            }
            UsersCommand::Role { person, role, remove } => {
                let role = if role == "auditor" { Role::Auditor } else { Role::Administrator };
                match service.assign_role(&actor, person, role, !remove).await {
                    Ok(()) => {
                        let verb = if *remove { "is no longer" } else { "is now" };
                        eprintln!("{person} {verb} {}", role.title().to_lowercase());
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(failed(&e)),
                }
            }
            UsersCommand::Show { person } => match service.roles_of(person).await {
                Ok(roles) => {
                    for role in roles {
                        println!("{}", role.as_str());
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(failed(&e)),
            },
        }
    })
}

//! Command-line arguments. Terraform's single-dash long flags (`-auto-approve`, `-var=x=y`) are
//! accepted as well as `--auto-approve`.

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "terrane",
    version,
    about = "Infrastructure provisioning from Terraform-syntax modules, with local SQLite state"
)]
pub struct Cli {
    /// Switch to this directory before doing anything else.
    #[arg(long, global = true, value_name = "DIR")]
    pub chdir: Option<String>,
    /// Workspace (environment) to use; overrides `terrane workspace select` and TF_WORKSPACE.
    #[arg(long, global = true)]
    pub workspace: Option<String>,
    /// State database (default: terrane.state.db in the working directory).
    #[arg(long, global = true, value_name = "FILE")]
    pub state: Option<String>,
    /// Plain output, without colours.
    #[arg(long, global = true)]
    pub no_color: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone, Default)]
pub struct VarArgs {
    /// Set a root module variable: -var 'name=value'.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variables from a .tfvars file.
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct LockArgs {
    /// How long to wait for the state lock (e.g. 30s, 2m).
    #[arg(long, default_value = "0s")]
    pub lock_timeout: String,
}

#[derive(Args, Debug, Clone)]
pub struct PlanArgs {
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Only these resources (and what they depend on).
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<String>,
    /// Replace this resource instance even if nothing changed.
    #[arg(long = "replace", value_name = "ADDRESS")]
    pub replace: Vec<String>,
    /// Read real infrastructure before planning (default true).
    #[arg(long, default_value = "true", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub refresh: bool,
    /// Only read real infrastructure and record what changed outside Terrane in state; plan no
    /// changes to it.
    #[arg(long)]
    pub refresh_only: bool,
    /// Limit the number of concurrent operations.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// Machine-readable output (JSON lines).
    #[arg(long)]
    pub json: bool,
    /// Ask for input (variables, confirmation) when needed.
    #[arg(long, default_value = "true", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub input: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Prepare the working directory: state database, configuration check.
    Init,
    /// Check the configuration: syntax, references, types, schemas.
    Validate {
        #[arg(long)]
        json: bool,
    },
    /// Show what would change.
    Plan {
        #[command(flatten)]
        args: PlanArgs,
        /// Save the plan to this file, for `terrane apply FILE`.
        #[arg(long)]
        out: Option<String>,
        /// Exit code 0: no changes, 1: error, 2: changes present.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Plan to destroy everything.
        #[arg(long)]
        destroy: bool,
    },
    /// Apply a saved plan, or plan, confirm and apply.
    Apply {
        #[command(flatten)]
        args: PlanArgs,
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
        /// Plan to destroy everything.
        #[arg(long)]
        destroy: bool,
        /// A plan file made by `terrane plan -out FILE`.
        plan_file: Option<String>,
    },
    /// Destroy everything this configuration manages, dependents first.
    Destroy {
        #[command(flatten)]
        args: PlanArgs,
        #[arg(long)]
        auto_approve: bool,
    },
    /// Bring an existing object under management: terrane import ADDRESS ID.
    Import {
        address: String,
        id: String,
        #[command(flatten)]
        vars: VarArgs,
        #[command(flatten)]
        lock: LockArgs,
        #[arg(long, default_value = "true", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
        input: bool,
    },
    /// Show output values.
    Output {
        name: Option<String>,
        #[arg(long)]
        json: bool,
        /// Print a string value without quotes.
        #[arg(long)]
        raw: bool,
    },
    /// Show the state, or a saved plan.
    Show {
        plan_file: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Inspect and edit the state.
    #[command(subcommand)]
    State(StateCommand),
    /// Print the dependency graph in DOT format.
    Graph,
    /// List past runs of this workspace: who, when, command, result, counts.
    History {
        #[arg(long)]
        json: bool,
    },
    /// Remove a lock left by a process that can no longer release it.
    ForceUnlock {
        lock_id: String,
        #[arg(long)]
        force: bool,
    },
    /// Manage workspaces (one state per environment).
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
}

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// List resource instances in state.
    List { addresses: Vec<String> },
    /// Show one resource instance.
    Show { address: String },
    /// Forget resource instances (the real objects are not touched).
    Rm {
        addresses: Vec<String>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Rename a resource instance in state.
    Mv {
        source: String,
        destination: String,
        #[command(flatten)]
        lock: LockArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum WorkspaceCommand {
    List,
    Show,
    New {
        name: String,
    },
    Select {
        name: String,
    },
    Delete {
        name: String,
        #[arg(long)]
        force: bool,
    },
}

/// Rewrites Terraform-style `-flag` / `-flag=value` into `--flag` / `--flag=value`.
pub fn normalize(args: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut passthrough = false;
    for (i, a) in args.into_iter().enumerate() {
        if i == 0 || passthrough {
            out.push(a);
            continue;
        }
        if a == "--" {
            passthrough = true;
            out.push(a);
            continue;
        }
        let bytes = a.as_bytes();
        if bytes.len() > 2 && bytes[0] == b'-' && bytes[1] != b'-' && bytes[1].is_ascii_alphabetic()
        {
            let name_len = a[1..].find('=').unwrap_or(a.len() - 1);
            if name_len > 1 {
                out.push(format!("-{a}"));
                continue;
            }
        }
        out.push(a);
    }
    out
}

/// Parses `30s`, `2m`, `1h`, `500ms`, `0`.
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    terrane_core::units::parse_duration(s).ok()
}

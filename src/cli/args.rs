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
    /// Everything but these resources (and what depends on them; in a destroy, what they
    /// depend on), as OpenTofu's -exclude.
    #[arg(long = "exclude", value_name = "ADDRESS")]
    pub excludes: Vec<String>,
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
pub enum EnvCommand {
    /// Create or update a branch's environment: its workspace (`<prefix>-<sha8(branch)>`), the
    /// variables env_name, branch and env_id, the environment's tags on every taggable object,
    /// then apply.
    Up {
        /// The git branch.
        #[arg(long)]
        branch: String,
        /// Name prefix (default: environments.hcl, else "automation").
        #[arg(long)]
        prefix: Option<String>,
        /// Inactivity TTL, renewed by every env up (e.g. 72h; default: environments.hcl).
        #[arg(long)]
        ttl: Option<String>,
        #[command(flatten)]
        args: PlanArgs,
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
    },
    /// Destroy a branch's environment and delete its workspace.
    Down {
        /// The git branch.
        #[arg(long)]
        branch: Option<String>,
        /// The environment's name (instead of --branch).
        #[arg(long)]
        name: Option<String>,
        /// Name prefix (default: environments.hcl, else "automation").
        #[arg(long)]
        prefix: Option<String>,
        #[command(flatten)]
        args: PlanArgs,
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
    },
    /// Every environment: name, branch, created, last apply, expiry, objects, status.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove every expired environment (destroy, then delete its workspace; where a destroy
    /// fails, nuke by the environment's tag), and every environment whose state is gone but
    /// whose tagged objects remain. Shows what it will remove and asks first.
    Gc {
        /// Only show what would be removed.
        #[arg(long)]
        dry_run: bool,
        /// Name prefix of the environments to look for (default: environments.hcl).
        #[arg(long)]
        prefix: Option<String>,
        /// The account a nuke may delete in (a nuke needs it pinned).
        #[arg(long, value_name = "ID")]
        account: Option<String>,
        /// A region to search for orphans (repeatable; default AWS_REGION).
        #[arg(long = "region", value_name = "REGION")]
        regions: Vec<String>,
        #[command(flatten)]
        args: PlanArgs,
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
    },
    /// One environment, with its outputs.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

/// `terrane init`: Terraform's CI flags.
#[derive(Args, Debug, Clone)]
pub struct InitArgs {
    /// Ask for input when needed (CI passes -input=false; init asks nothing then).
    #[arg(long, default_value = "true", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub input: bool,
    /// A backend setting, KEY=VALUE, or a file of `key = value` lines (repeatable; later ones
    /// win). Kept in .terrane/backend.json for the commands that follow.
    #[arg(long = "backend-config", value_name = "KEY=VALUE|FILE")]
    pub backend_config: Vec<String>,
    /// Use the configured backend as it is, forgetting the one init recorded before (and its
    /// -backend-config values); nothing is copied.
    #[arg(long)]
    pub reconfigure: bool,
    /// Copy every workspace of the previous backend (recorded by the last init, or the local
    /// state file) into the configured one.
    #[arg(long)]
    pub migrate_state: bool,
}

// Parsed once per process: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Prepare the working directory: state backend, plugins, configuration check.
    Init(InitArgs),
    /// Check the configuration: syntax, references, types, schemas.
    Validate {
        #[arg(long)]
        json: bool,
    },
    /// Evaluate expressions read from standard input, one per line, with the configuration and
    /// the state (a plan without refresh): variables, locals, resources, data sources, outputs
    /// and functions.
    Console {
        #[command(flatten)]
        args: PlanArgs,
    },
    /// Run the module's tests: the `run` blocks of its `.tftest.hcl` files (beside it and in
    /// `tests/`), each file against a temporary state that is destroyed at its end.
    Test {
        /// Only these test files (paths relative to the module).
        #[arg(long = "filter", value_name = "FILE")]
        filter: Vec<String>,
        #[command(flatten)]
        vars: VarArgs,
        /// Where test files are besides the module's own directory.
        #[arg(long, default_value = "tests")]
        test_directory: String,
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
        /// Write configuration for the objects of `import` blocks whose resources are not
        /// declared to this new file, then plan with it.
        #[arg(long, value_name = "FILE")]
        generate_config_out: Option<String>,
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
    /// Mark a resource instance as tainted: the next plan replaces it.
    Taint {
        address: String,
        /// Succeed (and change nothing) when the instance is not in state.
        #[arg(long)]
        allow_missing: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Remove the tainted mark from a resource instance.
    Untaint {
        address: String,
        /// Succeed (and change nothing) when the instance is not in state.
        #[arg(long)]
        allow_missing: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Print Terrane's version, the platform and the providers it has (built in, and the
    /// plugins recorded in this directory's lock file).
    Version {
        #[arg(long)]
        json: bool,
    },
    /// Show the providers the configuration requires, module by module, and those the state
    /// uses.
    Providers,
    /// Print the dependency graph in DOT format.
    Graph,
    /// Rewrite configuration files in Terraform's canonical layout (the directory's *.tf,
    /// *.tfvars and *.tftest.hcl files, or the files named).
    Fmt {
        /// Write nothing; exit 3 if any file is not formatted (and list it).
        #[arg(long)]
        check: bool,
        /// Print the changes as a diff.
        #[arg(long)]
        diff: bool,
        /// Also the files in subdirectories.
        #[arg(long)]
        recursive: bool,
        /// Directories or files (default: the working directory).
        paths: Vec<std::path::PathBuf>,
    },
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
    /// Find and delete what an environment left behind, in dependency order (a dry run unless
    /// --no-dry-run).
    Nuke(NukeArgs),
    /// Per-branch environments: up, down, list, show (rules in environments.hcl).
    #[command(subcommand)]
    Env(EnvCommand),
    /// App delivery (settings in deliver.hcl): build, deploy, promote, rollback, status, history.
    Deliver(DeliverArgs),
}

#[derive(Args, Debug)]
pub struct DeliverArgs {
    #[command(subcommand)]
    pub action: DeliverAction,
    /// The delivery settings (default: deliver.hcl in the working directory).
    #[arg(long, global = true)]
    pub config: Option<String>,
    /// Print events and the result as JSON lines.
    #[arg(long, global = true)]
    pub json: bool,
    /// How long to wait for the state lock.
    #[arg(long, global = true, default_value = "0s", value_parser = parse_duration_arg)]
    pub lock_timeout: std::time::Duration,
}

#[derive(Subcommand, Debug)]
pub enum DeliverAction {
    /// Run the build command with the tags to produce, push the image, record its digest.
    Build {
        /// The build number tag (default: BUILD_NUMBER, GITHUB_RUN_NUMBER, CI_PIPELINE_IID, or the next).
        #[arg(long)]
        build_number: Option<u64>,
        /// The commit (default: GITHUB_SHA, CI_COMMIT_SHA, GIT_COMMIT, or git rev-parse HEAD).
        #[arg(long)]
        git_sha: Option<String>,
    },
    /// Release a build (default: the latest) to the idle colour and check it through the test listener.
    Deploy {
        #[arg(long)]
        build: Option<u64>,
    },
    /// Move live traffic to the tested release, then watch it through the bake time.
    Promote {
        /// Stop before the swap until `promote --approve` (exit code 3).
        #[arg(long, conflicts_with = "approve")]
        require_approval: bool,
        /// Approve a release that waits for approval, and promote it.
        #[arg(long)]
        approve: bool,
        /// Finish a promote that was interrupted.
        #[arg(long)]
        resume: bool,
    },
    /// Return live traffic to the previous release (or revert an interrupted promote).
    Rollback,
    /// Live colour, weights, services, target health, and any half-done swap.
    Status,
    /// The builds and releases, oldest first.
    History,
}

fn parse_duration_arg(s: &str) -> Result<std::time::Duration, String> {
    parse_duration(s).ok_or_else(|| format!("{s:?} is not a duration (30s, 5m, 1h)"))
}

/// `terrane nuke [SELECTION]` plans (a dry run); with --no-dry-run it deletes too.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct NukeArgs {
    #[command(subcommand)]
    pub action: Option<NukeAction>,
    #[command(flatten)]
    pub select: NukeSelect,
    #[command(flatten)]
    pub delete: NukeDelete,
    /// Delete: plan, check the account, ask for the typed confirmation, and delete.
    #[arg(long)]
    pub no_dry_run: bool,
    /// Print the plan (or the report) as JSON.
    #[arg(long)]
    pub json: bool,
    /// Say for each object why it is selected, and for each found but kept out why.
    #[arg(long)]
    pub explain: bool,
}

#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum NukeAction {
    /// Find what the selection names and show the deletion plan; nothing is deleted.
    Plan {
        #[command(flatten)]
        select: NukeSelect,
        /// Save the plan, for `terrane nuke apply FILE`.
        #[arg(long)]
        out: Option<String>,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        explain: bool,
    },
    /// Delete exactly what a saved plan lists (each object checked again first).
    Apply {
        plan_file: String,
        #[command(flatten)]
        delete: NukeDelete,
        /// A filter file whose account and environment rules apply.
        #[arg(long, value_name = "FILE")]
        filter: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// What a nuke selects; every criterion given must hold.
#[derive(Args, Debug, Clone, Default)]
pub struct NukeSelect {
    /// The environment: objects whose environment tag has this value.
    #[arg(long)]
    pub env: Option<String>,
    /// The tag key that names an object's environment (default terrane:env).
    #[arg(long, value_name = "KEY")]
    pub env_tag: Option<String>,
    /// A tag that must be present: KEY=VALUE (repeatable; all must match).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// A tag whose value must match a regular expression: KEY=REGEX (repeatable).
    #[arg(long = "tag-regex", value_name = "KEY=REGEX")]
    pub tag_regex: Vec<String>,
    /// Names starting with this.
    #[arg(long)]
    pub name_prefix: Option<String>,
    /// Names matching this regular expression.
    #[arg(long)]
    pub name_regex: Option<String>,
    /// Only these types (globs such as aws_iam_*; repeatable).
    #[arg(long = "type", value_name = "GLOB")]
    pub types: Vec<String>,
    /// Never these types (globs; repeatable).
    #[arg(long = "exclude-type", value_name = "GLOB")]
    pub exclude_types: Vec<String>,
    /// Only objects created at least this long ago (72h, 30m).
    #[arg(long)]
    pub older_than: Option<String>,
    /// Only objects created at most this long ago.
    #[arg(long)]
    pub newer_than: Option<String>,
    /// The tag that keeps an object when set to "true" (default terrane:keep).
    #[arg(long, value_name = "KEY")]
    pub keep_tag: Option<String>,
    /// A region to search (repeatable; default AWS_REGION). Nothing outside them is touched.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// A filter file (JSON): select, regions, allow_accounts, block_accounts,
    /// protected_environments.
    #[arg(long, value_name = "FILE")]
    pub filter: Option<String>,
}

/// How a nuke deletes.
#[derive(Args, Debug, Clone)]
pub struct NukeDelete {
    /// The account the credentials must act in.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// The environment name (or the account id) as the typed confirmation.
    #[arg(long, value_name = "NAME")]
    pub confirm: Option<String>,
    /// Ask for the confirmation when needed.
    #[arg(long, default_value = "true", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub input: bool,
    /// Deletions at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// When every deletion, with its retries, must be done.
    #[arg(long, default_value = "30m")]
    pub timeout: String,
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
    /// Print the state in Terraform's state format (version 4), as `terraform.tfstate` holds it.
    Pull,
    /// Write a state file (Terraform's format 4, as `state pull` prints it) as this
    /// workspace's state, if it is of the same lineage and not older (or with -force).
    Push {
        file: std::path::PathBuf,
        /// Write it even when its lineage or serial says it is not this state's successor.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Take a Terraform state file (format 4) as this workspace's state: its objects become
    /// Terrane's, nothing is created again.
    ImportTfstate {
        file: std::path::PathBuf,
        /// Forget what the workspace holds first (the real objects are not touched).
        #[arg(long)]
        replace: bool,
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

//! The command-line front end.

mod args;
mod backend;
mod deliver;
mod env;
mod fmt;
mod inspect;
mod machine;
mod nuke;
mod ops;
mod plugins;
mod test;
mod ui;
mod vars;

use std::path::PathBuf;

use clap::Parser;
use terrane_core::{Diagnostic, Diagnostics, ProviderRegistry};
use terrane_engine::Workspace;

use args::{Cli, Command};

pub type CmdResult = Result<i32, Diagnostics>;

/// Everything a command needs to know about where it runs.
#[derive(Clone)]
pub struct Ctx {
    pub dir: PathBuf,
    pub state_path: PathBuf,
    /// `--state` or `TERRANE_STATE` named the state file (a local file, whatever the backend).
    pub state_explicit: bool,
    pub workspace: String,
    pub color: bool,
    pub registry: ProviderRegistry,
    /// Tags every run adds to every taggable object (an environment's, set by `env up`).
    pub default_tags: std::collections::BTreeMap<String, String>,
}

impl Ctx {
    /// The workspace in the backend the configuration names (see `backend.rs`).
    pub fn open_workspace(&self) -> Result<Workspace, Diagnostics> {
        let mut ws = backend::open(self)?;
        ws.set_default_tags(self.default_tags.clone());
        Ok(ws)
    }
}

pub fn err(summary: &str, detail: impl Into<String>) -> Diagnostics {
    Diagnostic::error(summary, detail).into()
}

/// The providers compiled into this binary (`dir`: where `terraform_remote_state` resolves a
/// local backend's relative path).
pub fn registry(dir: &std::path::Path) -> ProviderRegistry {
    let mut r = ProviderRegistry::new();
    // The null provider's health checks include those that read AWS.
    let mut kinds = terrane_provider_builtin::health::Kinds::builtin();
    for k in terrane_provider_aws::health::check_kinds() {
        kinds.add(k);
    }
    let remote = backend::RemoteStates {
        dir: dir.to_path_buf(),
    };
    terrane_provider_builtin::register_full(&mut r, kinds, Some(std::sync::Arc::new(remote)));
    terrane_provider_aws::register(&mut r);
    // The in-tree test provider is for Terrane's own tests and benchmarks.
    if std::env::var("TERRANE_ENABLE_TEST_PROVIDER").is_ok_and(|v| v == "1") {
        terrane_provider_test::register(&mut r);
    }
    r
}

fn workspace_file(dir: &std::path::Path) -> PathBuf {
    dir.join(".terrane").join("environment")
}

pub fn run(raw: Vec<String>) -> i32 {
    let cli = match Cli::try_parse_from(args::normalize(raw)) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    // Checks a command line without running it (CI scripts are checked this way).
    if std::env::var("TERRANE_PARSE_ONLY").is_ok_and(|v| v == "1") {
        return 0;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TERRANE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .with_writer(ui::MaskedStderr::new)
        .init();
    if let Some(d) = &cli.chdir {
        if let Err(e) = std::env::set_current_dir(d) {
            eprintln!("Error: cannot change to directory {d}: {e}");
            return 1;
        }
    }
    let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let color = !cli.no_color
        && std::env::var_os("NO_COLOR").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let workspace = cli
        .workspace
        .clone()
        .or_else(|| std::env::var("TF_WORKSPACE").ok().filter(|s| !s.is_empty()))
        .or_else(|| {
            std::fs::read_to_string(workspace_file(&dir))
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "default".into());
    let explicit = cli
        .state
        .clone()
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("TERRANE_STATE").map(PathBuf::from));
    let state_explicit = explicit.is_some();
    let state_path = explicit.unwrap_or_else(|| dir.join(terrane_engine::workspace::DEFAULT_FILE));
    let registry = registry(&dir);
    let ctx = Ctx {
        dir,
        state_path,
        state_explicit,
        workspace,
        color,
        registry,
        default_tags: Default::default(),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    // plan, apply and destroy with -json report their errors as JSON lines too.
    let json_ui = matches!(
        &cli.command,
        Command::Plan { args, .. } | Command::Apply { args, .. } | Command::Destroy { args, .. } if args.json
    );
    let result = rt.block_on(dispatch(&ctx, cli.command));
    match result {
        Ok(code) => code,
        Err(diags) if json_ui => {
            for d in diags.iter() {
                println!("{}", machine::diagnostic(d));
            }
            1
        }
        Err(diags) => {
            ui::print_diags(&diags, ctx.color);
            1
        }
    }
}

async fn dispatch(ctx: &Ctx, cmd: Command) -> CmdResult {
    match cmd {
        Command::Init(a) => inspect::init(ctx, &a).await,
        Command::Validate { json } => inspect::validate(ctx, json).await,
        Command::Console { args } => ops::console(ctx, &args).await,
        Command::Test {
            filter,
            vars,
            test_directory,
        } => test::test(ctx, &filter, &vars, &test_directory).await,
        Command::Plan {
            args,
            out,
            detailed_exitcode,
            destroy,
            generate_config_out,
        } => {
            if let Some(path) = &generate_config_out {
                ops::generate_config(ctx, &args, path).await?;
            }
            ops::plan(ctx, &args, out.as_deref(), detailed_exitcode, destroy).await
        }
        Command::Apply {
            args,
            auto_approve,
            destroy,
            plan_file,
        } => ops::apply(ctx, &args, auto_approve, destroy, plan_file.as_deref()).await,
        Command::Destroy { args, auto_approve } => {
            ops::apply(ctx, &args, auto_approve, true, None).await
        }
        Command::Import {
            address,
            id,
            vars,
            lock,
            input,
        } => ops::import(ctx, &address, &id, &vars, &lock, input).await,
        Command::Output { name, json, raw } => inspect::output(ctx, name.as_deref(), json, raw),
        Command::Show { plan_file, json } => inspect::show(ctx, plan_file.as_deref(), json),
        Command::State(s) => inspect::state(ctx, s),
        Command::Taint {
            address,
            allow_missing,
            lock,
        } => inspect::taint(ctx, &address, true, allow_missing, &lock),
        Command::Untaint {
            address,
            allow_missing,
            lock,
        } => inspect::taint(ctx, &address, false, allow_missing, &lock),
        Command::Version { json } => inspect::version(ctx, json),
        Command::Providers => inspect::providers(ctx),
        Command::Graph => inspect::graph(ctx),
        Command::Fmt {
            check,
            diff,
            recursive,
            paths,
        } => fmt::run(&paths, check, diff, recursive),
        Command::History { json } => inspect::history(ctx, json),
        Command::ForceUnlock { lock_id, force } => inspect::force_unlock(ctx, &lock_id, force),
        Command::Workspace(w) => inspect::workspace(ctx, w),
        Command::Nuke(n) => nuke::nuke(ctx, n).await,
        Command::Env(e) => env::env(ctx, e).await,
        Command::Deliver(d) => deliver::deliver(ctx, d).await,
    }
}

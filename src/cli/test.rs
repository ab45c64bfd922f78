//! `terrane test`: the `.tftest.hcl` files of the module (beside it and in `tests/`), each
//! run against a state of its own in a temporary directory. A file's `run` blocks go in order
//! (`command = apply`, the default, applies; `command = plan` only plans), with the file's and
//! the run's `variables`, and each `assert` condition is evaluated with the values the run
//! left; a run's variables and assertions may read the outputs of the runs before it
//! (`run.NAME.OUTPUT`). A run with `module { source = "./setup" }` plans or applies that
//! local module instead, in a state of its own that the later runs of the same module share;
//! at the end of a file everything its runs made is destroyed, the last state made first.
//! A file's `mock_provider "NAME"` blocks replace that provider in all its runs by a mock
//! (`terrane_engine::mock`), which makes nothing and needs no credentials.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use terrane_core::{Diagnostic, Diagnostics, Value, ValueMap};
use terrane_engine::mock::{MockSpec, Mocks, Override};
use terrane_engine::source::SourceFile;
use terrane_engine::testfile::{parse, parse_mock_file, RunBlock, TestFile};
use terrane_engine::PlanOptions;

use super::args::{LockArgs, VarArgs};
use super::{ops, ui, vars, CmdResult, Ctx};

pub async fn test(ctx: &Ctx, filter: &[String], var_args: &VarArgs, dir: &str) -> CmdResult {
    let mut files: Vec<PathBuf> = Vec::new();
    for d in [ctx.dir.clone(), ctx.dir.join(dir)] {
        files.extend(files_ending(&d, ".tftest.hcl").unwrap_or_default());
    }
    files.sort();
    if !filter.is_empty() {
        files.retain(|f| {
            let rel = f
                .strip_prefix(&ctx.dir)
                .unwrap_or(f)
                .to_string_lossy()
                .into_owned();
            filter.iter().any(|x| *x == rel || f.ends_with(x))
        });
    }
    if files.is_empty() {
        println!("No test files found (*.tftest.hcl in this directory or in {dir}/).");
        return Ok(0);
    }
    // The module must load before anything runs.
    ops::load(ctx)?;
    let (mut passed, mut failed) = (0, 0);
    for path in &files {
        let rel = path
            .strip_prefix(&ctx.dir)
            .unwrap_or(path)
            .display()
            .to_string();
        println!("{rel}... in progress");
        let text = std::fs::read_to_string(path)
            .map_err(|e| super::err("Failed to read test file", format!("{rel}: {e}")))?;
        let file = SourceFile::new(rel.clone(), text);
        let parsed = parse(&file).and_then(|mut parsed: TestFile| {
            for m in &mut parsed.mocks {
                read_mock_source(ctx, &file, m)?;
            }
            Ok(parsed)
        });
        let TestFile {
            runs,
            mocks,
            overrides: file_overrides,
        } = match parsed {
            Ok(p) => p,
            Err(d) => {
                ui::print_diags(&d, ctx.color);
                println!("{rel}... fail");
                failed += 1;
                continue;
            }
        };
        let mocks = match Mocks::new(&ctx.registry, mocks) {
            Ok(m) => m,
            Err(e) => {
                let d = Diagnostics::from(Diagnostic::error("Invalid mock_provider", e));
                ui::print_diags(&d, ctx.color);
                println!("{rel}... fail");
                failed += 1;
                continue;
            }
        };
        let tmp = std::env::temp_dir().join(format!(
            "terrane-test-{}-{}",
            std::process::id(),
            passed + failed
        ));
        std::fs::create_dir_all(&tmp)
            .map_err(|e| super::err("Failed to create a temporary directory", e.to_string()))?;
        // One state per module the runs are of: the module under test's, then each
        // `module { source }`'s, in the order the runs first use them.
        let file_vars = runs.last().map(|r| r.variables.clone()).unwrap_or_default();
        let mut states: Vec<ModuleState> =
            vec![ModuleState::new(ctx, None, &tmp, 0, &file_vars, &mocks)];
        let mut file_ok = true;
        // `run.NAME`: the outputs each earlier run left.
        let mut done = ValueMap::new();
        for run in &runs {
            let source = run.module.as_ref().map(|m| m.source.as_str());
            let i = match states.iter().position(|s| s.source.as_deref() == source) {
                Some(i) => i,
                None => {
                    states.push(ModuleState::new(
                        ctx,
                        source,
                        &tmp,
                        states.len(),
                        &file_vars,
                        &mocks,
                    ));
                    states.len() - 1
                }
            };
            let st = &mut states[i];
            // The run's overrides first, then the file's and its mock providers' (those are of
            // the module under test).
            let mut overrides = run.overrides.clone();
            if run.module.is_none() {
                overrides.extend(file_overrides.iter().cloned());
                overrides.extend(mocks.overrides().cloned());
            }
            for o in &overrides {
                if !st.overrides.iter().any(|x| x.target == o.target) {
                    st.overrides.push(o.clone());
                }
            }
            let doubles = (&mocks, overrides.as_slice());
            let done_v = Value::Map(done.clone());
            let r = one_run(&st.ctx, &file, run, var_args, &done_v, doubles).await;
            st.applied |= run.apply;
            match r {
                Ok((outputs, vars)) => {
                    done.insert(run.name.clone(), outputs);
                    st.last_vars = vars;
                    println!("  run {:?}... pass", run.name);
                    passed += 1;
                }
                Err(d) => {
                    println!("  run {:?}... fail", run.name);
                    ui::print_diags(&d, ctx.color);
                    failed += 1;
                    file_ok = false;
                }
            }
        }
        let mut left_behind = false;
        if states.iter().any(|s| s.applied) {
            println!("{rel}... tearing down");
            // The last state made goes first: what a setup module made outlives what stands on it.
            for st in states.iter().rev().filter(|s| s.applied) {
                let doubles = (&mocks, st.overrides.as_slice());
                let alternate = st.source.is_some();
                if let Err(d) = teardown(&st.ctx, var_args, &st.last_vars, alternate, doubles).await
                {
                    println!(
                        "Terrane left objects behind{}: their state is in {}",
                        st.source
                            .as_deref()
                            .map(|s| format!(" (module {s})"))
                            .unwrap_or_default(),
                        st.ctx.state_path.display()
                    );
                    ui::print_diags(&d, ctx.color);
                    file_ok = false;
                    left_behind = true;
                }
            }
        }
        if !left_behind {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        println!("{rel}... {}", if file_ok { "pass" } else { "fail" });
    }
    println!();
    if failed == 0 {
        println!("Success! {passed} passed, 0 failed.");
        Ok(0)
    } else {
        println!("Failure! {passed} passed, {failed} failed.");
        Ok(1)
    }
}

/// The files of `dir` whose names end with `suffix`, in name order.
fn files_ending(dir: &std::path::Path, suffix: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    Ok(files)
}

/// A mock provider's `source`: the `*.tfmock.hcl` files of that directory (a path from the
/// module under test), in name order, added to what the test file says of it.
fn read_mock_source(ctx: &Ctx, test: &SourceFile, m: &mut MockSpec) -> Result<(), Diagnostics> {
    let Some((dir, span)) = m.source.clone() else {
        return Ok(());
    };
    let at = Some(test.range(span));
    let files = files_ending(&ctx.dir.join(&dir), ".tfmock.hcl").map_err(|e| {
        Diagnostics::from(
            Diagnostic::error("Invalid mock source", format!("{dir}: {e}")).with_range(at.clone()),
        )
    })?;
    if files.is_empty() {
        return Err(Diagnostics::from(
            Diagnostic::error(
                "Invalid mock source",
                format!("{dir} holds no .tfmock.hcl file."),
            )
            .with_range(at),
        ));
    }
    for path in files {
        let rel = path
            .strip_prefix(&ctx.dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "Failed to read mock file",
                format!("{rel}: {e}"),
            ))
        })?;
        parse_mock_file(&SourceFile::new(rel, text), m)?;
    }
    Ok(())
}

/// A state of a test file's runs: of the module under test (`source` None) or of the module a
/// run's `module { source }` names; whether a run applied in it, the variables of its last
/// run that passed, and every override its runs used (the teardown's: what an override made is
/// not the real provider's to delete).
struct ModuleState {
    source: Option<String>,
    ctx: Ctx,
    applied: bool,
    last_vars: BTreeMap<String, Value>,
    overrides: Vec<Override>,
}

/// What stands in for the real providers in a run beyond the registry's mocks: the aliased
/// mocks and the overrides.
type Doubles<'a> = (&'a Mocks, &'a [Override]);

impl ModuleState {
    fn new(
        ctx: &Ctx,
        source: Option<&str>,
        tmp: &std::path::Path,
        n: usize,
        file_vars: &BTreeMap<String, Value>,
        mocks: &Mocks,
    ) -> ModuleState {
        let dir = match source {
            Some(s) => ctx.dir.join(s),
            None => ctx.dir.clone(),
        };
        let state = match n {
            0 => "terrane.tfstate.db".to_string(),
            n => format!("terrane-module-{n}.tfstate.db"),
        };
        ModuleState {
            source: source.map(String::from),
            ctx: Ctx {
                state_path: tmp.join(state),
                state_explicit: true,
                workspace: "default".into(),
                color: ctx.color,
                registry: mocks.apply(&super::registry(&dir)),
                default_tags: Default::default(),
                dir,
            },
            applied: false,
            last_vars: file_vars.clone(),
            overrides: Vec::new(),
        }
    }
}

/// The variables of a run: the command line's and files', then `extra` (the test file's and
/// the run's). A module other than the one under test (`alternate`) takes only the `-var`
/// values it declares, as Terraform's test runs do.
fn inputs(
    config: &terrane_engine::config::Config,
    var_args: &VarArgs,
    extra: &BTreeMap<String, Value>,
    alternate: bool,
) -> Result<BTreeMap<String, Value>, Diagnostics> {
    let declared = |raw: &String| {
        raw.split_once('=')
            .is_none_or(|(n, _)| config.root.variables.contains_key(n.trim()))
    };
    let only_declared;
    let var_args = if alternate {
        only_declared = VarArgs {
            vars: var_args
                .vars
                .iter()
                .filter(|r| declared(r))
                .cloned()
                .collect(),
            var_files: var_args.var_files.clone(),
        };
        &only_declared
    } else {
        var_args
    };
    let (mut inputs, _) = vars::collect(config, var_args, false)?;
    inputs.extend(extra.clone());
    Ok(inputs)
}

/// Runs one `run` block (`done`: `run.NAME` of the earlier ones); its outputs and the
/// variables it ran with, or why it failed.
async fn one_run(
    ctx: &Ctx,
    file: &Arc<SourceFile>,
    run: &RunBlock,
    var_args: &VarArgs,
    done: &Value,
    (mocks, overrides): Doubles<'_>,
) -> Result<(Value, BTreeMap<String, Value>), Diagnostics> {
    let alternate = run.module.is_some();
    let lock_args = LockArgs {
        lock_timeout: "0s".into(),
    };
    let opts = PlanOptions {
        refresh: true,
        ..Default::default()
    };
    let variables = {
        let config = ops::load(ctx)?;
        let var = inputs(&config, var_args, &run.variables, alternate)?;
        let mut all = run.variables.clone();
        all.extend(run.own_variables(file, &var, done)?);
        all
    };
    let bindings = [("run".to_string(), done.clone())];
    // What the plan (and apply) reported: errors end the run; check blocks' are warnings.
    let mut failures = Diagnostics::new();
    let mut failed = false;
    let mut warnings: Vec<Diagnostic> = Vec::new();
    if run.apply || !run.expect_failures.is_empty() {
        let config = ops::load(ctx)?;
        let inputs = inputs(&config, var_args, &variables, alternate)?;
        let ws = ctx.open_workspace()?;
        let locked = ops::lock(ctx, &ws, "terrane test", &lock_args)?;
        let mut r = ops::run(ctx, &locked, config, inputs, 10)?;
        r.use_doubles(mocks, overrides.to_vec())?;
        match r.plan(&opts).await {
            Err(d) => {
                failures = d;
                failed = true;
            }
            Ok(plan) => {
                warnings.extend(plan.warnings.iter().cloned());
                if run.apply {
                    let (_tx, rx) =
                        tokio::sync::watch::channel(terrane_engine::events::CANCEL_NONE);
                    let applied = r
                        .apply(&plan, Arc::new(terrane_engine::events::NullSink), rx)
                        .await?;
                    if applied.outcome.diags.has_errors() || !applied.outcome.ok() {
                        failures = applied.outcome.diags;
                        failed = true;
                    } else {
                        warnings.extend(applied.outcome.diags.iter().cloned());
                    }
                }
            }
        }
    }
    if run.expect_failures.is_empty() {
        if failed {
            return Err(failures);
        }
    } else {
        expected_failures(file, run, &failures, &warnings)?;
        if failed {
            // It failed as it was meant to: there is nothing more to check.
            return Ok((Value::Map(ValueMap::new()), variables));
        }
    }
    // The assertions see what the run left: the plan of a plan run, the state after an apply.
    let config = ops::load(ctx)?;
    let inputs = inputs(&config, var_args, &variables, alternate)?;
    let ws = ctx.open_workspace()?;
    let locked = ops::lock(ctx, &ws, "terrane test", &lock_args)?;
    let mut r = ops::run(ctx, &locked, config, inputs, 10)?;
    r.use_doubles(mocks, overrides.to_vec())?;
    let eval = r.console(&opts).await?;
    let eval = |text: &str| eval(text, &bindings);
    let mut diags = Diagnostics::new();
    for a in &run.asserts {
        let range = Some(file.range(a.span.clone()));
        match eval(&a.condition) {
            Ok((Value::Bool(true), _)) => {}
            Ok((Value::Bool(false), _)) => {
                let message = match eval(&a.message) {
                    Ok((Value::String(m), false)) => m,
                    Ok((_, true)) => "(sensitive error message)".into(),
                    _ => a.message.clone(),
                };
                diags.push(Diagnostic::error("Test assertion failed", message).with_range(range));
            }
            Ok((Value::Unknown, _)) => diags.push(
                Diagnostic::error("Unknown condition value", "The condition depends on values that are known only after apply: use command = apply for this run.")
                    .with_range(range),
            ),
            Ok((other, _)) => diags.push(
                Diagnostic::error("Invalid condition", format!("The condition must be a bool, got {}.", other.type_name()))
                    .with_range(range),
            ),
            Err(d) => {
                for x in d.iter() {
                    diags.push(Diagnostic::error(&x.summary, x.detail.clone()).with_range(range.clone()));
                }
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let (outputs, _) = eval("output")?;
    Ok((outputs, variables))
}

/// Checks that a run with `expect_failures` failed only as it was meant to: an error from
/// anything else, or an expected object that reported nothing, fails it.
fn expected_failures(
    file: &SourceFile,
    run: &RunBlock,
    failures: &Diagnostics,
    warnings: &[Diagnostic],
) -> Result<(), Diagnostics> {
    let expected = |d: &Diagnostic| {
        d.checkable
            .as_deref()
            .is_some_and(|c| run.expect_failures.iter().any(|(e, _)| e == c))
    };
    let unexpected: Vec<Diagnostic> = failures
        .iter()
        .filter(|d| d.is_error() && !expected(d))
        .cloned()
        .collect();
    if !unexpected.is_empty() {
        return Err(Diagnostics(unexpected));
    }
    let mut missing = Diagnostics::new();
    for (name, span) in &run.expect_failures {
        let reported = failures
            .iter()
            .chain(warnings)
            .any(|d| d.checkable.as_deref() == Some(name.as_str()));
        if !reported {
            missing.push(
                Diagnostic::error(
                    "Missing expected failure",
                    format!("The checkable object, {name}, was expected to report an error but did not."),
                )
                .with_range(Some(file.range(span.clone()))),
            );
        }
    }
    if missing.has_errors() {
        return Err(missing);
    }
    Ok(())
}

/// Destroys what a file's runs made in one state, with the variables of its last run that
/// passed.
async fn teardown(
    ctx: &Ctx,
    var_args: &VarArgs,
    last: &BTreeMap<String, Value>,
    alternate: bool,
    (mocks, overrides): Doubles<'_>,
) -> Result<(), Diagnostics> {
    let config = ops::load(ctx)?;
    let inputs = inputs(&config, var_args, last, alternate)?;
    let ws = ctx.open_workspace()?;
    let locked = ops::lock(
        ctx,
        &ws,
        "terrane test",
        &LockArgs {
            lock_timeout: "0s".into(),
        },
    )?;
    let mut r = ops::run(ctx, &locked, config, inputs, 10)?;
    r.use_doubles(mocks, overrides.to_vec())?;
    let plan = r
        .plan(&PlanOptions {
            destroy: true,
            refresh: true,
            ..Default::default()
        })
        .await?;
    let (_tx, rx) = tokio::sync::watch::channel(terrane_engine::events::CANCEL_NONE);
    let applied = r
        .apply(&plan, Arc::new(terrane_engine::events::NullSink), rx)
        .await?;
    if applied.outcome.diags.has_errors() || !applied.outcome.ok() {
        return Err(applied.outcome.diags);
    }
    Ok(())
}

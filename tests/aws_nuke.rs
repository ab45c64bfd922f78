//! `terrane nuke` against moto: the example environment found by its tag with its state
//! database deleted, deleted in one pass with no dependency conflict while a second environment
//! stays; objects made outside Terrane (through the SDK) found and deleted the same way; and the
//! refusals (protected environment, blocklisted account, no confirmation) delete nothing.

mod common;
#[path = "common/faults.rs"]
#[allow(dead_code)]
mod faults;
#[path = "common/handmade.rs"]
mod handmade;
#[path = "common/moto.rs"]
mod moto;

use std::collections::BTreeSet;

use common::Fixture;
use moto::Moto;

const ACCOUNT: &str = "123456789012";

fn planned(plan: &serde_json::Value) -> BTreeSet<(String, String)> {
    plan["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["type_name"].as_str().unwrap().to_string(),
                o["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// What a plan lists but the rules between groups, and how many of those it lists.
fn without_rules(found: &BTreeSet<(String, String)>) -> (BTreeSet<(String, String)>, usize) {
    let (rules, rest): (BTreeSet<_>, BTreeSet<_>) = found
        .iter()
        .cloned()
        .partition(|(t, _)| t == "aws_security_group_rule");
    (rest, rules.len())
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}):\n{s}"))
}

#[test]
fn nuke_finds_an_environment_without_its_state_and_deletes_it_in_one_pass() {
    let m = Moto::start();
    let first = Fixture::from_example("environment");
    m.run(&first, &["apply", "-auto-approve"], 0);
    let second = Fixture::second_environment();
    m.run(
        &second,
        &["apply", "-auto-approve", "-var=environment=automation-qa"],
        0,
    );
    let first_objects = first.state_objects();
    let second_objects = second.state_objects();
    // A rule of one group that names another is an object of the plan's own (revoked first).
    let first_rules = common::group_rule_pairs(&first.state_json()).len();
    let second_rules = common::group_rule_pairs(&second.state_json()).len();
    assert!(first_rules > 0);
    // The state is lost.
    std::fs::remove_file(first.work.join("terrane.state.db")).unwrap();

    let sel = ["--env", "automation-dev", "--env-tag", "environment"];
    let plan_args = |extra: &[&'static str]| {
        let mut a = vec!["nuke", "plan"];
        a.extend(sel);
        a.extend(extra);
        a
    };
    let r = m.run(&first, &plan_args(&["-json"]), 0);
    let plan = json(&r.stdout);
    let (found, rules) = without_rules(&planned(&plan));
    assert_eq!(rules, first_rules);
    let missing: Vec<_> = first_objects.difference(&found).collect();
    let extra: Vec<_> = found.difference(&first_objects).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the plan differs from what the environment made:\nmissing {missing:#?}\nextra {extra:#?}"
    );
    assert!(found.is_disjoint(&second_objects));
    assert_eq!(plan["account"], ACCOUNT);
    assert_eq!(plan["format_version"], 1);

    // The human table: grouped by type, with how each was found, and a dry run.
    let r = m.run(&first, &plan_args(&["-out", "nuke.json"]), 0);
    assert!(
        r.stdout.contains(&format!(
            "Terrane nuke plan: {} objects to delete in us-east-1 (account {ACCOUNT})",
            first_objects.len() + first_rules
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\naws_vpc (1)\n  ID "), "{}", r.stdout);
    assert!(r
        .stdout
        .contains("This was a dry run: nothing was deleted."));
    let r = m.run(&first, &plan_args(&["-explain"]), 0);
    assert!(
        r.stdout
            .contains("selected: tag environment = \"automation-dev\""),
        "{}",
        r.stdout
    );

    // One object goes by hand between the plan and its apply.
    let logs = first_objects
        .iter()
        .find(|(t, _)| t == "aws_cloudwatch_log_group")
        .expect("the example has a log group")
        .1
        .clone();
    let (status, _) = m.json_call(
        "logs",
        "Logs_20140328.DeleteLogGroup",
        &format!("{{\"logGroupName\": \"{logs}\"}}"),
    );
    assert_eq!(status, 200);

    let r = m.run(
        &first,
        &[
            "nuke",
            "apply",
            "nuke.json",
            "--account",
            ACCOUNT,
            "--confirm",
            "automation-dev",
            "-input=false",
            "-json",
        ],
        0,
    );
    let report = json(&r.stdout);
    assert_eq!(report["passes"], 1);
    assert_eq!(report["dependency_conflicts"], 0, "{report:#}");
    assert_eq!(report["failed"].as_array().unwrap().len(), 0, "{report:#}");
    assert_eq!(
        report["deleted"].as_array().unwrap().len(),
        first_objects.len() + first_rules - 1,
        "{report:#}"
    );
    let gone = &report["already_gone"].as_array().unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0]["id"], logs.as_str());
    assert!(report["api_calls"].as_u64().unwrap() > 0);

    // Nothing of it is left; the second environment is whole (found through the SDK's tags).
    let r = m.run(&first, &plan_args(&["-json"]), 0);
    assert!(planned(&json(&r.stdout)).is_empty(), "{}", r.stdout);
    let r = m.run(
        &second,
        &[
            "nuke",
            "plan",
            "--env",
            "automation-qa",
            "--env-tag",
            "environment",
            "-json",
        ],
        0,
    );
    assert_eq!(
        without_rules(&planned(&json(&r.stdout))),
        (second_objects.clone(), second_rules)
    );
    // And its own plan, from its state, is a no-change plan.
    let r = m.run(
        &second,
        &[
            "plan",
            "-var=environment=automation-qa",
            "-detailed-exitcode",
        ],
        0,
    );
    assert!(r.stdout.contains("No changes."), "{}", r.stdout);

    // With its state here, what nuke deletes leaves the state, and the report says so.
    let r = m.run(
        &second,
        &[
            "nuke",
            "--env",
            "automation-qa",
            "--env-tag",
            "environment",
            "--no-dry-run",
            "--account",
            ACCOUNT,
            "--confirm",
            "automation-qa",
            "-input=false",
        ],
        0,
    );
    assert!(
        r.stdout.contains(&format!(
            "Removed {} objects from the state of workspace \"default\".",
            second_objects.len()
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(" 0 dependency conflicts"), "{}", r.stdout);
    assert!(second.state_objects().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_made_outside_terrane_are_found_and_deleted_and_refusals_delete_nothing() {
    let m = Moto::start();
    let made = handmade::make(&m.sdk_config().await, "handmade", 9).await;
    let dir = Fixture::new("");
    let count = |dir: &Fixture| {
        let r = m.run(dir, &["nuke", "plan", "--env", "handmade", "-json"], 0);
        planned(&json(&r.stdout))
    };
    let before = count(&dir);
    // Exactly what the SDK made, and the objects AWS made with it that carry no tags of their
    // own but point at what was made (the VPC's main route table is AWS's: a default).
    let made: BTreeSet<(String, String)> = made
        .into_iter()
        .map(|(t, id)| (t.to_string(), id))
        .collect();
    let missing: Vec<_> = made.difference(&before).collect();
    assert!(missing.is_empty(), "not found: {missing:#?} in {before:#?}");

    // Refusals: each exits 1 with its reason, and nothing is deleted.
    dir.write(
        "protect.json",
        r#"{"protected_environments": ["handmade"]}"#,
    );
    dir.write(
        "block.json",
        &format!(r#"{{"block_accounts": ["{ACCOUNT}"]}}"#),
    );
    let base = ["nuke", "--env", "handmade", "--no-dry-run", "-input=false"];
    for (extra, says) in [
        (
            vec![
                "--account",
                ACCOUNT,
                "--confirm",
                "handmade",
                "--filter",
                "protect.json",
            ],
            "environment handmade is protected",
        ),
        (
            vec![
                "--account",
                ACCOUNT,
                "--confirm",
                "handmade",
                "--filter",
                "block.json",
            ],
            "account 123456789012 is on the blocklist",
        ),
        (vec!["--account", ACCOUNT], "pass --confirm handmade"),
        (
            vec!["--confirm", "handmade"],
            "deleting needs the account pinned: add --account 123456789012",
        ),
        (
            vec!["--account", "999999999999", "--confirm", "handmade"],
            "not in 999999999999",
        ),
    ] {
        let mut args = base.to_vec();
        args.extend(extra);
        let r = m.run(&dir, &args, 1);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.all());
        assert!(r.stderr.contains("Nothing was deleted."), "{}", r.all());
    }
    assert_eq!(count(&dir), before);

    // Deleted in one pass, in order.
    let mut args = base.to_vec();
    args.extend(["--account", ACCOUNT, "--confirm", "handmade"]);
    // Through a proxy that refuses what AWS refuses and the emulator does not: an EIP a NAT
    // gateway holds, a group another group or a load balancer names, a subnet in use.
    let proxy = faults::FaultProxy::start(m.port, usize::MAX, usize::MAX);
    proxy
        .aws_rules
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let mut c = dir.cmd(&args);
    for (k, v) in m.env() {
        c.env(k, v);
    }
    let out = c.env("AWS_ENDPOINT_URL", proxy.url()).output().unwrap();
    let r = common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(proxy.conflicts.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(
        r.stdout.contains(&format!(
            "Nuke complete: {} deleted, 0 failed, 0 already gone, 0 kept, 0 skipped, 0 still present.",
            before.len()
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("1 pass, ") && r.stdout.contains(" 0 dependency conflicts"),
        "{}",
        r.stdout
    );
    assert!(count(&dir).is_empty());
    // Through the SDK: no VPC but the default one is left.
    let vpcs = m
        .ec2()
        .await
        .describe_vpcs()
        .send()
        .await
        .unwrap()
        .vpcs
        .unwrap();
    assert!(vpcs.iter().all(|v| v.is_default == Some(true)), "{vpcs:#?}");
}

#[test]
fn a_selection_that_names_nothing_or_a_bad_pattern_is_refused_before_any_call() {
    let dir = Fixture::new("");
    for (args, says) in [
        (
            vec!["nuke", "plan", "--region", "us-east-1"],
            "never selects a whole account",
        ),
        (
            vec![
                "nuke",
                "plan",
                "--env",
                "x",
                "--name-regex",
                "(",
                "--region",
                "us-east-1",
            ],
            "invalid regex \"(\"",
        ),
        (
            vec!["nuke", "plan", "--tag", "novalue", "--region", "us-east-1"],
            "--tag takes KEY=VALUE",
        ),
    ] {
        let r = dir.run(&args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
        assert!(r.stderr.contains(says), "{args:?}: {}", r.all());
    }
    dir.write("edited.json", "{\"format_version\": 7}");
    let r = dir.run(&["nuke", "apply", "edited.json", "--account", ACCOUNT]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("format version 7"), "{}", r.all());
}

//! The example environment (examples/environment: the pipeline of seed 002 at small scale)
//! applied and destroyed against moto through the binary; afterwards every service is listed
//! through the SDK and nothing may be left. The same environment under a fault-injecting proxy
//! (throttling and 500s) completes without duplicates.

mod common;
#[path = "common/faults.rs"]
mod faults;
#[path = "common/moto.rs"]
mod moto;

use common::Fixture;
use moto::Moto;

/// Everything in the emulator that is not there on a fresh account.
async fn inventory(conf: &aws_config::SdkConfig) -> Vec<String> {
    use aws_sdk_ec2::types::Filter;
    let mut out = Vec::new();
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let not_default = Filter::builder().name("is-default").values("false").build();
    for v in ec2
        .describe_vpcs()
        .filters(not_default)
        .send()
        .await
        .unwrap()
        .vpcs()
    {
        out.push(format!("vpc {}", v.vpc_id().unwrap()));
    }
    for s in ec2.describe_subnets().send().await.unwrap().subnets() {
        if s.default_for_az() != Some(true) {
            out.push(format!("subnet {}", s.subnet_id().unwrap()));
        }
    }
    let default_vpcs: Vec<String> = ec2
        .describe_vpcs()
        .filters(Filter::builder().name("is-default").values("true").build())
        .send()
        .await
        .unwrap()
        .vpcs()
        .iter()
        .filter_map(|v| v.vpc_id().map(String::from))
        .collect();
    for g in ec2
        .describe_internet_gateways()
        .send()
        .await
        .unwrap()
        .internet_gateways()
    {
        let on_default = g.attachments().iter().any(|a| {
            a.vpc_id()
                .is_some_and(|v| default_vpcs.iter().any(|d| d == v))
        });
        if !on_default {
            out.push(format!(
                "internet gateway {}",
                g.internet_gateway_id().unwrap()
            ));
        }
    }
    for n in ec2
        .describe_nat_gateways()
        .send()
        .await
        .unwrap()
        .nat_gateways()
    {
        if n.state().map(|s| s.as_str()) != Some("deleted") {
            out.push(format!("nat gateway {}", n.nat_gateway_id().unwrap()));
        }
    }
    for a in ec2.describe_addresses().send().await.unwrap().addresses() {
        out.push(format!("eip {}", a.allocation_id().unwrap_or_default()));
    }
    for g in ec2
        .describe_security_groups()
        .send()
        .await
        .unwrap()
        .security_groups()
    {
        if g.group_name() != Some("default") {
            out.push(format!("security group {}", g.group_id().unwrap()));
        }
    }
    let ecs = aws_sdk_ecs::Client::new(conf);
    let clusters = ecs.list_clusters().send().await.unwrap();
    if !clusters.cluster_arns().is_empty() {
        for c in ecs
            .describe_clusters()
            .set_clusters(Some(clusters.cluster_arns().to_vec()))
            .send()
            .await
            .unwrap()
            .clusters()
        {
            if c.status() != Some("INACTIVE") {
                out.push(format!("ecs cluster {}", c.cluster_name().unwrap()));
            }
        }
    }
    let tds = ecs
        .list_task_definitions()
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    out.extend(
        tds.task_definition_arns()
            .iter()
            .map(|t| format!("task definition {t}")),
    );
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(conf);
    for l in elb
        .describe_load_balancers()
        .send()
        .await
        .unwrap()
        .load_balancers()
    {
        out.push(format!("load balancer {}", l.load_balancer_name().unwrap()));
    }
    for t in elb
        .describe_target_groups()
        .send()
        .await
        .unwrap()
        .target_groups()
    {
        out.push(format!("target group {}", t.target_group_name().unwrap()));
    }
    let ec = aws_sdk_elasticache::Client::new(conf);
    for g in ec
        .describe_replication_groups()
        .send()
        .await
        .unwrap()
        .replication_groups()
    {
        out.push(format!(
            "replication group {}",
            g.replication_group_id().unwrap()
        ));
    }
    for g in ec
        .describe_cache_subnet_groups()
        .send()
        .await
        .unwrap()
        .cache_subnet_groups()
    {
        if g.cache_subnet_group_name() != Some("default") {
            out.push(format!(
                "cache subnet group {}",
                g.cache_subnet_group_name().unwrap()
            ));
        }
    }
    let ecr = aws_sdk_ecr::Client::new(conf);
    for r in ecr
        .describe_repositories()
        .send()
        .await
        .unwrap()
        .repositories()
    {
        out.push(format!("ecr repository {}", r.repository_name().unwrap()));
    }
    let iam = aws_sdk_iam::Client::new(conf);
    for r in iam.list_roles().send().await.unwrap().roles() {
        if !r.path().starts_with("/aws-service-role/") {
            out.push(format!("iam role {}", r.role_name()));
        }
    }
    let local = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    out.extend(
        local
            .policies()
            .iter()
            .map(|p| format!("iam policy {}", p.policy_name().unwrap())),
    );
    for p in iam
        .list_open_id_connect_providers()
        .send()
        .await
        .unwrap()
        .open_id_connect_provider_list()
    {
        out.push(format!("oidc provider {}", p.arn().unwrap()));
    }
    for p in iam
        .list_instance_profiles()
        .send()
        .await
        .unwrap()
        .instance_profiles()
    {
        out.push(format!("instance profile {}", p.instance_profile_name()));
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(conf);
    for g in logs
        .describe_log_groups()
        .send()
        .await
        .unwrap()
        .log_groups()
    {
        out.push(format!("log group {}", g.log_group_name().unwrap()));
    }
    let eks = aws_sdk_eks::Client::new(conf);
    out.extend(
        eks.list_clusters()
            .send()
            .await
            .unwrap()
            .clusters()
            .iter()
            .map(|c| format!("eks cluster {c}")),
    );
    out.sort();
    out
}

fn count(inv: &[String], prefix: &str) -> usize {
    inv.iter().filter(|l| l.starts_with(prefix)).count()
}

/// What the example environment creates, by kind.
fn assert_one_environment(inv: &[String]) {
    for (kind, n) in [
        ("vpc ", 1),
        ("subnet ", 4),
        ("internet gateway ", 1),
        ("nat gateway ", 1),
        ("eip ", 1),
        ("security group ", 5),
        ("ecs cluster ", 1),
        ("task definition ", 3),
        ("load balancer ", 1),
        ("target group ", 3),
        ("replication group ", 3),
        ("cache subnet group ", 3),
        ("ecr repository ", 3),
        ("iam role ", 7),
        ("oidc provider ", 1),
        ("log group ", 3),
    ] {
        assert_eq!(count(inv, kind), n, "{kind}: {inv:#?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn example_environment_applies_and_destroys_leaving_nothing() {
    let m = Moto::start();
    let conf = m.sdk_config().await;
    let before = inventory(&conf).await;
    assert!(
        before.is_empty(),
        "a fresh emulator is not empty: {before:?}"
    );
    let f = Fixture::from_example("environment");

    let r = m.run(&f, &["apply", "-auto-approve"], 0);
    assert!(
        r.stdout.contains("Apply complete! Resources: 59 added"),
        "{}",
        r.stdout
    );
    assert_one_environment(&inventory(&conf).await);
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let services = ecs
        .list_services()
        .cluster("automation-dev")
        .send()
        .await
        .unwrap();
    assert_eq!(services.service_arns().len(), 3);
    // Every taggable object carries the provider's default_tags.
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let vpc = ec2
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:environment")
                .values("automation-dev")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(vpc.vpcs().len(), 1);

    let r = m.run(&f, &["plan", "-detailed-exitcode"], 0);
    // Attributes that moved because of other objects (a target group's load balancers, an
    // address's association) are not reported as outside changes on a plan with nothing to do.
    assert!(!r.stdout.contains("changed outside"), "{}", r.stdout);

    // The blue/green switch of the ALB module is one in-place change.
    let r = m.run(&f, &["apply", "-auto-approve", "-var=live=green"], 0);
    assert!(
        r.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        r.stdout
    );

    let r = m.run(&f, &["destroy", "-auto-approve", "-var=live=green"], 0);
    assert!(r.stdout.contains("Resources: 59 destroyed"), "{}", r.stdout);
    let left = inventory(&conf).await;
    assert!(left.is_empty(), "left behind after destroy: {left:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn example_environment_completes_under_throttling_and_errors_without_duplicates() {
    let m = Moto::start();
    let conf = m.sdk_config().await;
    // Every 5th request throttled, every 9th a 500: far worse than AWS on a bad day.
    let proxy = faults::FaultProxy::start(m.port, 5, 9);
    let f = Fixture::from_example("environment");
    let run = |args: &[&str]| {
        let mut c = f.cmd(args);
        for (k, v) in m.env() {
            c.env(k, v);
        }
        c.env("AWS_ENDPOINT_URL", proxy.url());
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "terrane {args:?}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["apply", "-auto-approve"]);
    let injected = proxy.injected.load(std::sync::atomic::Ordering::SeqCst);
    assert!(injected > 20, "only {injected} faults were injected");
    assert_one_environment(&inventory(&conf).await);
    run(&["destroy", "-auto-approve"]);
    let left = inventory(&conf).await;
    assert!(left.is_empty(), "left behind after destroy: {left:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn example_environment_with_lost_create_answers_has_no_duplicates() {
    let m = Moto::start();
    let conf = m.sdk_config().await;
    // Every 4th create is carried out, but its answer is replaced by a 500.
    let proxy = faults::FaultProxy::start_with(m.port, usize::MAX, usize::MAX, 4);
    let f = Fixture::from_example("environment");
    let mut c = f.cmd(&["apply", "-auto-approve"]);
    for (k, v) in m.env() {
        c.env(k, v);
    }
    c.env("AWS_ENDPOINT_URL", proxy.url());
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lost = proxy.lost.load(std::sync::atomic::Ordering::SeqCst);
    assert!(lost >= 10, "only {lost} answers were lost");
    let inv = inventory(&conf).await;
    assert_one_environment(&inv);
    // One listener and one rule, one revision per task family.
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let lb = elb.describe_load_balancers().send().await.unwrap();
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(lb.load_balancers()[0].load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(listeners.listeners().len(), 1);
    let rules = elb
        .describe_rules()
        .listener_arn(listeners.listeners()[0].listener_arn().unwrap())
        .send()
        .await
        .unwrap();
    // The default rule and ours.
    assert_eq!(rules.rules().len(), 2, "{:?}", rules.rules());
    m.run(&f, &["plan", "-detailed-exitcode"], 0);
    m.run(&f, &["destroy", "-auto-approve"], 0);
    let left = inventory(&conf).await;
    assert!(left.is_empty(), "left behind after destroy: {left:#?}");
}

/// The example with one module block per service and per cache, as it was before module
/// `for_each`.
const ONE_BLOCK_PER_SERVICE: &str = include_str!("fixtures/environment-one-block-per-service.tf");

#[tokio::test(flavor = "multi_thread")]
async fn example_environment_made_by_the_old_layout_moves_to_module_for_each_with_no_change() {
    let m = Moto::start();
    let conf = m.sdk_config().await;
    let f = Fixture::from_example("environment");
    let main_tf = "examples/environment/main.tf";
    let new_layout = std::fs::read_to_string(f.path().join(main_tf)).unwrap();
    let moved_tf = f.path().join("examples/environment/moved.tf");
    let moves = std::fs::read_to_string(&moved_tf).unwrap();
    // The old layout, without the moved blocks (they name modules it still has).
    std::fs::remove_file(&moved_tf).unwrap();
    f.write(main_tf, ONE_BLOCK_PER_SERVICE);
    let r = m.run(&f, &["apply", "-auto-approve"], 0);
    assert!(r.stdout.contains("Resources: 59 added"), "{}", r.stdout);
    let objects = f.state_objects();
    // The example as it is now: the same objects, under module instances.
    f.write(main_tf, &new_layout);
    f.write("examples/environment/moved.tf", &moves);
    let p = m.run(&f, &["plan"], 0);
    for line in [
        "# module.service_nats.aws_ecs_service.this has moved to module.service[\"nats-server\"].aws_ecs_service.this",
        "# module.redis_main.aws_elasticache_replication_group.this has moved to module.redis[\"main\"].aws_elasticache_replication_group.this",
        "Plan: 0 to add, 0 to change, 0 to destroy.",
    ] {
        assert!(p.stdout.contains(line), "{line:?} in:\n{}", p.stdout);
    }
    assert!(!p.stdout.contains("Changes to Outputs"), "{}", p.stdout);
    m.run(&f, &["apply", "-auto-approve"], 0);
    assert_eq!(f.state_objects(), objects, "the same objects in state");
    let list = m.run(&f, &["state", "list"], 0).stdout;
    assert!(
        list.contains("module.service[\"dispatch-portal-backend\"].aws_lb_target_group.this[0]")
            && !list.contains("module.service_"),
        "{list}"
    );
    let again = m.run(&f, &["plan", "-detailed-exitcode"], 0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    assert_one_environment(&inventory(&conf).await);
}

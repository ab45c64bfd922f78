//! Nuke against moto: ten environments' worth of objects made through the SDK (a VPC, two
//! subnets, an EIP and a NAT gateway, two security groups that let each other in, an ALB with a
//! target group and a listener: 10 objects each), deleted by `terrane nuke` (one ordered pass)
//! and, beside it in the same run, by the method of aws-nuke: every object tried once per
//! round, its types in the order of aws-nuke's names for them (EC2Address, EC2NATGateway, ...,
//! EC2VPC, ELBv2, ...), rounds repeated until nothing is left or a round makes no progress; an
//! object a delete finds gone counts as gone (aws-nuke would not list it again). Both go
//! through the recording proxy, which counts API calls and the answers that refuse a delete
//! because of another object.
//!
//! Run with `benches/aws/run nuke` (installs moto, sets TERRANE_MOTO_PYTHON). The loop's
//! objects are known to it (it makes no discovery calls); terrane's wall time includes its
//! discovery, its re-check of every object and its last check that all is gone. moto enforces
//! few of AWS's ordering rules (a VPC with subnets in it); the proxy adds those this set meets
//! (an EIP a NAT gateway holds, a group another group or a load balancer refers to, a subnet
//! with a load balancer or a NAT gateway in it), so both methods meet the refusals they would
//! meet on AWS. A security group's delete in the loop revokes the group's rules first, as
//! aws-nuke's does.

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/common/faults.rs"]
#[allow(dead_code)]
mod faults;
#[path = "../../tests/common/handmade.rs"]
mod handmade;
#[path = "../../tests/common/moto.rs"]
#[allow(dead_code)]
mod moto;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::Fixture;
use criterion::{criterion_group, criterion_main, Criterion};

const ENVIRONMENTS: u8 = 10;

struct Outcome {
    /// Calls per operation (terrane's run only).
    ops: std::collections::BTreeMap<String, usize>,
    wall: Duration,
    calls: usize,
    conflicts: usize,
    passes: u64,
    left: usize,
}

async fn make_all(sdk: &aws_config::SdkConfig) -> handmade::Made {
    let mut all = Vec::new();
    for i in 0..ENVIRONMENTS {
        all.extend(handmade::make(sdk, &format!("bench-{i}"), 100 + i).await);
    }
    all
}

fn nuke(m: &moto::Moto, proxy: &faults::FaultProxy, dir: &Fixture) -> Outcome {
    let before = (
        proxy.calls.lock().unwrap().len(),
        proxy.conflicts.load(Ordering::SeqCst),
    );
    let mut c = dir.cmd(&[
        "nuke",
        "--tag",
        "bench=nuke",
        "--no-dry-run",
        "--account",
        "123456789012",
        "--confirm",
        "123456789012",
        "-input=false",
        "-json",
        // Bounded: a delete that cannot succeed fails the benchmark instead of waiting 30m.
        "--timeout",
        "2m",
    ]);
    for (k, v) in m.env() {
        c.env(k, v);
    }
    c.env("AWS_ENDPOINT_URL", proxy.url());
    let start = Instant::now();
    let out = c.output().unwrap();
    let wall = start.elapsed();
    assert!(
        out.status.success(),
        "terrane nuke\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ops: std::collections::BTreeMap<String, usize> = Default::default();
    for (op, _) in &proxy.calls.lock().unwrap()[before.0..] {
        *ops.entry(op.clone()).or_default() += 1;
    }
    Outcome {
        ops,
        wall,
        calls: proxy.calls.lock().unwrap().len() - before.0,
        conflicts: proxy.conflicts.load(Ordering::SeqCst) - before.1,
        passes: report["passes"].as_u64().unwrap(),
        left: report["still_present"].as_array().unwrap().len()
            + report["failed"].as_array().unwrap().len(),
    }
}

/// One delete call for `(type, id)`; Ok when it is gone.
async fn delete_once(
    ec2: &aws_sdk_ec2::Client,
    lbc: &aws_sdk_elasticloadbalancingv2::Client,
    ty: &str,
    id: &str,
) -> Result<(), String> {
    let e = |e: &dyn std::fmt::Debug| format!("{e:?}");
    match ty {
        "aws_eip" => ec2
            .release_address()
            .allocation_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|x| e(&x)),
        "aws_lb" => lbc
            .delete_load_balancer()
            .load_balancer_arn(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|x| e(&x)),
        "aws_lb_listener" => lbc
            .delete_listener()
            .listener_arn(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|x| e(&x)),
        "aws_lb_target_group" => lbc
            .delete_target_group()
            .target_group_arn(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|x| e(&x)),
        "aws_nat_gateway" => ec2
            .delete_nat_gateway()
            .nat_gateway_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|x| e(&x)),
        "aws_security_group" => {
            // As aws-nuke does: the group's own rules revoked first, then the group.
            let groups = ec2
                .describe_security_groups()
                .group_ids(id)
                .send()
                .await
                .map_err(|x| e(&x))?;
            let rules: Vec<_> = groups
                .security_groups()
                .iter()
                .flat_map(|g| g.ip_permissions().iter().cloned())
                .collect();
            if !rules.is_empty() {
                ec2.revoke_security_group_ingress()
                    .group_id(id)
                    .set_ip_permissions(Some(rules))
                    .send()
                    .await
                    .map_err(|x| e(&x))?;
            }
            ec2.delete_security_group()
                .group_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|x| e(&x))
        }
        "aws_subnet" => ec2
            .delete_subnet()
            .subnet_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|x| e(&x)),
        "aws_vpc" => ec2
            .delete_vpc()
            .vpc_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|x| e(&x)),
        other => Err(format!("no delete for {other}")),
    }
}

/// aws-nuke's name for a type: it works through its types in the order of these names.
fn nuke_name(ty: &str) -> &'static str {
    match ty {
        "aws_eip" => "EC2Address",
        "aws_nat_gateway" => "EC2NATGateway",
        "aws_security_group" => "EC2SecurityGroup",
        "aws_subnet" => "EC2Subnet",
        "aws_vpc" => "EC2VPC",
        "aws_lb" => "ELBv2",
        "aws_lb_listener" => "ELBv2Listener",
        "aws_lb_target_group" => "ELBv2TargetGroup",
        _ => "~",
    }
}

/// aws-nuke's method: every object once per round, in the order of its types' names, until a
/// round deletes nothing.
async fn retry_loop(
    proxy: &faults::FaultProxy,
    sdk: &aws_config::SdkConfig,
    mut objects: handmade::Made,
) -> Outcome {
    let before = (
        proxy.calls.lock().unwrap().len(),
        proxy.conflicts.load(Ordering::SeqCst),
    );
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let lbc = aws_sdk_elasticloadbalancingv2::Client::new(sdk);
    objects.sort_by_key(|(ty, id)| (nuke_name(ty), id.clone()));
    let start = Instant::now();
    let mut passes = 0;
    while !objects.is_empty() && passes < 50 {
        passes += 1;
        let tried = objects.len();
        let mut left = Vec::new();
        for (ty, id) in std::mem::take(&mut objects) {
            match delete_once(&ec2, &lbc, ty, &id).await {
                Ok(()) => {}
                Err(e) if e.contains("NotFound") => {}
                Err(_) => left.push((ty, id)),
            }
        }
        let progress = left.len() < tried;
        objects = left;
        if !progress {
            break;
        }
    }
    Outcome {
        ops: Default::default(),
        wall: start.elapsed(),
        calls: proxy.calls.lock().unwrap().len() - before.0,
        conflicts: proxy.conflicts.load(Ordering::SeqCst) - before.1,
        passes,
        left: objects.len(),
    }
}

fn bench(c: &mut Criterion) {
    if std::env::var_os("TERRANE_MOTO_PYTHON").is_none() {
        eprintln!("nuke: TERRANE_MOTO_PYTHON is not set; run benches/aws/run nuke");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let m = moto::Moto::start();
    let proxy = faults::FaultProxy::start_with(m.port, usize::MAX, usize::MAX, usize::MAX);
    // The ordering rules of AWS that the emulator does not enforce, for both methods.
    proxy.aws_rules.store(true, Ordering::SeqCst);
    let dir = Fixture::new("");
    let sdk = rt.block_on(async {
        let mut s = m.sdk_config().await.into_builder();
        s.set_endpoint_url(Some(proxy.url()));
        s.build()
    });
    // Warm-up: moto loads each service on its first call.
    let made = rt.block_on(make_all(&sdk));
    let objects = made.len();
    nuke(&m, &proxy, &dir);

    // One run of each, reported with its calls, conflicts and passes.
    rt.block_on(make_all(&sdk));
    let t = nuke(&m, &proxy, &dir);
    let made = rt.block_on(make_all(&sdk));
    let l = rt.block_on(retry_loop(&proxy, &sdk, made));
    if l.left > 0 {
        nuke(&m, &proxy, &dir);
    }
    println!("\n== nuke of {ENVIRONMENTS} environments, {objects} objects, against moto");
    println!(
        "{:<28} {:>9} {:>9} {:>10} {:>7} {:>5}",
        "method", "wall s", "calls", "conflicts", "passes", "left"
    );
    for (name, o) in [("terrane nuke", &t), ("retry until no progress", &l)] {
        println!(
            "{name:<28} {:>9.3} {:>9} {:>10} {:>7} {:>5}",
            o.wall.as_secs_f64(),
            o.calls,
            o.conflicts,
            o.passes,
            o.left
        );
    }
    let mut ops: Vec<_> = t.ops.iter().collect();
    ops.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let top: Vec<String> = ops
        .iter()
        .take(8)
        .map(|(op, n)| format!("{op} {n}"))
        .collect();
    println!("terrane's calls, most frequent: {}", top.join(", "));
    println!(
        "loop / terrane: wall {:.2}, conflicts {} / {}",
        l.wall.as_secs_f64() / t.wall.as_secs_f64(),
        l.conflicts,
        t.conflicts
    );
    assert_eq!(t.passes, 1, "terrane nuke must delete in one pass");
    assert_eq!(t.left, 0);

    let mut g = c.benchmark_group("nuke");
    g.sample_size(10);
    g.bench_function("terrane_nuke_10_environments", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                rt.block_on(make_all(&sdk));
                total += nuke(&m, &proxy, &dir).wall;
            }
            total
        })
    });
    g.bench_function("retry_loop_10_environments", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let made = rt.block_on(make_all(&sdk));
                let o = rt.block_on(retry_loop(&proxy, &sdk, made));
                if o.left > 0 {
                    // What the loop could not delete goes before the next round makes its names again.
                    nuke(&m, &proxy, &dir);
                }
                total += o.wall;
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! aws_lb, aws_lb_target_group, aws_lb_listener, aws_lb_listener_rule and
//! aws_lb_target_group_attachment through the binary against moto, checked through the ELBv2
//! API: create, no-change plan, in-place updates (the blue/green listener swap, a health check,
//! a rule's path, idle timeout), replace (an attachment's port), destroy.

mod common;
#[path = "common/moto.rs"]
mod moto;

use common::Fixture;
use moto::Moto;

const CONFIG: &str = r#"
provider "aws" {
  region = "us-east-1"
}

variable "live" {
  default = "blue"
}
variable "health_path" {
  default = "/healthz"
}
variable "api_path" {
  default = "/api/*"
}
variable "target_port" {
  default = 8080
}
variable "prefix" {
  default = "web"
}

data "aws_availability_zones" "az" {}

resource "aws_vpc" "main" {
  cidr_block = "10.30.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.30.1.0/24"
  availability_zone = data.aws_availability_zones.az.names[0]
}

resource "aws_subnet" "b" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.30.2.0/24"
  availability_zone = data.aws_availability_zones.az.names[1]
}

resource "aws_security_group" "lb" {
  name   = "lb"
  vpc_id = aws_vpc.main.id
}

resource "aws_lb" "web" {
  name            = var.prefix
  subnets         = [aws_subnet.a.id, aws_subnet.b.id]
  security_groups = [aws_security_group.lb.id]
  idle_timeout    = var.live == "blue" ? 60 : 120
}

resource "aws_lb_target_group" "color" {
  for_each    = toset(["blue", "green"])
  name        = "${var.prefix}-${each.key}"
  port        = 8080
  protocol    = "HTTP"
  vpc_id      = aws_vpc.main.id
  target_type = "ip"

  health_check {
    path    = var.health_path
    matcher = "200"
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.web.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.color[var.live].arn
  }
}

resource "aws_lb_listener_rule" "api" {
  listener_arn = aws_lb_listener.http.arn
  priority     = 10

  action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "api"
      status_code  = "200"
    }
  }

  condition {
    path_pattern {
      values = [var.api_path]
    }
  }
}

resource "aws_lb_target_group_attachment" "app" {
  target_group_arn = aws_lb_target_group.color["blue"].arn
  target_id        = "10.30.1.10"
  port             = var.target_port
}
"#;

async fn listener_target(elb: &aws_sdk_elasticloadbalancingv2::Client, lb: &str) -> String {
    let ls = elb
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
        .unwrap();
    let a = &ls.listeners()[0].default_actions()[0];
    a.target_group_arn().unwrap_or_default().to_string()
}

async fn tg_arn(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    name: &str,
) -> aws_sdk_elasticloadbalancingv2::types::TargetGroup {
    elb.describe_target_groups()
        .names(name)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .clone()
}

async fn targets(elb: &aws_sdk_elasticloadbalancingv2::Client, tg: &str) -> Vec<(String, i32)> {
    elb.describe_target_health()
        .target_group_arn(tg)
        .send()
        .await
        .unwrap()
        .target_health_descriptions()
        .iter()
        .filter_map(|d| d.target())
        .map(|t| {
            (
                t.id().unwrap_or_default().to_string(),
                t.port().unwrap_or(0),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn load_balancer_lifecycle_against_the_emulator() {
    let m = Moto::start();
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&m.sdk_config().await);
    let f = Fixture::new(CONFIG);

    m.run(&f, &["apply", "-auto-approve"], 0);
    let lbs = elb
        .describe_load_balancers()
        .names("web")
        .send()
        .await
        .unwrap();
    let lb = lbs.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let blue = tg_arn(&elb, "web-blue").await;
    let green = tg_arn(&elb, "web-green").await;
    assert_eq!(blue.health_check_path(), Some("/healthz"));
    assert_eq!(
        listener_target(&elb, &lb).await,
        blue.target_group_arn().unwrap()
    );
    assert_eq!(
        targets(&elb, blue.target_group_arn().unwrap()).await,
        vec![("10.30.1.10".to_string(), 8080)]
    );
    m.run(&f, &["plan", "-detailed-exitcode"], 0);

    // In place: the blue/green swap is one ModifyListener; the health check, rule path and
    // idle timeout change in place too.
    let vars = [
        "-var=live=green",
        "-var=health_path=/ready",
        "-var=api_path=/v2/*",
    ];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("0 added, 5 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    assert_eq!(
        listener_target(&elb, &lb).await,
        green.target_group_arn().unwrap()
    );
    assert_eq!(
        tg_arn(&elb, "web-blue").await.health_check_path(),
        Some("/ready")
    );
    let rules = elb
        .describe_rules()
        .listener_arn(
            elb.describe_listeners()
                .load_balancer_arn(&lb)
                .send()
                .await
                .unwrap()
                .listeners()[0]
                .listener_arn()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let api = rules
        .rules()
        .iter()
        .find(|r| r.priority() == Some("10"))
        .unwrap();
    let paths: Vec<&str> = api
        .conditions()
        .iter()
        .flat_map(|c| {
            c.path_pattern_config()
                .map(|p| p.values())
                .unwrap_or_default()
        })
        .map(String::as_str)
        .collect();
    assert_eq!(paths, vec!["/v2/*"]);
    let attrs = elb
        .describe_load_balancer_attributes()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
    assert!(attrs
        .attributes()
        .iter()
        .any(|a| a.key() == Some("idle_timeout.timeout_seconds") && a.value() == Some("120")));
    let mut args = vec!["plan", "-detailed-exitcode"];
    args.extend(vars);
    m.run(&f, &args, 0);

    // Replace: a target's port cannot change in place.
    let vars = [
        "-var=live=green",
        "-var=health_path=/ready",
        "-var=api_path=/v2/*",
        "-var=target_port=9090",
    ];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{}",
        r.stdout
    );
    assert_eq!(
        targets(&elb, blue.target_group_arn().unwrap()).await,
        vec![("10.30.1.10".to_string(), 9090)]
    );

    // Replace: a new name is a new load balancer and new target groups; the listener, its
    // rule and the attachment follow them.
    let vars = [
        "-var=live=green",
        "-var=health_path=/ready",
        "-var=api_path=/v2/*",
        "-var=target_port=9090",
        "-var=prefix=shop",
    ];
    let mut args = vec!["apply", "-auto-approve"];
    args.extend(vars);
    let r = m.run(&f, &args, 0);
    assert!(
        r.stdout.contains("6 added, 0 changed, 6 destroyed"),
        "{}",
        r.stdout
    );
    let lbs = elb.describe_load_balancers().send().await.unwrap();
    let names: Vec<&str> = lbs
        .load_balancers()
        .iter()
        .filter_map(|l| l.load_balancer_name())
        .collect();
    assert_eq!(names, vec!["shop"]);
    let shop = lbs.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let shop_green = tg_arn(&elb, "shop-green").await;
    assert_eq!(
        listener_target(&elb, &shop).await,
        shop_green.target_group_arn().unwrap()
    );
    let shop_blue = tg_arn(&elb, "shop-blue").await;
    assert_eq!(
        targets(&elb, shop_blue.target_group_arn().unwrap()).await,
        vec![("10.30.1.10".to_string(), 9090)]
    );
    assert_eq!(
        elb.describe_target_groups()
            .send()
            .await
            .unwrap()
            .target_groups()
            .len(),
        2
    );
    let mut args = vec!["plan", "-detailed-exitcode"];
    args.extend(vars);
    m.run(&f, &args, 0);

    // Destroy: no load balancer, target group or listener left.
    let mut args = vec!["destroy", "-auto-approve"];
    args.extend(vars);
    m.run(&f, &args, 0);
    assert!(elb
        .describe_load_balancers()
        .send()
        .await
        .unwrap()
        .load_balancers()
        .is_empty());
    assert!(elb
        .describe_target_groups()
        .send()
        .await
        .unwrap()
        .target_groups()
        .is_empty());
}

const WEIGHTED: &str = r#"
provider "aws" {
  region = "us-east-1"
}

variable "blue" {
  default = 90
}
variable "green" {
  default = 10
}

data "aws_availability_zones" "az" {}

resource "aws_vpc" "main" {
  cidr_block = "10.31.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.31.1.0/24"
  availability_zone = data.aws_availability_zones.az.names[0]
}

resource "aws_subnet" "b" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.31.2.0/24"
  availability_zone = data.aws_availability_zones.az.names[1]
}

resource "aws_lb" "web" {
  name    = "canary"
  subnets = [aws_subnet.a.id, aws_subnet.b.id]
}

resource "aws_lb_target_group" "color" {
  for_each    = toset(["blue", "green"])
  name        = "canary-${each.key}"
  port        = 8080
  protocol    = "HTTP"
  vpc_id      = aws_vpc.main.id
  target_type = "ip"
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.web.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "forward"
    forward {
      target_group {
        arn    = aws_lb_target_group.color["blue"].arn
        weight = var.blue
      }
      target_group {
        arn    = aws_lb_target_group.color["green"].arn
        weight = var.green
      }
      stickiness {
        enabled  = true
        duration = 300
      }
    }
  }
}

resource "aws_lb_listener" "https_redirect" {
  load_balancer_arn = aws_lb.web.arn
  port              = 8081
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener_rule" "test" {
  listener_arn = aws_lb_listener.http.arn
  priority     = 5

  action {
    type = "forward"
    forward {
      target_group {
        arn = aws_lb_target_group.color["green"].arn
      }
    }
  }

  condition {
    path_pattern {
      values = ["/test/*"]
    }
  }
}
"#;

/// (target group name, weight) of a forward action.
type Weights = Vec<(String, i32)>;

/// The weights of the forward action of `actions[0]`, by target group name, and its
/// stickiness (enabled, duration).
fn weights(
    actions: &[aws_sdk_elasticloadbalancingv2::types::Action],
) -> (Weights, Option<(bool, i32)>) {
    let f = actions[0].forward_config().expect("a forward config");
    let mut w: Weights = f
        .target_groups()
        .iter()
        .map(|g| {
            let arn = g.target_group_arn().unwrap();
            let name = arn.split('/').nth(1).unwrap().to_string();
            (name, g.weight().unwrap_or(1))
        })
        .collect();
    w.sort();
    let s = f
        .target_group_stickiness_config()
        .filter(|s| s.enabled() == Some(true))
        .map(|s| (true, s.duration_seconds().unwrap_or(0)));
    (w, s)
}

/// Weighted forward actions (`forward { target_group { arn, weight } stickiness { ... } }`) on
/// a listener and a rule, and a redirect action: created as written, no drift, a weight shift
/// in place, and weights out of range refused at their line before anything is called.
#[tokio::test(flavor = "multi_thread")]
async fn weighted_forward_actions_against_the_emulator() {
    let m = Moto::start();
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&m.sdk_config().await);
    let f = Fixture::new(WEIGHTED);

    let bad = m.run(&f, &["plan", "-var=blue=1000"], 1);
    assert!(
        bad.stderr.contains("Invalid target group weight")
            && bad.stderr.contains("between 0 and 999, not 1000")
            && bad.stderr.contains("main.tf:"),
        "{}",
        bad.stderr
    );

    m.run(&f, &["apply", "-auto-approve"], 0);
    let lb = elb
        .describe_load_balancers()
        .names("canary")
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let listener = |elb: aws_sdk_elasticloadbalancingv2::Client, lb: String| async move {
        elb.describe_listeners()
            .load_balancer_arn(lb)
            .send()
            .await
            .unwrap()
            .listeners()
            .iter()
            .find(|l| l.port() == Some(80))
            .unwrap()
            .clone()
    };
    let all = elb
        .describe_listeners()
        .load_balancer_arn(&lb)
        .send()
        .await
        .unwrap();
    let redirect = all
        .listeners()
        .iter()
        .find(|l| l.port() == Some(8081))
        .and_then(|l| l.default_actions()[0].redirect_config().cloned())
        .expect("a redirect listener");
    assert_eq!(
        (
            redirect.protocol(),
            redirect.port(),
            redirect.status_code().map(|c| c.as_str())
        ),
        (Some("HTTPS"), Some("443"), Some("HTTP_301"))
    );
    let l = listener(elb.clone(), lb.clone()).await;
    assert_eq!(
        weights(l.default_actions()),
        (
            vec![
                ("canary-blue".to_string(), 90),
                ("canary-green".to_string(), 10)
            ],
            Some((true, 300))
        )
    );
    let rules = elb
        .describe_rules()
        .listener_arn(l.listener_arn().unwrap())
        .send()
        .await
        .unwrap();
    let rule = rules
        .rules()
        .iter()
        .find(|r| r.priority() == Some("5"))
        .unwrap();
    assert_eq!(
        weights(rule.actions()).0,
        vec![("canary-green".to_string(), 1)]
    );
    m.run(&f, &["plan", "-detailed-exitcode"], 0);

    // The canary's next step: a weight shift is one in-place update of the listener.
    let r = m.run(
        &f,
        &["apply", "-auto-approve", "-var=blue=0", "-var=green=100"],
        0,
    );
    assert!(
        r.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        r.stdout
    );
    let l = listener(elb.clone(), lb.clone()).await;
    assert_eq!(
        weights(l.default_actions()).0,
        vec![
            ("canary-blue".to_string(), 0),
            ("canary-green".to_string(), 100)
        ]
    );
    m.run(
        &f,
        &[
            "plan",
            "-detailed-exitcode",
            "-var=blue=0",
            "-var=green=100",
        ],
        0,
    );
    m.run(&f, &["destroy", "-auto-approve"], 0);
}

//! The `action` blocks that aws_lb_listener and aws_lb_listener_rule share.

use super::*;

/// What the schema cannot say about the `key` action blocks of `config`, as AWS and
/// hashicorp/aws require: one `forward` block at most, of one to five target groups, each
/// weighted 0 to 999, and a stickiness duration of 1 to 604,800 seconds.
pub(super) fn validate_actions(config: &Value, key: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for a in blocks(config, key) {
        let forward = blocks(a, "forward");
        if forward.len() > 1 {
            out.push(
                Diagnostic::error(
                    "Too many forward blocks",
                    "An action takes at most one forward block.",
                )
                .for_attribute(key),
            );
        }
        let Some(f) = forward.first() else { continue };
        let groups = blocks(f, "target_group");
        if groups.is_empty() && !f.get("target_group").is_some_and(Value::is_unknown) {
            out.push(
                Diagnostic::error(
                    "Missing target_group block",
                    "A forward block needs one to five target_group blocks.",
                )
                .for_attribute(key),
            );
        } else if groups.len() > 5 {
            out.push(
                Diagnostic::error(
                    "Too many target_group blocks",
                    format!(
                        "A forward block takes at most 5 target groups, not {}.",
                        groups.len()
                    ),
                )
                .for_attribute(key),
            );
        }
        for g in groups {
            if let Some(w) = int_of(g, "weight").filter(|w| !(0..=999).contains(w)) {
                out.push(
                    Diagnostic::error(
                        "Invalid target group weight",
                        format!("A weight is between 0 and 999, not {w}."),
                    )
                    .for_attribute(key),
                );
            }
        }
        for st in blocks(f, "stickiness") {
            if let Some(d) = int_of(st, "duration").filter(|d| !(1..=604_800).contains(d)) {
                out.push(
                    Diagnostic::error(
                        "Invalid stickiness duration",
                        format!("A stickiness duration is 1 to 604800 seconds, not {d}."),
                    )
                    .for_attribute(key),
                );
            }
        }
    }
    out
}

/// The `forward` block of an action as the API takes it.
fn forward_config(f: &Value) -> t::ForwardActionConfig {
    let groups = blocks(f, "target_group")
        .into_iter()
        .map(|g| {
            t::TargetGroupTuple::builder()
                .set_target_group_arn(str_of(g, "arn").map(String::from))
                .weight(int_of(g, "weight").unwrap_or(1))
                .build()
        })
        .collect();
    let mut b = t::ForwardActionConfig::builder().set_target_groups(Some(groups));
    if let Some(st) = block(f, "stickiness") {
        b = b.target_group_stickiness_config(
            t::TargetGroupStickinessConfig::builder()
                .enabled(bool_of(st, "enabled").unwrap_or(false))
                .set_duration_seconds(int_of(st, "duration"))
                .build(),
        );
    }
    b.build()
}

/// The `forward` block of a read action: where the prior state wrote one, or where nothing
/// else says where the action forwards (several target groups, or no `target_group_arn`).
fn forward_state(a: &t::Action, prior: Option<&Value>) -> Vec<Value> {
    let Some(f) = a.forward_config() else {
        return Vec::new();
    };
    let written = prior.is_some_and(|p| !blocks(p, "forward").is_empty());
    let needed = prior.is_none() && (f.target_groups().len() > 1 || a.target_group_arn().is_none());
    if !(written || needed) {
        return Vec::new();
    }
    let mut groups: Vec<Value> = f
        .target_groups()
        .iter()
        .map(|g| {
            Value::map([
                ("arn", opt_s(g.target_group_arn())),
                ("weight", Value::from(g.weight().unwrap_or(1) as f64)),
            ])
        })
        .collect();
    terrane_core::schema::dedup_set(&mut groups);
    let prior_stickiness = prior
        .and_then(|p| block(p, "forward"))
        .map(|f| !blocks(f, "stickiness").is_empty());
    let stickiness = f
        .target_group_stickiness_config()
        // AWS reports stickiness off where none was asked for: not drift.
        .filter(|s| s.enabled() == Some(true) || prior_stickiness == Some(true))
        .map(|s| {
            vec![Value::map([
                ("duration", opt_n(s.duration_seconds())),
                ("enabled", Value::Bool(s.enabled().unwrap_or(false))),
            ])]
        })
        .unwrap_or_default();
    vec![Value::map([
        ("target_group", Value::List(groups)),
        ("stickiness", Value::List(stickiness)),
    ])]
}

pub(super) fn actions(planned: &Value, key: &str) -> Vec<t::Action> {
    blocks(planned, key)
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let mut b = t::Action::builder()
                .r#type(t::ActionTypeEnum::from(
                    str_of(a, "type").unwrap_or("forward"),
                ))
                .set_target_group_arn(str_of(a, "target_group_arn").map(String::from))
                .order(int_of(a, "order").unwrap_or(i as i32 + 1));
            if let Some(f) = block(a, "forward") {
                b = b.forward_config(forward_config(f));
            }
            if let Some(r) = block(a, "redirect") {
                let s = |k: &str| str_of(r, k).map(String::from);
                b = b.redirect_config(
                    t::RedirectActionConfig::builder()
                        .set_host(s("host"))
                        .set_path(s("path"))
                        .set_port(s("port"))
                        .set_protocol(s("protocol"))
                        .set_query(s("query"))
                        .set_status_code(
                            s("status_code")
                                .map(|c| t::RedirectActionStatusCodeEnum::from(c.as_str())),
                        )
                        .build(),
                );
            }
            if let Some(f) = block(a, "fixed_response") {
                b = b.fixed_response_config(
                    t::FixedResponseActionConfig::builder()
                        .content_type(str_of(f, "content_type").unwrap_or("text/plain"))
                        .set_message_body(str_of(f, "message_body").map(String::from))
                        .status_code(str_of(f, "status_code").unwrap_or("200"))
                        .build(),
                );
            }
            b.build()
        })
        .collect()
}

pub(super) fn actions_state(read: &[t::Action], prior: &Value, key: &str) -> Value {
    let prior_items = blocks(prior, key);
    Value::List(
        read.iter()
            .enumerate()
            .map(|(i, a)| {
                let pa = prior_items.get(i);
                let order = match pa.and_then(|p| p.get("order")) {
                    Some(Value::Null) => Value::Null,
                    _ => opt_n(a.order()),
                };
                let fixed = a
                    .fixed_response_config()
                    .map(|f| {
                        vec![Value::map([
                            ("content_type", opt_s(f.content_type())),
                            ("message_body", opt_s(f.message_body())),
                            ("status_code", opt_s(f.status_code())),
                        ])]
                    })
                    .unwrap_or_default();
                let redirect = a
                    .redirect_config()
                    .map(|r| {
                        vec![Value::map([
                            ("host", opt_s(r.host())),
                            ("path", opt_s(r.path())),
                            ("port", opt_s(r.port())),
                            ("protocol", opt_s(r.protocol())),
                            ("query", opt_s(r.query())),
                            ("status_code", opt_s(r.status_code().map(|c| c.as_str()))),
                        ])]
                    })
                    .unwrap_or_default();
                let forward = forward_state(a, pa.copied());
                let single = a
                    .forward_config()
                    .is_none_or(|f| f.target_groups().len() == 1);
                let tg = a.target_group_arn().or_else(|| {
                    a.forward_config()
                        .filter(|_| single)
                        .and_then(|f| f.target_groups().first())
                        .and_then(|g| g.target_group_arn())
                });
                // An action written with `forward` alone leaves `target_group_arn` unset.
                let tg = match pa {
                    Some(p)
                        if !forward.is_empty()
                            && p.get("target_group_arn").is_some_and(Value::is_null) =>
                    {
                        Value::Null
                    }
                    _ => opt_s(tg),
                };
                Value::map([
                    ("type", opt_s(a.r#type().map(|t| t.as_str()))),
                    ("target_group_arn", tg),
                    ("order", order),
                    ("fixed_response", Value::List(fixed)),
                    ("redirect", Value::List(redirect)),
                    ("forward", Value::List(forward)),
                ])
            })
            .collect(),
    )
}

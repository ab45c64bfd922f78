//! The `action` blocks that aws_lb_listener and aws_lb_listener_rule share.

use super::*;

pub(super) fn action_schema() -> ResourceSchema {
    ResourceSchema::new()
        .attr("type", Attribute::required(Type::String))
        .attr("target_group_arn", Attribute::optional(Type::String))
        .attr("order", Attribute::optional(Type::Number))
        .block(
            "fixed_response",
            Nesting::List,
            ResourceSchema::new()
                .attr("content_type", Attribute::required(Type::String))
                .attr("message_body", Attribute::optional(Type::String))
                .attr("status_code", Attribute::optional(Type::String)),
        )
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
                let tg = a.target_group_arn().or_else(|| {
                    a.forward_config()
                        .and_then(|f| f.target_groups().first())
                        .and_then(|g| g.target_group_arn())
                });
                Value::map([
                    ("type", opt_s(a.r#type().map(|t| t.as_str()))),
                    ("target_group_arn", opt_s(tg)),
                    ("order", order),
                    ("fixed_response", Value::List(fixed)),
                ])
            })
            .collect(),
    )
}

//! aws_lb_listener_rule.

use super::*;

fn conditions(planned: &Value) -> Vec<t::RuleCondition> {
    let mut out = Vec::new();
    // A condition block and its SDK config: `values` in both kinds.
    macro_rules! condition {
        ($c:expr, $block:literal, $field:literal, $setter:ident, $config:ident) => {
            if let Some(b) = block($c, $block) {
                let values = t::$config::builder().set_values(Some(strs_of(b, "values")));
                out.push(
                    t::RuleCondition::builder()
                        .field($field)
                        .$setter(values.build())
                        .build(),
                );
            }
        };
    }
    for c in blocks(planned, "condition") {
        condition!(
            c,
            "path_pattern",
            "path-pattern",
            path_pattern_config,
            PathPatternConditionConfig
        );
        condition!(
            c,
            "host_header",
            "host-header",
            host_header_config,
            HostHeaderConditionConfig
        );
    }
    out
}

fn conditions_state(read: &[t::RuleCondition]) -> Value {
    let mut items: Vec<Value> = read
        .iter()
        .map(|c| {
            let vals = |v: &[String]| vec![Value::map([("values", str_set(v))])];
            let field = c.field().unwrap_or_default();
            let (pp, hh) = match field {
                "path-pattern" => (
                    vals(
                        c.path_pattern_config()
                            .map(|p| p.values())
                            .filter(|v| !v.is_empty())
                            .unwrap_or(c.values()),
                    ),
                    Vec::new(),
                ),
                "host-header" => (
                    Vec::new(),
                    vals(
                        c.host_header_config()
                            .map(|p| p.values())
                            .filter(|v| !v.is_empty())
                            .unwrap_or(c.values()),
                    ),
                ),
                _ => (Vec::new(), Vec::new()),
            };
            Value::map([
                ("path_pattern", Value::List(pp)),
                ("host_header", Value::List(hh)),
            ])
        })
        .collect();
    terrane_core::schema::dedup_set(&mut items);
    Value::List(items)
}

async fn describe_rule(cx: &Clients, arn: &str) -> Result<Option<t::Rule>> {
    found!(
        cx.elbv2.describe_rules().rule_arns(arn),
        "DescribeRules",
        rules[0]
    )
}

async fn rule_state(cx: &Clients, r: &t::Rule, listener_arn: &str, prior: &Value) -> Result<Value> {
    let arn = r.rule_arn().unwrap_or_default();
    let tags = read_tags(cx, arn).await?;
    Ok(tags::tagged(
        Value::map([
            ("id", Value::from(arn)),
            ("arn", Value::from(arn)),
            ("listener_arn", Value::from(listener_arn)),
            (
                "priority",
                r.priority()
                    .and_then(|p| p.parse::<f64>().ok())
                    .map(Value::Number)
                    .unwrap_or(Value::Null),
            ),
            ("action", actions_state(r.actions(), prior, "action")),
            ("condition", conditions_state(r.conditions())),
        ]),
        tags,
        prior,
    ))
}

/// The listener a rule belongs to: `.../listener-rule/app/lb/x/listener-id/rule-id` names it.
fn listener_of_rule(rule_arn: &str) -> String {
    let Some((head, tail)) = rule_arn.split_once(":listener-rule/") else {
        return String::new();
    };
    let parts: Vec<&str> = tail.split('/').collect();
    if parts.len() < 2 {
        return String::new();
    }
    format!("{head}:listener/{}", parts[..parts.len() - 1].join("/"))
}

#[async_trait]
impl AwsResource for ListenerRule {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let mut ids = Vec::new();
        for l in super::listeners(cx).await? {
            let rules = call!(
                cx.elbv2
                    .describe_rules()
                    .listener_arn(l.listener_arn().unwrap_or_default()),
                "DescribeRules"
            )?;
            ids.extend(
                rules
                    .rules
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|r| r.is_default() != Some(true))
                    .filter_map(|r| r.rule_arn),
            );
        }
        read_each(self, cx, ids).await
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_actions(config, "action")
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let listener = string_of(planned, "listener_arn");
        let priority = match int_of(planned, "priority") {
            Some(p) => p,
            None => {
                // Like Terraform: the next free priority on the listener.
                let out = call!(
                    cx.elbv2.describe_rules().listener_arn(&listener),
                    "DescribeRules"
                )?;
                out.rules()
                    .iter()
                    .filter_map(|r| r.priority()?.parse::<i32>().ok())
                    .max()
                    .unwrap_or(0)
                    + 1
            }
        };
        let req = cx
            .elbv2
            .create_rule()
            .listener_arn(&listener)
            .priority(priority)
            .set_conditions(Some(conditions(planned)))
            .set_actions(Some(actions(planned, "action")))
            .set_tags(create_tags(planned, token));
        let arn = create!(cx, req, "CreateRule", rules.rule_arn, token,
            among cx.elbv2.describe_rules().listener_arn(&listener) => "DescribeRules")?;
        read_back(self, cx, &arn, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        let listener = str_of(prior, "listener_arn")
            .map(String::from)
            .unwrap_or_else(|| listener_of_rule(id));
        read_found!(describe_rule(cx, id), |r| rule_state(
            cx, &r, &listener, prior
        ))
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let arn = string_of(prior, "arn");
        if changed(prior, planned, &["priority"]) {
            if let Some(p) = int_of(planned, "priority") {
                call!(
                    cx.elbv2.set_rule_priorities().rule_priorities(
                        t::RulePriorityPair::builder()
                            .rule_arn(&arn)
                            .priority(p)
                            .build(),
                    ),
                    "SetRulePriorities"
                )?;
            }
        }
        if changed(prior, planned, &["action", "condition"]) {
            call!(
                cx.elbv2
                    .modify_rule()
                    .rule_arn(&arn)
                    .set_conditions(Some(conditions(planned)))
                    .set_actions(Some(actions(planned, "action"))),
                "ModifyRule"
            )?;
        }
        Ok(())
    }

    delete_by! { elbv2.delete_rule(rule_arn = "arn") => "DeleteRule" }
}

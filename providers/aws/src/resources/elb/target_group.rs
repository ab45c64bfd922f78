//! aws_lb_target_group.

use super::*;

async fn describe_tg(cx: &Clients, arn: &str) -> Result<Option<t::TargetGroup>> {
    describe_one!(
        cx.elbv2.describe_target_groups(),
        arn,
        target_group_arns,
        "DescribeTargetGroups",
        target_groups
    )
}

async fn tg_state(cx: &Clients, tg: &t::TargetGroup, prior: &Value) -> Result<Value> {
    let tags = read_tags(cx, tg.target_group_arn().unwrap_or_default()).await?;
    tg_state_tagged(cx, tg, tags, prior).await
}

/// DescribeTargetGroups answers for this many ARNs at once (as DescribeTags does).
const DESCRIBE_BATCH: usize = 20;

/// The target groups of `priors` (by ARN), twenty per call, in the order of `priors`.
async fn describe_many(cx: &Clients, priors: &[&Value]) -> Result<Vec<Option<t::TargetGroup>>> {
    many_or_each(
        priors,
        "arn",
        |arns| async move {
            cx.elbv2
                .describe_target_groups()
                .set_target_group_arns(Some(arns))
                .send()
                .await
                .map(|o| o.target_groups.unwrap_or_default())
                .or_sdk("DescribeTargetGroups")
        },
        |arn| async move { describe_tg(cx, &arn).await },
        |g| g.target_group_arn(),
    )
    .await
}

async fn tg_state_tagged(
    cx: &Clients,
    tg: &t::TargetGroup,
    tags: BTreeMap<String, String>,
    prior: &Value,
) -> Result<Value> {
    let arn = tg.target_group_arn().unwrap_or_default();
    let attrs: BTreeMap<String, String> = call!(
        cx.elbv2
            .describe_target_group_attributes()
            .target_group_arn(arn),
        "DescribeTargetGroupAttributes"
    )?
    .attributes()
    .iter()
    .filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string())))
    .collect();
    // Optional health-check settings the user left unset are AWS's defaults, not drift.
    let ph = block(prior, "health_check");
    let unset = |k: &str| ph.is_some_and(|p| p.get(k).is_some_and(Value::is_null));
    let keep = |k: &str, v: Value| if unset(k) { Value::Null } else { v };
    let hc = Value::map([
        (
            "enabled",
            Value::Bool(tg.health_check_enabled().unwrap_or(true)),
        ),
        ("path", keep("path", opt_s(tg.health_check_path()))),
        ("port", opt_s(tg.health_check_port())),
        (
            "protocol",
            opt_s(tg.health_check_protocol().map(|p| p.as_str())),
        ),
        (
            "matcher",
            keep("matcher", opt_s(tg.matcher().and_then(|m| m.http_code()))),
        ),
        ("interval", opt_n(tg.health_check_interval_seconds())),
        (
            "timeout",
            keep("timeout", opt_n(tg.health_check_timeout_seconds())),
        ),
        ("healthy_threshold", opt_n(tg.healthy_threshold_count())),
        ("unhealthy_threshold", opt_n(tg.unhealthy_threshold_count())),
    ]);
    let hc = if ph.is_none() && !prior.is_null() {
        Value::List(Vec::new())
    } else {
        Value::List(vec![hc])
    };
    Ok(tags::tagged(
        Value::map([
            ("id", Value::from(arn)),
            ("arn", Value::from(arn)),
            ("arn_suffix", Value::from(arn_suffix(arn, "targetgroup/"))),
            ("name", opt_s(tg.target_group_name())),
            ("port", opt_n(tg.port())),
            ("protocol", opt_s(tg.protocol().map(|p| p.as_str()))),
            ("vpc_id", opt_s(tg.vpc_id())),
            ("target_type", opt_s(tg.target_type().map(|p| p.as_str()))),
            (
                "deregistration_delay",
                num(attrs
                    .get("deregistration_delay.timeout_seconds")
                    .and_then(|s| s.parse::<f64>().ok())
                    .unwrap_or(300.0)),
            ),
            ("load_balancer_arns", str_set(tg.load_balancer_arns())),
            ("health_check", hc),
        ]),
        tags,
        prior,
    ))
}

#[async_trait]
impl AwsResource for TargetGroup {
    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        super::validate_name_length(config, "Target group")
    }

    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let groups = super::target_groups(cx).await?;
        let arns: Vec<String> = groups
            .iter()
            .filter_map(|g| g.target_group_arn().map(String::from))
            .collect();
        let mut tags = read_tags_many(cx, &arns).await?;
        let mut out = Vec::new();
        for tg in groups {
            let t = tags
                .remove(tg.target_group_arn().unwrap_or_default())
                .unwrap_or_default();
            out.push(Listed::new(
                tg_state_tagged(cx, &tg, t, &Value::Null).await?,
            ));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let hc = block(planned, "health_check");
        let hs = |k: &str| hc.and_then(|h| str_of(h, k)).map(String::from);
        let hn = |k: &str| hc.and_then(|h| int_of(h, k));
        let mut req = cx
            .elbv2
            .create_target_group()
            .name(text_of(planned, "name"))
            .set_port(int_of(planned, "port"))
            .set_vpc_id(str_of(planned, "vpc_id").map(String::from))
            .target_type(t::TargetTypeEnum::from(
                str_of(planned, "target_type").unwrap_or("instance"),
            ))
            .set_health_check_enabled(hc.and_then(|h| bool_of(h, "enabled")))
            .set_health_check_path(hs("path"))
            .set_health_check_port(hs("port"))
            .set_health_check_interval_seconds(hn("interval"))
            .set_health_check_timeout_seconds(hn("timeout"))
            .set_healthy_threshold_count(hn("healthy_threshold"))
            .set_unhealthy_threshold_count(hn("unhealthy_threshold"))
            .set_tags(create_tags(planned, token));
        if let Some(p) = str_of(planned, "protocol") {
            req = req.protocol(t::ProtocolEnum::from(p));
        }
        if let Some(p) = hs("protocol") {
            req = req.health_check_protocol(t::ProtocolEnum::from(p.as_str()));
        }
        if let Some(m) = hs("matcher") {
            req = req.matcher(t::Matcher::builder().http_code(m).build());
        }
        let arn = match call!(req, "CreateTargetGroup") {
            Ok(out) => out
                .target_groups()
                .first()
                .and_then(|g| g.target_group_arn())
                .ok_or_else(|| missing("CreateTargetGroup", "target group ARN"))?
                .to_string(),
            Err(e) if e.is("DuplicateTargetGroupName") => {
                let name = text_of(planned, "name");
                match describe_tg(cx, name)
                    .await?
                    .and_then(|g| g.target_group_arn)
                {
                    Some(arn) if tags::has_token(&read_tags(cx, &arn).await?, token) => arn,
                    _ => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        set_tg_attributes(cx, &arn, planned).await?;
        read_back(self, cx, &arn, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        read_found!(describe_tg(cx, id), |tg| tg_state(cx, &tg, prior))
    }

    fn read_batch(&self) -> Option<usize> {
        Some(DESCRIBE_BATCH)
    }

    async fn read_many(&self, cx: &Clients, priors: &[&Value]) -> Result<Vec<Option<Value>>> {
        let found = describe_many(cx, priors).await?;
        let arns: Vec<String> = found
            .iter()
            .flatten()
            .filter_map(|g| g.target_group_arn().map(String::from))
            .collect();
        let tags = read_tags_many(cx, &arns).await?;
        states_of(found, priors, |tg, p| {
            let t = tags
                .get(tg.target_group_arn().unwrap_or_default())
                .cloned()
                .unwrap_or_default();
            async move { tg_state_tagged(cx, &tg, t, p).await }
        })
        .await
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let arn = string_of(prior, "arn");
        if changed(prior, planned, &["health_check"]) {
            if let Some(h) = block(planned, "health_check") {
                let mut req = cx
                    .elbv2
                    .modify_target_group()
                    .target_group_arn(&arn)
                    .set_health_check_enabled(bool_of(h, "enabled"))
                    .set_health_check_path(str_of(h, "path").map(String::from))
                    .set_health_check_port(str_of(h, "port").map(String::from))
                    .set_health_check_interval_seconds(int_of(h, "interval"))
                    .set_health_check_timeout_seconds(int_of(h, "timeout"))
                    .set_healthy_threshold_count(int_of(h, "healthy_threshold"))
                    .set_unhealthy_threshold_count(int_of(h, "unhealthy_threshold"));
                if let Some(p) = str_of(h, "protocol") {
                    req = req.health_check_protocol(t::ProtocolEnum::from(p));
                }
                if let Some(m) = str_of(h, "matcher") {
                    req = req.matcher(t::Matcher::builder().http_code(m).build());
                }
                call!(req, "ModifyTargetGroup")?;
            }
        }
        if changed(prior, planned, &["deregistration_delay"]) {
            set_tg_attributes(cx, &arn, planned).await?;
        }
        Ok(())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let arn = string_of(state, "arn");
        // ResourceInUse while a listener or rule still forwards to it.
        delete_retrying!(
            Duration::from_secs(300),
            cx.elbv2.delete_target_group().target_group_arn(&arn),
            "DeleteTargetGroup"
        )
    }
}

async fn set_tg_attributes(cx: &Clients, arn: &str, planned: &Value) -> Result<()> {
    done!(
        cx.elbv2
            .modify_target_group_attributes()
            .target_group_arn(arn)
            .attributes(
                t::TargetGroupAttribute::builder()
                    .key("deregistration_delay.timeout_seconds")
                    .value(
                        int_of(planned, "deregistration_delay")
                            .unwrap_or(300)
                            .to_string(),
                    )
                    .build(),
            ),
        "ModifyTargetGroupAttributes"
    )
}

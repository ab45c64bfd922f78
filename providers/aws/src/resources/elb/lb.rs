//! aws_lb.

use super::*;

const LB_TIMEOUT: Duration = Duration::from_secs(600);

async fn describe_lb(cx: &Clients, arn: &str) -> Result<Option<t::LoadBalancer>> {
    describe_one!(
        cx.elbv2.describe_load_balancers(),
        arn,
        load_balancer_arns,
        "DescribeLoadBalancers",
        load_balancers
    )
}

async fn lb_state(cx: &Clients, lb: &t::LoadBalancer, prior: &Value) -> Result<Value> {
    let arn = lb.load_balancer_arn().unwrap_or_default();
    let attrs: BTreeMap<String, String> = call!(
        cx.elbv2
            .describe_load_balancer_attributes()
            .load_balancer_arn(arn),
        "DescribeLoadBalancerAttributes"
    )?
    .attributes()
    .iter()
    .filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string())))
    .collect();
    let tags = read_tags(cx, arn).await?;
    Ok(tags::tagged(
        Value::map([
            ("id", Value::from(arn)),
            ("arn", Value::from(arn)),
            ("arn_suffix", Value::from(arn_suffix(arn, "loadbalancer/"))),
            ("name", opt_s(lb.load_balancer_name())),
            ("dns_name", opt_s(lb.dns_name())),
            ("zone_id", opt_s(lb.canonical_hosted_zone_id())),
            ("vpc_id", opt_s(lb.vpc_id())),
            (
                "internal",
                Value::Bool(lb.scheme().map(|s| s.as_str()) == Some("internal")),
            ),
            ("load_balancer_type", opt_s(lb.r#type().map(|s| s.as_str()))),
            (
                "ip_address_type",
                opt_s(lb.ip_address_type().map(|s| s.as_str())),
            ),
            ("security_groups", str_set(lb.security_groups())),
            (
                "subnets",
                str_set(lb.availability_zones().iter().filter_map(|z| z.subnet_id())),
            ),
            (
                "idle_timeout",
                num(attrs
                    .get("idle_timeout.timeout_seconds")
                    .and_then(|s| s.parse::<f64>().ok())
                    .unwrap_or(60.0)),
            ),
            (
                "enable_deletion_protection",
                Value::Bool(
                    attrs.get("deletion_protection.enabled").map(String::as_str) == Some("true"),
                ),
            ),
        ]),
        tags,
        prior,
    ))
}

async fn set_lb_attributes(cx: &Clients, arn: &str, planned: &Value) -> Result<()> {
    let attr = |k: &str, v: String| t::LoadBalancerAttribute::builder().key(k).value(v).build();
    let mut attrs = vec![attr(
        "deletion_protection.enabled",
        bool_of(planned, "enable_deletion_protection")
            .unwrap_or(false)
            .to_string(),
    )];
    if str_of(planned, "load_balancer_type") == Some("application") {
        attrs.push(attr(
            "idle_timeout.timeout_seconds",
            int_of(planned, "idle_timeout").unwrap_or(60).to_string(),
        ));
    }
    done!(
        cx.elbv2
            .modify_load_balancer_attributes()
            .load_balancer_arn(arn)
            .set_attributes(Some(attrs)),
        "ModifyLoadBalancerAttributes"
    )
}

#[async_trait]
impl AwsResource for Lb {
    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        super::validate_name_length(config, "Load balancer")
    }

    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let mut out = Vec::new();
        for lb in super::load_balancers(cx).await? {
            out.push(Listed::new(lb_state(cx, &lb, &Value::Null).await?));
        }
        Ok(out)
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        // AWS answers a repeated CreateLoadBalancer with the same load balancer, but not every
        // implementation does (moto makes a second one): after a lost answer, look first.
        let name = string_of(planned, "name");
        let req = cx
            .elbv2
            .create_load_balancer()
            .name(&name)
            .set_subnets(Some(strs_of(planned, "subnets")))
            .set_security_groups(
                Some(strs_of(planned, "security_groups")).filter(|s| !s.is_empty()),
            )
            .scheme(if bool_of(planned, "internal") == Some(true) {
                t::LoadBalancerSchemeEnum::Internal
            } else {
                t::LoadBalancerSchemeEnum::InternetFacing
            })
            .r#type(t::LoadBalancerTypeEnum::from(
                str_of(planned, "load_balancer_type").unwrap_or("application"),
            ))
            .ip_address_type(t::IpAddressType::from(
                str_of(planned, "ip_address_type").unwrap_or("ipv4"),
            ))
            .set_tags(create_tags(planned, token));
        let arn = create!(
            cx,
            req,
            "CreateLoadBalancer",
            load_balancers.load_balancer_arn,
            token,
            {
                let found = describe_lb(cx, &name).await?;
                found
                    .and_then(|l| l.load_balancer_arn)
                    .into_iter()
                    .collect()
            }
        )?;
        let lb = wait_until(
            "the load balancer to become active",
            "DescribeLoadBalancers",
            timeout(planned, "create", LB_TIMEOUT),
            || async {
                let lb = describe_lb(cx, &arn).await?;
                match lb
                    .as_ref()
                    .and_then(|l| l.state())
                    .and_then(|s| s.code())
                    .map(|c| c.as_str())
                {
                    Some("failed") => Err(AwsError::new(
                        "DescribeLoadBalancers",
                        "LoadBalancerFailed",
                        format!("load balancer {arn} failed to provision"),
                    )),
                    Some("active") => Ok(lb),
                    _ => Ok(None),
                }
            },
        )
        .await?;
        set_lb_attributes(cx, &arn, planned).await?;
        lb_state(cx, &lb, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        read_found!(describe_lb(cx, id), |lb| lb_state(cx, &lb, prior))
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let arn = string_of(prior, "arn");
        if changed(prior, planned, &["security_groups"]) {
            call!(
                cx.elbv2
                    .set_security_groups()
                    .load_balancer_arn(&arn)
                    .set_security_groups(Some(strs_of(planned, "security_groups"))),
                "SetSecurityGroups"
            )?;
        }
        if changed(prior, planned, &["subnets"]) {
            call!(
                cx.elbv2
                    .set_subnets()
                    .load_balancer_arn(&arn)
                    .set_subnets(Some(strs_of(planned, "subnets"))),
                "SetSubnets"
            )?;
        }
        if changed(prior, planned, &["ip_address_type"]) {
            call!(
                cx.elbv2
                    .set_ip_address_type()
                    .load_balancer_arn(&arn)
                    .ip_address_type(t::IpAddressType::from(
                        str_of(planned, "ip_address_type").unwrap_or("ipv4"),
                    )),
                "SetIpAddressType"
            )?;
        }
        if changed(
            prior,
            planned,
            &["idle_timeout", "enable_deletion_protection"],
        ) {
            set_lb_attributes(cx, &arn, planned).await?;
        }
        Ok(())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let arn = string_of(state, "arn");
        delete_and_wait(
            "the load balancer",
            "DescribeLoadBalancers",
            timeout(state, "delete", LB_TIMEOUT),
            || async {
                done!(
                    cx.elbv2.delete_load_balancer().load_balancer_arn(&arn),
                    "DeleteLoadBalancer"
                )
            },
            || async { Ok(describe_lb(cx, &arn).await?.is_some()) },
        )
        .await
    }
}

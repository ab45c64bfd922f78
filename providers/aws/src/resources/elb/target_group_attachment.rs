//! aws_lb_target_group_attachment.

use super::*;

fn target(planned: &Value) -> t::TargetDescription {
    t::TargetDescription::builder()
        .id(text_of(planned, "target_id"))
        .set_port(int_of(planned, "port"))
        .build()
}

#[async_trait]
impl AwsResource for TargetGroupAttachment {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let mut out = Vec::new();
        for tg in super::target_groups(cx).await? {
            let arn = tg.target_group_arn().unwrap_or_default();
            let health = call!(
                cx.elbv2.describe_target_health().target_group_arn(arn),
                "DescribeTargetHealth"
            )?;
            for d in health.target_health_descriptions() {
                let Some(target) = d.target() else { continue };
                let id = target.id().unwrap_or_default();
                let port = target.port();
                let port_text = port.map(|p| p.to_string()).unwrap_or_default();
                out.push(Listed::new(Value::map([
                    ("id", Value::from(format!("{arn},{id},{port_text}"))),
                    ("target_group_arn", Value::from(arn)),
                    ("target_id", Value::from(id)),
                    (
                        "port",
                        port.map(|p| Value::Number(p.into())).unwrap_or(Value::Null),
                    ),
                ])));
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &Clients, planned: &Value, _token: &str) -> Result<Value> {
        // RegisterTargets is idempotent: registering a registered target changes nothing.
        let tg = text_of(planned, "target_group_arn");
        call!(
            cx.elbv2
                .register_targets()
                .target_group_arn(tg)
                .targets(target(planned)),
            "RegisterTargets"
        )?;
        let mut v = planned.clone();
        let id = format!(
            "{tg},{},{}",
            text_of(planned, "target_id"),
            int_of(planned, "port")
                .map(|p| p.to_string())
                .unwrap_or_default()
        );
        put(&mut v, "id", Value::from(id));
        Ok(v)
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        // Import id: `target_group_arn,target_id[,port]`.
        let mut parts = id.splitn(3, ',');
        let (tg, target_id, port) = (
            parts.next().unwrap_or_default().to_string(),
            parts.next().unwrap_or_default().to_string(),
            parts.next().and_then(|p| p.parse::<i32>().ok()),
        );
        let out = match absent_ok(call!(
            cx.elbv2.describe_target_health().target_group_arn(&tg),
            "DescribeTargetHealth"
        ))? {
            Some(o) => o,
            None => return Ok(None),
        };
        let found = out.target_health_descriptions().iter().any(|d| {
            d.target().is_some_and(|t| {
                t.id() == Some(target_id.as_str()) && (port.is_none() || t.port() == port)
            }) && d
                .target_health()
                .and_then(|h| h.state())
                .map(|s| s.as_str())
                != Some("draining")
        });
        if !found {
            return Ok(None);
        }
        Ok(Some(Value::map([
            ("id", Value::from(id)),
            ("target_group_arn", Value::from(tg)),
            ("target_id", Value::from(target_id)),
            ("port", opt_n(port)),
            (
                "availability_zone",
                prior
                    .get("availability_zone")
                    .cloned()
                    .unwrap_or(Value::Null),
            ),
        ])))
    }

    async fn update(&self, _cx: &Clients, _prior: &Value, planned: &Value) -> Result<Value> {
        // Every argument forces a new attachment.
        Ok(planned.clone())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        match call!(
            cx.elbv2
                .deregister_targets()
                .target_group_arn(text_of(state, "target_group_arn"))
                .targets(target(state)),
            "DeregisterTargets"
        ) {
            Err(e) if !e.is_not_found() && !e.code.contains("InvalidTarget") => Err(e),
            _ => Ok(()),
        }
    }
}

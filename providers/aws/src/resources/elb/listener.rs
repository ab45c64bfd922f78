//! aws_lb_listener.

use super::*;

async fn describe_listener(cx: &Clients, arn: &str) -> Result<Option<t::Listener>> {
    found!(
        cx.elbv2.describe_listeners().listener_arns(arn),
        "DescribeListeners",
        listeners[0]
    )
}

async fn listener_state(cx: &Clients, l: &t::Listener, prior: &Value) -> Result<Value> {
    let arn = l.listener_arn().unwrap_or_default();
    let tags = read_tags(cx, arn).await?;
    Ok(tags::tagged(
        Value::map([
            ("id", Value::from(arn)),
            ("arn", Value::from(arn)),
            ("load_balancer_arn", opt_s(l.load_balancer_arn())),
            ("port", opt_n(l.port())),
            ("protocol", opt_s(l.protocol().map(|p| p.as_str()))),
            ("ssl_policy", opt_s(l.ssl_policy())),
            (
                "certificate_arn",
                opt_s(l.certificates().first().and_then(|c| c.certificate_arn())),
            ),
            (
                "default_action",
                actions_state(l.default_actions(), prior, "default_action"),
            ),
        ]),
        tags,
        prior,
    ))
}

#[async_trait]
impl AwsResource for Listener {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let mut out = Vec::new();
        for l in super::listeners(cx).await? {
            out.push(Listed::new(listener_state(cx, &l, &Value::Null).await?));
        }
        Ok(out)
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        validate_actions(config, "default_action")
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let mut req = cx
            .elbv2
            .create_listener()
            .load_balancer_arn(text_of(planned, "load_balancer_arn"))
            .set_port(int_of(planned, "port"))
            .set_ssl_policy(str_of(planned, "ssl_policy").map(String::from))
            .set_default_actions(Some(actions(planned, "default_action")))
            .set_tags(create_tags(planned, token));
        if let Some(p) = str_of(planned, "protocol") {
            req = req.protocol(t::ProtocolEnum::from(p));
        }
        if let Some(c) = str_of(planned, "certificate_arn") {
            req = req.certificates(t::Certificate::builder().certificate_arn(c).build());
        }
        let lb = string_of(planned, "load_balancer_arn");
        let arn = create!(cx, req, "CreateListener", listeners.listener_arn, token,
            among cx.elbv2.describe_listeners().load_balancer_arn(&lb) => "DescribeListeners")?;
        read_back(self, cx, &arn, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        read_found!(describe_listener(cx, id), |l| listener_state(cx, &l, prior))
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let arn = string_of(prior, "arn");
        if changed(
            prior,
            planned,
            &[
                "port",
                "protocol",
                "ssl_policy",
                "certificate_arn",
                "default_action",
            ],
        ) {
            // The blue/green swap: one ModifyListener moves all traffic at once.
            let mut req = cx
                .elbv2
                .modify_listener()
                .listener_arn(&arn)
                .set_port(int_of(planned, "port"))
                .set_ssl_policy(str_of(planned, "ssl_policy").map(String::from))
                .set_default_actions(Some(actions(planned, "default_action")));
            if let Some(p) = str_of(planned, "protocol") {
                req = req.protocol(t::ProtocolEnum::from(p));
            }
            if let Some(c) = str_of(planned, "certificate_arn") {
                req = req.certificates(t::Certificate::builder().certificate_arn(c).build());
            }
            call!(req, "ModifyListener")?;
        }
        Ok(())
    }

    delete_by! { elbv2.delete_listener(listener_arn = "arn") => "DeleteListener" }
}

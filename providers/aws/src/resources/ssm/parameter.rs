//! aws_ssm_parameter: a value in Parameter Store (`String`, `StringList` or `SecureString`).

use super::*;
use crate::error::Result;

/// The parameter and its value, or `None` when there is no such parameter.
async fn describe(
    cx: &Clients,
    name: &str,
) -> Result<Option<(t::Parameter, Option<t::ParameterMetadata>)>> {
    let got = call!(
        cx.ssm.get_parameter().name(name).with_decryption(true),
        "GetParameter"
    );
    let p = match got {
        Ok(o) => match o.parameter {
            Some(p) => p,
            None => return Ok(None),
        },
        Err(e) if e.is_not_found() || e.is("ParameterNotFound") => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = call!(
        cx.ssm.describe_parameters().parameter_filters(
            t::ParameterStringFilter::builder()
                .key("Name")
                .option("Equals")
                .values(name)
                .build()
                .map_err(|e| {
                    AwsError::new("DescribeParameters", "InvalidRequest", e.to_string())
                })?,
        ),
        "DescribeParameters"
    )?
    .parameters
    .unwrap_or_default()
    .into_iter()
    .next();
    Ok(Some((p, meta)))
}

fn state(
    p: &t::Parameter,
    meta: Option<&t::ParameterMetadata>,
    read_tags: BTreeMap<String, String>,
    prior: &Value,
) -> Value {
    let tags = read_tags;
    let value = opt_s(p.value());
    // `insecure_value` repeats a value that is not secret, where the configuration set it.
    let insecure = match prior.get("insecure_value") {
        Some(v) if !v.is_null() => value.clone(),
        _ => Value::Null,
    };
    let m = |f: fn(&t::ParameterMetadata) -> Option<&str>| opt_s(meta.and_then(f));
    tags::tagged(
        Value::map([
            ("id", opt_s(p.name())),
            ("arn", opt_s(p.arn())),
            ("name", opt_s(p.name())),
            ("type", opt_s(p.r#type().map(|t| t.as_str()))),
            ("value", value),
            ("insecure_value", insecure),
            ("version", num(p.version() as f64)),
            ("data_type", Value::from(p.data_type().unwrap_or("text"))),
            ("description", m(|m| m.description())),
            ("key_id", m(|m| m.key_id())),
            ("allowed_pattern", m(|m| m.allowed_pattern())),
            (
                "tier",
                Value::from(
                    meta.and_then(|m| m.tier())
                        .map(|t| t.as_str())
                        .unwrap_or("Standard"),
                ),
            ),
            (
                "overwrite",
                prior.get("overwrite").cloned().unwrap_or(Value::Null),
            ),
        ]),
        tags,
        prior,
    )
}

/// Writes the parameter's value and settings; `overwrite` for an update.
async fn put_parameter(
    cx: &Clients,
    planned: &Value,
    overwrite: bool,
    tags: Option<Vec<t::Tag>>,
) -> Result<()> {
    let value = str_of(planned, "value")
        .or_else(|| str_of(planned, "insecure_value"))
        .unwrap_or_default();
    cx.ssm
        .put_parameter()
        .name(text_of(planned, "name"))
        .r#type(t::ParameterType::from(
            str_of(planned, "type").unwrap_or("String"),
        ))
        .value(value)
        .set_description(str_of(planned, "description").map(String::from))
        .set_key_id(str_of(planned, "key_id").map(String::from))
        .set_allowed_pattern(str_of(planned, "allowed_pattern").map(String::from))
        .set_data_type(str_of(planned, "data_type").map(String::from))
        .set_tier(str_of(planned, "tier").map(t::ParameterTier::from))
        .overwrite(overwrite)
        .set_tags(tags)
        .send()
        .await
        .done("PutParameter")
}

#[async_trait]
impl AwsResource for Parameter {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let params = pages!(
            cx.ssm.describe_parameters(),
            "DescribeParameters",
            parameters
        );
        read_each(self, cx, params.filter_map(|p| p.name).collect::<Vec<_>>()).await
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let set = |k: &str| config.get(k).is_some_and(|v| !v.is_null());
        let mut out = Vec::new();
        if set("value") && set("insecure_value") {
            out.push(
                Diagnostic::error(
                    "Conflicting arguments",
                    "set either value or insecure_value, not both",
                )
                .for_attribute("insecure_value"),
            );
        }
        if str_of(config, "type") == Some("SecureString") && set("insecure_value") {
            out.push(
                Diagnostic::error(
                    "Invalid argument",
                    "a SecureString's value is secret: set value, not insecure_value",
                )
                .for_attribute("insecure_value"),
            );
        }
        if let Some(ty) = str_of(config, "type") {
            if !["String", "StringList", "SecureString"].contains(&ty) {
                out.push(
                    Diagnostic::error(
                        "Invalid parameter type",
                        format!("{ty:?} is not one of String, StringList, SecureString"),
                    )
                    .for_attribute("type"),
                );
            }
        }
        out
    }

    fn adjust_plan(&self, Planning { prior, planned, .. }: Planning<'_>) {
        // A new value is a new version.
        if let Some(p) = prior {
            if changed(
                p,
                planned,
                &["value", "insecure_value", "type", "description"],
            ) {
                put(planned, "version", Value::Unknown);
            }
        }
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let name = string_of(planned, "name");
        let tags = tags::for_create(planned, token);
        if let Err(e) = put_parameter(cx, planned, false, Some(tags)).await {
            // A retry after a lost answer: the parameter is ours if it carries our token.
            let ours = e.is("ParameterAlreadyExists")
                && tags::has_token(&super::read_tags(cx, &name).await?, token);
            if !ours {
                return Err(e);
            }
        }
        read_back(self, cx, &name, planned).await
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        let Some((p, meta)) = describe(cx, id).await? else {
            return Ok(None);
        };
        Ok(Some(state(
            &p,
            meta.as_ref(),
            super::read_tags(cx, id).await?,
            prior,
        )))
    }

    async fn modify(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<()> {
        let settings = [
            "value",
            "insecure_value",
            "type",
            "description",
            "key_id",
            "allowed_pattern",
            "data_type",
            "tier",
        ];
        if changed(prior, planned, &settings) {
            put_parameter(cx, planned, true, None).await?;
        }
        Ok(())
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        match call!(
            cx.ssm.delete_parameter().name(text_of(state, "name")),
            "DeleteParameter"
        ) {
            Err(e) if !(e.is_not_found() || e.is("ParameterNotFound")) => Err(e),
            _ => Ok(()),
        }
    }
}

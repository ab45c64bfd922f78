//! Example plugin that extends AWS: `aws_ssm_parameter` (resource and data source, with the
//! attribute names of hashicorp/aws), which the native AWS provider does not have. It calls SSM
//! through the host's signed-request capability: the host signs with the user's credentials and
//! chooses the endpoint; this plugin never sees a credential.
//!
//! Use it under another local name and point the resources at it:
//! `resource "aws_ssm_parameter" "x" { provider = awsssm ... }`.

use std::collections::BTreeMap;

use serde_json::{json, Value as J};
use terrane_plugin_sdk::host::{self, aws_json, AwsError};
use terrane_plugin_sdk::*;

#[derive(Default)]
struct Ssm;

fn ssm(action: &str, body: J) -> Result<J, AwsError> {
    let name = body.get("Name").and_then(J::as_str).unwrap_or_default();
    host::log(host::LogLevel::Debug, &format!("{action} {name}"));
    aws_json("ssm", &format!("AmazonSSM.{action}"), &body)
}

fn fail(action: &str, name: &str, e: AwsError) -> Error {
    Error {
        message: format!("{action} {name}: {e}"),
        retryable: e.code == "ThrottlingException" || e.status >= 500,
        partial_state: None,
    }
}

fn text<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn tags_of(v: &Value) -> BTreeMap<String, String> {
    v.get("tags")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn tag_list(tags: &BTreeMap<String, String>) -> J {
    J::Array(
        tags.iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

fn tags_value(tags: &BTreeMap<String, String>) -> Value {
    Value::Map(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

type Tags = BTreeMap<String, String>;

/// GetParameter (decrypted) and the tags: `None` when the parameter does not exist.
fn get(name: &str) -> Result<Option<(J, Tags)>, Error> {
    let p = match ssm(
        "GetParameter",
        json!({"Name": name, "WithDecryption": true}),
    ) {
        Ok(r) => r.get("Parameter").cloned().unwrap_or(J::Null),
        Err(e) if e.code == "ParameterNotFound" => return Ok(None),
        Err(e) => return Err(fail("GetParameter", name, e)),
    };
    let tags = list_tags(name)?;
    Ok(Some((p, tags)))
}

/// The state from what AWS reports, keeping what it does not report (description, tier,
/// allowed_pattern) from `base`.
fn state_from(base: &Value, p: &J, tags: &BTreeMap<String, String>) -> Value {
    let mut m = base.as_map().cloned().unwrap_or_default();
    let s = |k: &str| p.get(k).and_then(J::as_str).map(Value::from);
    let name = s("Name").unwrap_or(Value::Null);
    m.insert("id".into(), name.clone());
    m.insert("name".into(), name);
    if let Some(v) = s("Value") {
        m.insert("value".into(), v);
    }
    if let Some(v) = s("Type") {
        m.insert("type".into(), v);
    }
    if let Some(v) = s("ARN") {
        m.insert("arn".into(), v);
    }
    if let Some(v) = s("DataType") {
        m.insert("data_type".into(), v);
    }
    if let Some(v) = p.get("Version").and_then(J::as_f64) {
        m.insert("version".into(), Value::Number(v));
    }
    let had_tags = m.get("tags").is_some_and(|t| !t.is_null());
    if had_tags || !tags.is_empty() {
        m.insert("tags".into(), tags_value(tags));
    }
    m.insert("tags_all".into(), tags_value(tags));
    Value::Map(m)
}

/// Every parameter DescribeParameters reports for `filters` (all pages).
fn describe(filters: J) -> Result<Vec<J>, Error> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut body = json!({"ParameterFilters": filters, "MaxResults": 50});
        if let Some(t) = &next {
            body["NextToken"] = J::from(t.as_str());
        }
        let r = ssm("DescribeParameters", body).map_err(|e| fail("DescribeParameters", "", e))?;
        out.extend(
            r.get("Parameters")
                .and_then(J::as_array)
                .cloned()
                .unwrap_or_default(),
        );
        match r.get("NextToken").and_then(J::as_str) {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

fn list_tags(name: &str) -> Result<Tags, Error> {
    let tags = ssm(
        "ListTagsForResource",
        json!({"ResourceType": "Parameter", "ResourceId": name}),
    )
    .map_err(|e| fail("ListTagsForResource", name, e))?;
    Ok(tags
        .get("TagList")
        .and_then(J::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|t| {
                    Some((
                        t.get("Key")?.as_str()?.to_string(),
                        t.get("Value")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default())
}

/// What a parameter's state holds for arguments AWS does not report back, where no
/// configuration says (an import, a discovery).
fn unconfigured() -> Value {
    Value::map([
        ("description", Value::Null),
        ("tier", Value::from("Standard")),
        ("allowed_pattern", Value::Null),
        ("key_id", Value::Null),
        ("tags", Value::Null),
    ])
}

fn put(planned: &Value, overwrite: bool) -> Result<(), Error> {
    let name = text(planned, "name").unwrap_or_default();
    let mut body = json!({
        "Name": name,
        "Value": text(planned, "value").unwrap_or_default(),
        "Type": text(planned, "type").unwrap_or("String"),
        "Overwrite": overwrite,
    });
    for (attr, field) in [
        ("description", "Description"),
        ("tier", "Tier"),
        ("data_type", "DataType"),
        ("allowed_pattern", "AllowedPattern"),
        ("key_id", "KeyId"),
    ] {
        if let Some(v) = text(planned, attr) {
            body[field] = J::from(v);
        }
    }
    let tags = tags_of(planned);
    if !overwrite && !tags.is_empty() {
        // Tags can only be given with a create; updates change them separately.
        body["Tags"] = tag_list(&tags);
    }
    ssm("PutParameter", body).map_err(|e| fail("PutParameter", name, e))?;
    Ok(())
}

fn sync_tags(
    name: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Result<(), Error> {
    let removed: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    if !removed.is_empty() {
        ssm(
            "RemoveTagsFromResource",
            json!({"ResourceType": "Parameter", "ResourceId": name, "TagKeys": removed}),
        )
        .map_err(|e| fail("RemoveTagsFromResource", name, e))?;
    }
    let changed: BTreeMap<String, String> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !changed.is_empty() {
        ssm(
            "AddTagsToResource",
            json!({"ResourceType": "Parameter", "ResourceId": name, "Tags": tag_list(&changed)}),
        )
        .map_err(|e| fail("AddTagsToResource", name, e))?;
    }
    Ok(())
}

impl Provider for Ssm {
    fn manifest(&self) -> Manifest {
        Manifest::new("aws-ssm", env!("CARGO_PKG_VERSION")).aws_service("ssm")
    }

    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema::default();
        s.resources.insert(
            "aws_ssm_parameter".into(),
            ResourceSchema::new()
                .attr("name", Attribute::required(Type::String).force_new())
                .attr("type", Attribute::required(Type::String))
                .attr("value", Attribute::required(Type::String).sensitive())
                .attr("description", Attribute::optional(Type::String))
                .attr(
                    "tier",
                    Attribute::optional(Type::String).with_default("Standard"),
                )
                .attr(
                    "data_type",
                    Attribute::optional(Type::String).with_default("text"),
                )
                .attr("allowed_pattern", Attribute::optional(Type::String))
                .attr("key_id", Attribute::optional_computed(Type::String))
                .attr("tags", Attribute::optional(Type::map(Type::String)))
                .attr("tags_all", Attribute::computed(Type::map(Type::String)))
                .attr("arn", Attribute::computed(Type::String))
                .attr("version", Attribute::computed(Type::Number))
                .attr("id", Attribute::computed(Type::String)),
        );
        s.data_sources.insert(
            "aws_ssm_parameter".into(),
            ResourceSchema::new()
                .attr("name", Attribute::required(Type::String))
                .attr(
                    "with_decryption",
                    Attribute::optional(Type::Bool).with_default(true),
                )
                .attr("value", Attribute::computed(Type::String).sensitive())
                .attr("insecure_value", Attribute::computed(Type::String))
                .attr("type", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("version", Attribute::computed(Type::Number))
                .attr("id", Attribute::computed(Type::String)),
        );
        s
    }

    fn validate(&self, type_name: &str, config: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if type_name == "aws_ssm_parameter" {
            if let Some(t) = text(config, "type") {
                if !["String", "StringList", "SecureString"].contains(&t) {
                    out.push(
                        Diagnostic::error(
                            "Invalid parameter type",
                            format!("type must be String, StringList or SecureString, not {t:?}."),
                        )
                        .for_attribute("type"),
                    );
                }
            }
        }
        out
    }

    fn plan(&mut self, req: PlanRequest<'_>) -> Result<PlanResponse, Error> {
        let rs = &cached_schema(self).resources["aws_ssm_parameter"];
        let (mut planned, requires_replace) = rs.default_plan(req.prior, req.config);
        if let Value::Map(m) = &mut planned {
            let tags = tags_value(&tags_of(req.config));
            m.insert("tags_all".into(), tags);
            // A new value is a new version.
            let changed = req.prior.is_none_or(|p| {
                [
                    "value",
                    "type",
                    "description",
                    "tier",
                    "data_type",
                    "allowed_pattern",
                ]
                .iter()
                .any(|k| p.get(k) != m.get(*k))
            });
            if changed || !requires_replace.is_empty() {
                m.insert("version".into(), Value::Unknown);
            }
        }
        Ok(PlanResponse {
            planned,
            requires_replace,
            diagnostics: Vec::new(),
        })
    }

    fn apply(&mut self, req: ApplyRequest<'_>) -> Result<Option<Value>, Error> {
        let Some(planned) = req.planned else {
            let prior = req.prior.ok_or("delete without a prior state")?;
            let name = text(prior, "name").unwrap_or_default();
            return match ssm("DeleteParameter", json!({"Name": name})) {
                Ok(_) => Ok(None),
                Err(e) if e.code == "ParameterNotFound" => Ok(None),
                Err(e) => Err(fail("DeleteParameter", name, e)),
            };
        };
        let name = text(planned, "name").unwrap_or_default().to_string();
        match req.prior {
            None => put(planned, false)?,
            Some(prior) => {
                let differs = [
                    "value",
                    "type",
                    "description",
                    "tier",
                    "data_type",
                    "allowed_pattern",
                    "key_id",
                ]
                .iter()
                .any(|k| {
                    prior.get(k) != planned.get(k) && !planned.get(k).is_some_and(Value::is_unknown)
                });
                if differs {
                    put(planned, true)?;
                }
                sync_tags(&name, &tags_of(prior), &tags_of(planned))?;
            }
        }
        let (p, tags) = get(&name)?.ok_or_else(|| {
            Error::new(format!(
                "GetParameter {name}: the parameter is not there right after it was written"
            ))
        })?;
        Ok(Some(state_from(planned, &p, &tags)))
    }

    fn read(&mut self, _type_name: &str, state: &Value) -> Result<Option<Value>, Error> {
        let name = text(state, "name").unwrap_or_default();
        Ok(get(name)?.map(|(p, tags)| state_from(state, &p, &tags)))
    }

    fn import(&mut self, _type_name: &str, id: &str) -> Result<Value, Error> {
        let (p, tags) =
            get(id)?.ok_or_else(|| Error::new(format!("no SSM parameter named {id:?}")))?;
        Ok(state_from(&unconfigured(), &p, &tags))
    }

    fn discoverable_types(&self) -> Vec<String> {
        vec!["aws_ssm_parameter".into()]
    }

    /// DescribeParameters, filtered by AWS on the name prefix (a path such as `/app/dev/`)
    /// and on each tag; a regex is matched here. The state holds what a delete takes and no
    /// value: a discovered secret is never decrypted.
    fn discover(&mut self, filter: &DiscoverFilter) -> Result<Vec<DiscoveredObject>, Error> {
        if !filter.wants_type("aws_ssm_parameter") {
            return Ok(Vec::new());
        }
        let mut filters: Vec<J> = filter
            .tags
            .iter()
            .map(|(k, v)| json!({"Key": format!("tag:{k}"), "Values": [v]}))
            .collect();
        if let Some(NameMatch::Prefix(p)) = &filter.name {
            filters.push(json!({"Key": "Name", "Option": "BeginsWith", "Values": [p]}));
        }
        let mut out = Vec::new();
        for p in describe(J::Array(filters))? {
            let Some(name) = p.get("Name").and_then(J::as_str) else {
                continue;
            };
            if filter.name.as_ref().is_some_and(|m| !m.matches(name)) {
                continue;
            }
            let tags = list_tags(name)?;
            let mut o = DiscoveredObject::new("aws_ssm_parameter", name, FoundBy::Listing)
                .with_name(name)
                .with_tags(tags.clone());
            if let Some(arn) = p.get("ARN").and_then(J::as_str) {
                o = o.also_known_as(arn);
            }
            o.state = state_from(&unconfigured(), &p, &tags);
            if filter.matches(&o) {
                out.push(o);
            }
        }
        Ok(out)
    }

    fn read_data(&mut self, _type_name: &str, config: &Value) -> Result<Value, Error> {
        let name = text(config, "name").unwrap_or_default();
        let decrypt = config
            .get("with_decryption")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let r = ssm(
            "GetParameter",
            json!({"Name": name, "WithDecryption": decrypt}),
        )
        .map_err(|e| fail("GetParameter", name, e))?;
        let p = r.get("Parameter").cloned().unwrap_or(J::Null);
        let s = |k: &str| {
            p.get(k)
                .and_then(J::as_str)
                .map(Value::from)
                .unwrap_or(Value::Null)
        };
        let mut m = config.as_map().cloned().unwrap_or_default();
        let ty = s("Type");
        m.insert("id".into(), s("Name"));
        m.insert("value".into(), s("Value"));
        let insecure = if ty.as_str() == Some("SecureString") {
            Value::Null
        } else {
            s("Value")
        };
        m.insert("insecure_value".into(), insecure);
        m.insert("type".into(), ty);
        m.insert("arn".into(), s("ARN"));
        m.insert(
            "version".into(),
            p.get("Version")
                .and_then(J::as_f64)
                .map(Value::Number)
                .unwrap_or(Value::Null),
        );
        Ok(Value::Map(m))
    }
}

export_provider!(Ssm);

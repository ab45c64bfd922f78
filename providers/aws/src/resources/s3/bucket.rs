//! aws_s3_bucket, with `force_destroy` (artefacts and logs). The bucket's other settings are
//! resources of their own in hashicorp/aws 5 (versioning, encryption, lifecycle, ...).

use super::*;
use crate::error::Result;

/// Whether the bucket exists (and is reachable with these credentials).
async fn exists(cx: &Clients, name: &str) -> Result<bool> {
    match call!(cx.s3.head_bucket().bucket(name), "HeadBucket") {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() || e.is("NoSuchBucket") || e.is("NotFound") => Ok(false),
        Err(e) => Err(e),
    }
}

async fn bucket_tags(cx: &Clients, name: &str) -> Result<BTreeMap<String, String>> {
    match call!(cx.s3.get_bucket_tagging().bucket(name), "GetBucketTagging") {
        Ok(o) => Ok(o.tag_set.into_iter().map(|t| (t.key, t.value)).collect()),
        Err(e) if e.is("NoSuchTagSet") || e.is_not_found() => Ok(BTreeMap::new()),
        Err(e) => Err(e),
    }
}

/// The bucket's region (`GetBucketLocation` says nothing for us-east-1).
async fn region_of(cx: &Clients, name: &str) -> Result<String> {
    let out = call!(
        cx.s3.get_bucket_location().bucket(name),
        "GetBucketLocation"
    )?;
    Ok(match out.location_constraint().map(|c| c.as_str()) {
        None | Some("") => "us-east-1".to_string(),
        Some(r) => r.to_string(),
    })
}

async fn object_lock(cx: &Clients, name: &str) -> Result<bool> {
    match call!(
        cx.s3.get_object_lock_configuration().bucket(name),
        "GetObjectLockConfiguration"
    ) {
        Ok(o) => Ok(o
            .object_lock_configuration()
            .and_then(|c| c.object_lock_enabled())
            .is_some_and(|e| e.as_str() == "Enabled")),
        Err(e) if e.code.contains("ObjectLockConfigurationNotFound") || e.is_not_found() => {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

async fn read_state(cx: &Clients, name: &str, prior: &Value) -> Result<Option<Value>> {
    if !exists(cx, name).await? {
        return Ok(None);
    }
    let region = region_of(cx, name).await?;
    let tags = bucket_tags(cx, name).await?;
    let keep = |k: &str, default: Value| {
        prior
            .get(k)
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or(default)
    };
    Ok(Some(tags::tagged(
        Value::map([
            ("id", Value::from(name)),
            ("bucket", Value::from(name)),
            ("bucket_prefix", keep("bucket_prefix", Value::Null)),
            ("arn", Value::from(format!("arn:aws:s3:::{name}"))),
            (
                "bucket_domain_name",
                Value::from(format!("{name}.s3.amazonaws.com")),
            ),
            (
                "bucket_regional_domain_name",
                Value::from(format!("{name}.s3.{region}.amazonaws.com")),
            ),
            ("region", Value::from(region)),
            (
                "object_lock_enabled",
                Value::Bool(object_lock(cx, name).await?),
            ),
            // Configuration only, as in Terraform: what a delete does with the objects in it.
            ("force_destroy", keep("force_destroy", Value::Bool(false))),
        ]),
        tags,
        prior,
    )))
}

fn tagging(m: &BTreeMap<String, String>) -> Result<t::Tagging> {
    let set = m
        .iter()
        .map(|(k, v)| t::Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AwsError::new("PutBucketTagging", "InvalidTag", e.to_string()))?;
    t::Tagging::builder()
        .set_tag_set(Some(set))
        .build()
        .map_err(|e| AwsError::new("PutBucketTagging", "InvalidTag", e.to_string()))
}

async fn put_tags(cx: &Clients, name: &str, m: &BTreeMap<String, String>) -> Result<()> {
    if m.is_empty() {
        return done!(
            cx.s3.delete_bucket_tagging().bucket(name),
            "DeleteBucketTagging"
        );
    }
    done!(
        cx.s3.put_bucket_tagging().bucket(name).tagging(tagging(m)?),
        "PutBucketTagging"
    )
}

/// Deletes every object version and delete marker, 1,000 per call.
async fn empty(cx: &Clients, name: &str) -> Result<()> {
    loop {
        let out = call!(
            cx.s3.list_object_versions().bucket(name),
            "ListObjectVersions"
        )?;
        let mut ids: Vec<t::ObjectIdentifier> = Vec::new();
        for (key, version) in out
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                out.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            )
        {
            if let Some(k) = key {
                ids.extend(
                    t::ObjectIdentifier::builder()
                        .key(k)
                        .set_version_id(version.map(String::from))
                        .build()
                        .ok(),
                );
            }
        }
        if ids.is_empty() {
            return Ok(());
        }
        for chunk in ids.chunks(1000) {
            let del = t::Delete::builder()
                .set_objects(Some(chunk.to_vec()))
                .quiet(true)
                .build()
                .map_err(|e| AwsError::new("DeleteObjects", "InvalidRequest", e.to_string()))?;
            call!(
                cx.s3.delete_objects().bucket(name).delete(del),
                "DeleteObjects"
            )?;
        }
    }
}

#[async_trait]
impl AwsResource for Bucket {
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>> {
        let out = call!(cx.s3.list_buckets(), "ListBuckets")?;
        let mut names = Vec::new();
        for b in out.buckets.unwrap_or_default() {
            let Some(n) = b.name else { continue };
            // Buckets are global; discovery is per region.
            if region_of(cx, &n).await? == cx.region {
                names.push(n);
            }
        }
        read_each(self, cx, names).await
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let set = |k: &str| config.get(k).is_some_and(|v| !v.is_null());
        if set("bucket") && set("bucket_prefix") {
            return vec![Diagnostic::error(
                "Conflicting arguments",
                "set either bucket or bucket_prefix, not both",
            )
            .for_attribute("bucket_prefix")];
        }
        Vec::new()
    }

    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value> {
        let name = name_or_prefix(
            planned,
            "bucket",
            &token_tail(token, 16).to_ascii_lowercase(),
        );
        let location = (cx.region != "us-east-1").then(|| {
            t::CreateBucketConfiguration::builder()
                .location_constraint(t::BucketLocationConstraint::from(cx.region.as_str()))
                .build()
        });
        let res = call!(
            cx.s3
                .create_bucket()
                .bucket(&name)
                .set_create_bucket_configuration(location)
                .object_lock_enabled_for_bucket(
                    bool_of(planned, "object_lock_enabled") == Some(true)
                ),
            "CreateBucket"
        );
        match res {
            Ok(_) => {}
            // A retry after a lost answer: the bucket is ours if it carries our token (a
            // bucket made by someone else of this account does not).
            Err(e)
                if e.is("BucketAlreadyOwnedByYou")
                    && tags::has_token(&bucket_tags(cx, &name).await?, token) => {}
            Err(e) => return Err(e),
        }
        put_tags(cx, &name, &tags::for_create_map(planned, token)).await?;
        read_state(cx, &name, planned)
            .await?
            .ok_or_else(|| vanished("HeadBucket", "bucket", &name))
    }

    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>> {
        read_state(cx, id, prior).await
    }

    async fn update(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<Value> {
        let name = string_of(prior, "bucket");
        if changed(prior, planned, &["tags_all"]) {
            put_tags(cx, &name, &tags::wanted(planned)).await?;
        }
        read_state(cx, &name, planned)
            .await?
            .ok_or_else(|| vanished("HeadBucket", "bucket", &name))
    }

    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()> {
        let name = string_of(state, "bucket");
        if bool_of(state, "force_destroy") == Some(true) {
            match empty(cx, &name).await {
                Err(e) if e.is("NoSuchBucket") || e.is_not_found() => return Ok(()),
                other => other?,
            }
        }
        match call!(cx.s3.delete_bucket().bucket(&name), "DeleteBucket") {
            Ok(_) => Ok(()),
            Err(e) if e.is("NoSuchBucket") || e.is_not_found() => Ok(()),
            Err(mut e) if e.is("BucketNotEmpty") => {
                e.message = format!(
                    "{}; set force_destroy = true to delete the objects with the bucket",
                    e.message
                );
                Err(e)
            }
            Err(e) => Err(e),
        }
    }
}

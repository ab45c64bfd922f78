//! The operations of `terrane deliver` ([`terrane_core::delivery::Delivery`]) on the SDK clients:
//! ECR's layer-upload API for a push (no container engine), ECS task revisions and services,
//! ELBv2 listener forwards and tags, target health, and CloudWatch alarm states. Every call
//! goes through the same clients (endpoints, retries, counters) as the resources.

use async_trait::async_trait;
use aws_sdk_ecr::primitives::Blob;
use terrane_core::delivery::{Delivery, Image, Pushed, Service, Weighted};
use terrane_core::ProviderError;

use crate::config::Clients;
use crate::error::{AwsError, Result};

fn pe(e: AwsError) -> ProviderError {
    e.into_provider_error()
}

/// ECR takes a layer in parts of at most this many bytes (it reports its own part size).
const MAX_PART: usize = 10 * 1024 * 1024;

impl Clients {
    async fn upload_blob(&self, repository: &str, digest: &str, bytes: &[u8]) -> Result<()> {
        let up = call!(
            self.ecr.initiate_layer_upload().repository_name(repository),
            "InitiateLayerUpload"
        )?;
        let id = up.upload_id().unwrap_or_default().to_string();
        let part = up
            .part_size()
            .filter(|p| *p > 0)
            .map_or(MAX_PART, |p| (p as usize).min(MAX_PART));
        let mut first = 0usize;
        for chunk in bytes.chunks(part.max(1)) {
            call!(
                self.ecr
                    .upload_layer_part()
                    .repository_name(repository)
                    .upload_id(&id)
                    .part_first_byte(first as i64)
                    .part_last_byte((first + chunk.len() - 1) as i64)
                    .layer_part_blob(Blob::new(chunk.to_vec())),
                "UploadLayerPart"
            )?;
            first += chunk.len();
        }
        let done = call!(
            self.ecr
                .complete_layer_upload()
                .repository_name(repository)
                .upload_id(&id)
                .layer_digests(digest),
            "CompleteLayerUpload"
        )?;
        match done.layer_digest() {
            Some(d) if d != digest => Err(AwsError::new(
                "CompleteLayerUpload",
                "LayerDigestMismatch",
                format!("ECR computed {d} for the blob the image names {digest}"),
            )),
            _ => Ok(()),
        }
    }
}

fn forward_of(a: &aws_sdk_elasticloadbalancingv2::types::Action) -> Vec<Weighted> {
    if let Some(f) = a.forward_config() {
        let tgs: Vec<Weighted> = f
            .target_groups()
            .iter()
            .filter_map(|t| {
                Some(Weighted {
                    target_group: t.target_group_arn()?.to_string(),
                    weight: i64::from(t.weight().unwrap_or(1)),
                })
            })
            .collect();
        if !tgs.is_empty() {
            return tgs;
        }
    }
    a.target_group_arn()
        .map(|t| {
            vec![Weighted {
                target_group: t.to_string(),
                weight: 1,
            }]
        })
        .unwrap_or_default()
}

#[async_trait]
impl Delivery for Clients {
    async fn push_image(
        &self,
        repository: &str,
        image: &Image,
        tags: &[String],
    ) -> Result<Pushed, ProviderError> {
        let repo = call!(
            self.ecr
                .describe_repositories()
                .repository_names(repository),
            "DescribeRepositories"
        )
        .map_err(pe)?
        .repositories
        .unwrap_or_default()
        .into_iter()
        .next()
        .ok_or_else(|| ProviderError::new(format!("no ECR repository {repository:?}")))?;
        let digests: Vec<String> = image.blobs.iter().map(|(d, _)| d.clone()).collect();
        let mut present = std::collections::BTreeSet::new();
        for chunk in digests.chunks(100) {
            let out = call!(
                self.ecr
                    .batch_check_layer_availability()
                    .repository_name(repository)
                    .set_layer_digests(Some(chunk.to_vec())),
                "BatchCheckLayerAvailability"
            )
            .map_err(pe)?;
            for l in out.layers() {
                if l.layer_availability().map(|a| a.as_str()) == Some("AVAILABLE") {
                    if let Some(d) = l.layer_digest() {
                        present.insert(d.to_string());
                    }
                }
            }
        }
        let mut uploaded = 0;
        for (digest, bytes) in &image.blobs {
            if present.contains(digest) {
                continue;
            }
            self.upload_blob(repository, digest, bytes)
                .await
                .map_err(pe)?;
            uploaded += 1;
        }
        let manifest = String::from_utf8(image.manifest.clone())
            .map_err(|_| ProviderError::new("the image manifest is not UTF-8 JSON"))?;
        let mut digest = None;
        for tag in tags {
            match call!(
                self.ecr
                    .put_image()
                    .repository_name(repository)
                    .image_manifest(&manifest)
                    .image_manifest_media_type(&image.media_type)
                    .image_tag(tag),
                "PutImage"
            ) {
                Ok(out) => {
                    digest = out
                        .image()
                        .and_then(|i| i.image_id())
                        .and_then(|i| i.image_digest())
                        .map(String::from)
                        .or(digest);
                }
                // The tag is on this very manifest already: a re-run.
                Err(e) if e.is("ImageAlreadyExistsException") => {}
                Err(e) => return Err(pe(e)),
            }
        }
        let digest = match digest {
            Some(d) => d,
            None => match tags.first() {
                Some(t) => self
                    .image_digest(repository, t)
                    .await?
                    .ok_or_else(|| ProviderError::new("the registry lost the image just pushed"))?,
                None => {
                    return Err(ProviderError::new(
                        "an image is pushed under at least one tag",
                    ))
                }
            },
        };
        Ok(Pushed {
            digest,
            repository_uri: repo.repository_uri().unwrap_or_default().to_string(),
            uploaded,
        })
    }

    async fn image_digest(
        &self,
        repository: &str,
        tag: &str,
    ) -> Result<Option<String>, ProviderError> {
        let out = call!(
            self.ecr
                .describe_images()
                .repository_name(repository)
                .image_ids(
                    aws_sdk_ecr::types::ImageIdentifier::builder()
                        .image_tag(tag)
                        .build(),
                ),
            "DescribeImages"
        );
        match out {
            Ok(o) => Ok(o
                .image_details()
                .first()
                .and_then(|d| d.image_digest())
                .map(String::from)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(pe(e)),
        }
    }

    async fn register_revision(
        &self,
        from: &str,
        container: Option<&str>,
        image: &str,
    ) -> Result<String, ProviderError> {
        let td = call!(
            self.ecs.describe_task_definition().task_definition(from),
            "DescribeTaskDefinition"
        )
        .map_err(pe)?
        .task_definition
        .ok_or_else(|| ProviderError::new(format!("no task definition {from}")))?;
        let mut defs = td.container_definitions.clone().unwrap_or_default();
        let at = match container {
            Some(name) => defs
                .iter()
                .position(|c| c.name() == Some(name))
                .ok_or_else(|| {
                    ProviderError::new(format!("task definition {from} has no container {name:?}"))
                })?,
            None if defs.is_empty() => {
                return Err(ProviderError::new(format!(
                    "task definition {from} has no containers"
                )))
            }
            None => 0,
        };
        defs[at].image = Some(image.to_string());
        let out = call!(
            self.ecs
                .register_task_definition()
                .set_family(td.family.clone())
                .set_container_definitions(Some(defs))
                .set_cpu(td.cpu.clone())
                .set_memory(td.memory.clone())
                .set_network_mode(td.network_mode.clone())
                .set_requires_compatibilities(td.requires_compatibilities.clone())
                .set_execution_role_arn(td.execution_role_arn.clone())
                .set_task_role_arn(td.task_role_arn.clone())
                .set_volumes(td.volumes.clone())
                .set_placement_constraints(td.placement_constraints.clone())
                .set_runtime_platform(td.runtime_platform.clone()),
            "RegisterTaskDefinition"
        )
        .map_err(pe)?;
        out.task_definition()
            .and_then(|t| t.task_definition_arn())
            .map(String::from)
            .ok_or_else(|| ProviderError::new("RegisterTaskDefinition returned no ARN"))
    }

    async fn service(&self, cluster: &str, service: &str) -> Result<Service, ProviderError> {
        let out = call!(
            self.ecs
                .describe_services()
                .cluster(cluster)
                .services(service)
                .include(aws_sdk_ecs::types::ServiceField::Tags),
            "DescribeServices"
        )
        .map_err(pe)?;
        let s = out
            .services()
            .iter()
            .find(|s| s.status() != Some("INACTIVE"))
            .ok_or_else(|| {
                ProviderError::new(format!("no ECS service {service:?} in cluster {cluster:?}"))
            })?;
        Ok(Service {
            arn: s.service_arn().unwrap_or_default().to_string(),
            task_definition: s.task_definition().unwrap_or_default().to_string(),
            desired: i64::from(s.desired_count()),
            running: i64::from(s.running_count()),
            steady: s.deployments().len() <= 1 && s.running_count() == s.desired_count(),
            tags: s
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                .collect(),
        })
    }

    async fn update_service(
        &self,
        cluster: &str,
        service: &str,
        task_definition: &str,
    ) -> Result<(), ProviderError> {
        let req = self.ecs.update_service().task_definition(task_definition);
        done!(req.cluster(cluster).service(service), "UpdateService").map_err(pe)
    }

    async fn scale_service(
        &self,
        cluster: &str,
        service: &str,
        desired: i64,
    ) -> Result<(), ProviderError> {
        let req = self.ecs.update_service().desired_count(desired as i32);
        done!(req.cluster(cluster).service(service), "UpdateService").map_err(pe)
    }

    async fn forward(&self, listener: &str) -> Result<Vec<Weighted>, ProviderError> {
        let out = call!(
            self.elbv2.describe_listeners().listener_arns(listener),
            "DescribeListeners"
        )
        .map_err(pe)?;
        let l = out
            .listeners()
            .first()
            .ok_or_else(|| ProviderError::new(format!("no listener {listener}")))?;
        Ok(l.default_actions()
            .iter()
            .find(|a| a.r#type().map(|t| t.as_str()) == Some("forward"))
            .map(forward_of)
            .unwrap_or_default())
    }

    async fn set_forward(&self, listener: &str, to: &[Weighted]) -> Result<(), ProviderError> {
        use aws_sdk_elasticloadbalancingv2::types as t;
        let groups = to
            .iter()
            .map(|w| {
                t::TargetGroupTuple::builder()
                    .target_group_arn(&w.target_group)
                    .weight(w.weight as i32)
                    .build()
            })
            .collect();
        let action = t::Action::builder()
            .r#type(t::ActionTypeEnum::Forward)
            .forward_config(
                t::ForwardActionConfig::builder()
                    .set_target_groups(Some(groups))
                    .build(),
            )
            .build();
        call!(
            self.elbv2
                .modify_listener()
                .listener_arn(listener)
                .default_actions(action),
            "ModifyListener"
        )
        .map_err(pe)?;
        Ok(())
    }

    async fn tag(&self, arn: &str, tags: &[(String, String)]) -> Result<(), ProviderError> {
        if arn.contains(":ecs:") {
            let tags = tags
                .iter()
                .map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build())
                .collect();
            call!(
                self.ecs
                    .tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(tags)),
                "TagResource"
            )
            .map_err(pe)?;
        } else {
            let tags = tags
                .iter()
                .map(|(k, v)| {
                    aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                        .key(k)
                        .value(v)
                        .build()
                })
                .collect();
            call!(
                self.elbv2
                    .add_tags()
                    .resource_arns(arn)
                    .set_tags(Some(tags)),
                "AddTags"
            )
            .map_err(pe)?;
        }
        Ok(())
    }

    async fn target_health(
        &self,
        target_group: &str,
    ) -> Result<Vec<(String, String)>, ProviderError> {
        let out = call!(
            self.elbv2
                .describe_target_health()
                .target_group_arn(target_group),
            "DescribeTargetHealth"
        )
        .map_err(pe)?;
        Ok(out
            .target_health_descriptions()
            .iter()
            .map(|d| {
                (
                    d.target()
                        .and_then(|t| t.id())
                        .unwrap_or_default()
                        .to_string(),
                    d.target_health()
                        .and_then(|h| h.state())
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                )
            })
            .collect())
    }

    async fn alarm_state(&self, name: &str) -> Result<Option<String>, ProviderError> {
        let out = call!(
            self.cloudwatch.describe_alarms().alarm_names(name),
            "DescribeAlarms"
        )
        .map_err(pe)?;
        Ok(out
            .metric_alarms()
            .first()
            .and_then(|a| a.state_value())
            .map(|s| s.as_str().to_string()))
    }
}

//! The contract between `terrane deliver` (crate `terrane-deliver`) and a cloud: the few
//! operations a blue/green release makes (push an image, register a task revision, point a
//! service at it, read and set a listener's weighted forward, tag, read target health and an
//! alarm). The AWS provider implements it with its SDK clients, so the delivery crate needs no
//! cloud SDK, and a test can drive the same orchestration against any implementation.

use async_trait::async_trait;

use crate::provider::ProviderError;

/// An image to push: its manifest as written, and every blob the manifest names (the config
/// and the layers), by digest.
#[derive(Debug, Clone)]
pub struct Image {
    pub manifest: Vec<u8>,
    pub media_type: String,
    /// `(digest "sha256:...", bytes)`.
    pub blobs: Vec<(String, Vec<u8>)>,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The image digest the registry reports (`sha256:` of the manifest).
    pub digest: String,
    /// The repository's URI (`account.dkr.ecr.region.amazonaws.com/name`).
    pub repository_uri: String,
    /// Blobs uploaded; the others were already there.
    pub uploaded: usize,
}

/// A service as delivery sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub arn: String,
    pub task_definition: String,
    pub desired: i64,
    pub running: i64,
    /// One deployment, running what is desired.
    pub steady: bool,
    pub tags: Vec<(String, String)>,
}

/// One target group of a listener's forward action, with its weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weighted {
    pub target_group: String,
    pub weight: i64,
}

#[async_trait]
pub trait Delivery: Send + Sync {
    /// Uploads the blobs the repository lacks and puts the manifest under each tag (a tag the
    /// image already has is left alone, so a re-run after an interruption is safe).
    async fn push_image(
        &self,
        repository: &str,
        image: &Image,
        tags: &[String],
    ) -> Result<Pushed, ProviderError>;

    /// The digest of `repository:tag`, if there is such an image.
    async fn image_digest(
        &self,
        repository: &str,
        tag: &str,
    ) -> Result<Option<String>, ProviderError>;

    /// A new revision of `from`'s family, the same in every way but the image of `container`
    /// (the first container when `None`). Returns its ARN.
    async fn register_revision(
        &self,
        from: &str,
        container: Option<&str>,
        image: &str,
    ) -> Result<String, ProviderError>;

    async fn service(&self, cluster: &str, service: &str) -> Result<Service, ProviderError>;

    async fn update_service(
        &self,
        cluster: &str,
        service: &str,
        task_definition: &str,
    ) -> Result<(), ProviderError>;

    /// Sets the number of tasks a service runs.
    async fn scale_service(
        &self,
        cluster: &str,
        service: &str,
        desired: i64,
    ) -> Result<(), ProviderError>;

    /// The target groups a listener's default action forwards to.
    async fn forward(&self, listener: &str) -> Result<Vec<Weighted>, ProviderError>;

    /// Sets the listener's default action to forward to `to`, with these weights.
    async fn set_forward(&self, listener: &str, to: &[Weighted]) -> Result<(), ProviderError>;

    /// Adds or overwrites tags of a service (ECS) or target group (ELBv2), by ARN.
    async fn tag(&self, arn: &str, tags: &[(String, String)]) -> Result<(), ProviderError>;

    /// Each registered target's id and health state.
    async fn target_health(
        &self,
        target_group: &str,
    ) -> Result<Vec<(String, String)>, ProviderError>;

    /// The alarm's state (`OK`, `ALARM`, `INSUFFICIENT_DATA`); `None`: no such alarm.
    async fn alarm_state(&self, name: &str) -> Result<Option<String>, ProviderError>;
}

//! Signing of AWS requests made on a plugin's behalf. The plugin host asks for it and the AWS
//! provider crate implements it, so neither depends on the other (nor the host on the SDK).

use async_trait::async_trait;

/// Signs AWS requests with the user's credentials.
#[async_trait]
pub trait AwsSigner: Send + Sync {
    /// Resolves the endpoint for `service` and signs the request. Returns the URL to send to
    /// and every header to send (the request's own and the signature's).
    async fn sign(&self, req: UnsignedAws<'_>) -> Result<SignedAws, String>;
}

/// A request as a plugin wrote it: no endpoint, no credentials.
pub struct UnsignedAws<'a> {
    /// Signing name of the service (`ssm`, `route53`).
    pub service: &'a str,
    pub method: &'a str,
    /// Path and query.
    pub path: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

pub struct SignedAws {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

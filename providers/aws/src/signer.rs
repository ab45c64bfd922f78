//! Signs AWS requests that WASM plugins make through the host (SigV4), with the same
//! credentials chain, region and endpoint settings as the SDK: `AWS_REGION`, the credentials
//! chain (`AWS_ACCESS_KEY_ID`, profiles, ...), `AWS_ENDPOINT_URL_<SERVICE>` and
//! `AWS_ENDPOINT_URL`. The plugin never sees a credential.

use std::time::SystemTime;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use terrane_core::sign::{AwsSigner, SignedAws, UnsignedAws};
use tokio::sync::OnceCell;

#[derive(Default)]
pub struct PluginSigner {
    config: OnceCell<SdkConfig>,
}

impl PluginSigner {
    /// A signer that loads the SDK's configuration from the environment on first use.
    pub fn from_env() -> PluginSigner {
        PluginSigner::default()
    }

    /// A signer with a given SDK configuration.
    pub fn with_config(config: SdkConfig) -> PluginSigner {
        PluginSigner {
            config: OnceCell::new_with(Some(config)),
        }
    }
}

/// The endpoint AWS serves `service` at, when nothing overrides it.
fn default_endpoint(service: &str, region: &str) -> String {
    match service {
        // Global services.
        "iam" | "route53" | "cloudfront" | "organizations" => {
            format!("https://{service}.amazonaws.com")
        }
        _ => format!("https://{service}.{region}.amazonaws.com"),
    }
}

#[async_trait]
impl AwsSigner for PluginSigner {
    async fn sign(&self, req: UnsignedAws<'_>) -> Result<SignedAws, String> {
        let cfg = self
            .config
            .get_or_init(|| aws_config::defaults(BehaviorVersion::latest()).load())
            .await;
        let region = cfg
            .region()
            .map(|r| r.to_string())
            .ok_or("no AWS region is configured (set AWS_REGION)")?;
        let env_key = format!(
            "AWS_ENDPOINT_URL_{}",
            req.service.to_ascii_uppercase().replace('-', "_")
        );
        let base = std::env::var(env_key)
            .ok()
            .filter(|s| !s.is_empty())
            .or_else(|| cfg.endpoint_url().map(String::from))
            .unwrap_or_else(|| default_endpoint(req.service, &region));
        let url = format!("{}{}", base.trim_end_matches('/'), req.path);
        let creds = cfg
            .credentials_provider()
            .ok_or("no AWS credentials are configured")?
            .provide_credentials()
            .await
            .map_err(|e| format!("cannot load AWS credentials: {e}"))?;
        let identity = creds.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&region)
            .name(req.service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| format!("cannot sign: {e}"))?
            .into();
        let signable = SignableRequest::new(
            req.method,
            &url,
            req.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(req.body),
        )
        .map_err(|e| format!("cannot sign: {e}"))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| format!("cannot sign: {e}"))?
            .into_parts();
        let mut headers = req.headers.to_vec();
        headers.extend(
            instructions
                .headers()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        Ok(SignedAws { url, headers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_are_signed_for_the_service_and_region_without_exposing_the_secret() {
        let config = aws_config::SdkConfig::builder()
            .region(aws_config::Region::new("eu-west-2"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "AKIDTEST",
                        "s3cr3t-key",
                        Some("tok".into()),
                        None,
                        "test",
                    ),
                ),
            )
            .endpoint_url("http://127.0.0.1:1")
            .behavior_version(BehaviorVersion::latest())
            .build();
        let signer = PluginSigner::with_config(config);
        let headers = vec![(
            "x-amz-target".to_string(),
            "AmazonSSM.GetParameter".to_string(),
        )];
        let signed = signer
            .sign(UnsignedAws {
                service: "ssm",
                method: "POST",
                path: "/",
                headers: &headers,
                body: b"{}",
            })
            .await
            .unwrap();
        assert_eq!(signed.url, "http://127.0.0.1:1/");
        let h = |name: &str| {
            signed
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {name} header in {:?}", signed.headers))
        };
        let auth = h("authorization");
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"),
            "{auth}"
        );
        assert!(auth.contains("/eu-west-2/ssm/aws4_request"), "{auth}");
        assert!(
            auth.contains("x-amz-target"),
            "the plugin's headers are signed: {auth}"
        );
        assert_eq!(h("x-amz-security-token"), "tok");
        assert!(h("x-amz-date").ends_with('Z'));
        assert_eq!(h("x-amz-target"), "AmazonSSM.GetParameter");
        let all = format!("{:?}", signed.headers);
        assert!(
            !all.contains("s3cr3t-key"),
            "the secret never leaves the signer"
        );
    }

    #[test]
    fn global_services_have_no_region_in_their_endpoint() {
        assert_eq!(
            default_endpoint("iam", "eu-west-1"),
            "https://iam.amazonaws.com"
        );
        assert_eq!(
            default_endpoint("ssm", "eu-west-1"),
            "https://ssm.eu-west-1.amazonaws.com"
        );
    }
}

//! What a plugin may do beyond computing: capabilities are granted, never ambient. A plugin gets
//! outgoing HTTP to a host, or signed requests to an AWS service, only when its manifest
//! (`metadata`) asks for it and the user's configuration allows it.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// What the user allows a plugin (`allow = { http = [...], aws = [...] }` in its
/// `required_providers` entry).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Allow {
    /// Host names (or `*.example.com`) the plugin may send HTTP requests to.
    pub http: Vec<String>,
    /// AWS services (signing names) the plugin may call through the host's signer.
    pub aws: Vec<String>,
}

/// The intersection of what the plugin declares and what the user allows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Granted {
    pub http: Vec<String>,
    pub aws: Vec<String>,
    /// What was declared but not allowed, for the message when a call is refused.
    pub declared_http: Vec<String>,
    pub declared_aws: Vec<String>,
}

impl Granted {
    pub fn new(declared_http: &[String], declared_aws: &[String], allow: &Allow) -> Granted {
        Granted {
            http: declared_http
                .iter()
                .filter(|h| allow.http.iter().any(|a| a == *h))
                .cloned()
                .collect(),
            aws: declared_aws
                .iter()
                .filter(|s| allow.aws.iter().any(|a| a == *s))
                .cloned()
                .collect(),
            declared_http: declared_http.to_vec(),
            declared_aws: declared_aws.to_vec(),
        }
    }

    pub fn http_allows(&self, host: &str) -> bool {
        self.http.iter().any(|p| host_matches(p, host))
    }

    pub fn aws_allows(&self, service: &str) -> bool {
        self.aws.iter().any(|s| s == service)
    }
}

/// `pattern` is a host name or `*.suffix` (which matches subdomains, not the suffix itself).
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.ends_with(&format!(".{suffix}")),
        None => host == pattern,
    }
}

pub use terrane_core::sign::{AwsSigner, SignedAws, UnsignedAws};

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The host's HTTP client (HTTPS with the system's roots, and plain HTTP).
#[derive(Clone)]
pub struct HttpClient {
    client: Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        Full<hyper::body::Bytes>,
    >,
}

impl HttpClient {
    pub fn new() -> Result<HttpClient, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| format!("cannot load the system's TLS roots: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(HttpClient {
            client: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    pub async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Response, String> {
        let mut b = http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let req = b
            .body(Full::new(hyper::body::Bytes::from(body)))
            .map_err(|e| format!("invalid request: {e}"))?;
        let fut = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| format!("{method} {url}: {e}"))?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                .collect();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("{method} {url}: reading the body: {e}"))?
                .to_bytes()
                .to_vec();
            Ok(Response {
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| format!("{method} {url}: no answer within {timeout:?}"))?
    }
}

/// The host part of a URL (`http://127.0.0.1:8080/x` -> `127.0.0.1`).
pub fn url_host(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    uri.host()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capability_needs_both_the_manifest_and_the_user() {
        let allow = Allow {
            http: vec!["api.example.com".into(), "127.0.0.1".into()],
            aws: vec!["ssm".into()],
        };
        let g = Granted::new(
            &["api.example.com".into(), "other.example.com".into()],
            &["ssm".into(), "route53".into()],
            &allow,
        );
        assert!(g.http_allows("api.example.com"));
        assert!(!g.http_allows("other.example.com"), "declared, not allowed");
        assert!(!g.http_allows("127.0.0.1"), "allowed, not declared");
        assert!(g.aws_allows("ssm"));
        assert!(!g.aws_allows("route53"));
    }

    #[test]
    fn wildcards_match_subdomains_only() {
        assert!(host_matches("*.example.com", "a.example.com"));
        assert!(host_matches("*.example.com", "A.B.Example.com"));
        assert!(!host_matches("*.example.com", "example.com"));
        assert!(!host_matches("*.example.com", "badexample.com"));
        assert!(host_matches("localhost", "LOCALHOST"));
    }

    #[test]
    fn hosts_are_read_from_urls() {
        assert_eq!(
            url_host("http://127.0.0.1:8080/x").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(url_host("https://[::1]/").as_deref(), Some("::1"));
        assert_eq!(url_host("not a url"), None);
    }
}

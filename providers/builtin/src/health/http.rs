//! `http { url, method, headers, body, status_codes, body_contains, body_regex, json, insecure,
//! ca_cert_pem }`: the response has an expected status and its body says what it should.
//! TLS certificates are verified against the system's roots unless `ca_cert_pem` names the CA
//! to trust instead; `insecure = true` turns verification off (and says so in every status).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use terrane_core::probe::{CheckKind, Outcome, Probe};
use terrane_core::text::excerpt;
use terrane_core::{Attribute, ResourceSchema, Type, Value};

use super::basic::string_map;
use super::jsonpath;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<hyper::body::Bytes>>;

pub struct Http;

impl CheckKind for Http {
    fn name(&self) -> &'static str {
        "http"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new()
            .attr("url", Attribute::required(Type::String))
            .attr(
                "method",
                Attribute::optional(Type::String).with_default("GET"),
            )
            .attr("headers", Attribute::optional(Type::map(Type::String)))
            .attr("body", Attribute::optional(Type::String))
            .attr(
                "status_codes",
                Attribute::optional(Type::list(Type::Number)),
            )
            .attr("body_contains", Attribute::optional(Type::String))
            .attr("body_regex", Attribute::optional(Type::String))
            .attr("json", Attribute::optional(Type::map(Type::String)))
            .attr(
                "insecure",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .attr("ca_cert_pem", Attribute::optional(Type::String))
    }

    fn prepare(&self, b: &Value) -> Result<Arc<dyn Probe>, String> {
        let s = |k: &str| b.get(k).and_then(Value::as_str).map(String::from);
        let url = s("url").unwrap_or_default();
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| format!("health_check http: url {url:?} is not a URL: {e}"))?;
        match uri.scheme_str() {
            Some("http") | Some("https") => {}
            _ => {
                return Err(format!(
                    "health_check http: url {url:?} must start with http:// or https://"
                ))
            }
        }
        let method = s("method").unwrap_or_else(|| "GET".into()).to_uppercase();
        hyper::Method::from_bytes(method.as_bytes())
            .map_err(|_| format!("health_check http: {method:?} is not an HTTP method"))?;
        let status_codes = match b.get("status_codes").and_then(Value::as_list) {
            Some(l) => l
                .iter()
                .map(|c| match c.as_f64() {
                    Some(n) if (100.0..=599.0).contains(&n) && n.fract() == 0.0 => Ok(n as u16),
                    _ => Err(format!(
                        "health_check http: status_codes holds {c:?}, not an HTTP status (100-599)"
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let body_regex = match s("body_regex") {
            Some(r) => Some(
                regex::Regex::new(&r).map_err(|e| format!("health_check http: body_regex: {e}"))?,
            ),
            None => None,
        };
        let json = string_map(b, "json");
        for path in json.keys() {
            jsonpath::check(path).map_err(|e| format!("health_check http: json: {e}"))?;
        }
        let insecure = b.get("insecure").and_then(Value::as_bool).unwrap_or(false);
        let ca = match s("ca_cert_pem") {
            Some(pem) => {
                let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("health_check http: ca_cert_pem: {e}"))?;
                if certs.is_empty() {
                    return Err("health_check http: ca_cert_pem holds no PEM certificate".into());
                }
                Some(certs)
            }
            None => None,
        };
        if insecure && ca.is_some() {
            return Err(
                "health_check http: insecure = true and ca_cert_pem contradict each other; set one"
                    .into(),
            );
        }
        Ok(Arc::new(HttpProbe {
            url,
            method,
            headers: string_map(b, "headers"),
            body: s("body").unwrap_or_default(),
            status_codes,
            body_contains: s("body_contains"),
            body_regex,
            json,
            tls: if insecure {
                Tls::Insecure
            } else if let Some(c) = ca {
                Tls::Ca(c)
            } else {
                Tls::SystemRoots
            },
            client: OnceLock::new(),
        }))
    }
}

enum Tls {
    SystemRoots,
    Ca(Vec<CertificateDer<'static>>),
    Insecure,
}

pub struct HttpProbe {
    url: String,
    method: String,
    headers: BTreeMap<String, String>,
    body: String,
    /// Empty: any 2xx.
    status_codes: Vec<u16>,
    body_contains: Option<String>,
    body_regex: Option<regex::Regex>,
    json: BTreeMap<String, String>,
    tls: Tls,
    /// Made on the first attempt (validation prepares probes too, and must not load roots).
    client: OnceLock<Result<HttpsClient, String>>,
}

impl HttpProbe {
    fn client(&self) -> Result<&HttpsClient, String> {
        self.client
            .get_or_init(|| make_client(&self.tls))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Whether the response is what the block expects; the reason when it is not.
    fn judge(&self, status: u16, body: &str) -> Result<(), String> {
        let status_ok = if self.status_codes.is_empty() {
            (200..300).contains(&status)
        } else {
            self.status_codes.contains(&status)
        };
        if !status_ok {
            let want = if self.status_codes.is_empty() {
                "2xx".to_string()
            } else {
                self.status_codes
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(" or ")
            };
            return Err(format!("status {status}, expected {want}"));
        }
        if let Some(sub) = &self.body_contains {
            if !body.contains(sub.as_str()) {
                return Err(format!("the body does not contain {sub:?}"));
            }
        }
        if let Some(re) = &self.body_regex {
            if !re.is_match(body) {
                return Err(format!("the body does not match /{}/", re.as_str()));
            }
        }
        if !self.json.is_empty() {
            let doc: serde_json::Value =
                serde_json::from_str(body).map_err(|e| format!("the body is not JSON ({e})"))?;
            for (path, want) in &self.json {
                match jsonpath::select(&doc, path)? {
                    None => return Err(format!("{path} is not in the body")),
                    Some(v) if !jsonpath::matches(v, want) => {
                        return Err(format!("{path} is {v}, expected {want:?}"))
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Probe for HttpProbe {
    fn describe(&self) -> String {
        format!("http {} {}", self.method, self.url)
    }

    async fn attempt(&self, timeout: Duration) -> Outcome {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return Outcome::fail(e),
        };
        let mut req = hyper::Request::builder()
            .method(self.method.as_str())
            .uri(self.url.as_str());
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let req = match req.body(Full::new(hyper::body::Bytes::from(self.body.clone()))) {
            Ok(r) => r,
            Err(e) => return Outcome::fail(format!("invalid request: {e}")),
        };
        let call = async {
            let resp = client.request(req).await.map_err(|e| describe_error(&e))?;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("HTTP {status}, reading the body: {e}"))?
                .to_bytes();
            Ok::<_, String>((status, String::from_utf8_lossy(&body).into_owned()))
        };
        let note = if matches!(self.tls, Tls::Insecure) && self.url.starts_with("https") {
            " (TLS not verified: insecure = true)"
        } else {
            ""
        };
        match tokio::time::timeout(timeout, call).await {
            Err(_) => Outcome::fail(format!("no response within {timeout:?}")),
            Ok(Err(e)) => Outcome::fail(e),
            Ok(Ok((status, body))) => {
                let shown = match excerpt(&body, 300) {
                    e if e.is_empty() => "(empty)".to_string(),
                    e => e,
                };
                let seen = format!("HTTP {status}{note}, body: {shown}");
                match self.judge(status, &body) {
                    Ok(()) => Outcome::pass(seen),
                    Err(why) => Outcome::fail(format!("{why}; {seen}")),
                }
            }
        }
    }
}

/// An error with its causes (hyper's own message is only "client error (Connect)").
fn describe_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !parts.contains(&s) {
            parts.push(s);
        }
        cur = c.source();
    }
    parts.join(": ")
}

fn make_client(tls: &Tls) -> Result<HttpsClient, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = match tls {
        Tls::SystemRoots => builder
            .with_provider_and_native_roots(provider)
            .map_err(|e| format!("cannot load the system's TLS roots: {e}"))?,
        Tls::Ca(certs) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in certs {
                roots
                    .add(c.clone())
                    .map_err(|e| format!("ca_cert_pem: {e}"))?;
            }
            let cfg = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth();
            builder.with_tls_config(cfg)
        }
        Tls::Insecure => {
            let cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
                .with_no_client_auth();
            builder.with_tls_config(cfg)
        }
    };
    let https = builder.https_or_http().enable_http1().build();
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// `insecure = true`: accepts any certificate (signatures are still checked).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback HTTP server: request number `n` (from 0) is answered by `answer(n, request)`.
    async fn serve<F>(answer: F) -> (u16, tokio::task::JoinHandle<()>)
    where
        F: Fn(usize, &str) -> (u16, String) + Send + Sync + 'static,
    {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let answer = Arc::new(answer);
        let count = Arc::new(AtomicUsize::new(0));
        let h = tokio::spawn(async move {
            loop {
                let (mut s, _) = l.accept().await.unwrap();
                let (answer, count) = (answer.clone(), count.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    let req = String::from_utf8_lossy(&buf[..n]).to_string();
                    let (status, body) = answer(count.fetch_add(1, Ordering::SeqCst), &req);
                    let resp = format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                    let _ = s.write_all(resp.as_bytes()).await;
                });
            }
        });
        (port, h)
    }

    fn probe(block: Value) -> Arc<dyn Probe> {
        Http.prepare(&block).unwrap()
    }

    #[tokio::test]
    async fn status_body_and_json_assertions() {
        let (port, server) = serve(|n, req| match req.split_whitespace().nth(1) {
            Some("/health") if n < 2 => (503, r#"{"Status": "Starting"}"#.into()),
            Some("/health") => (200, r#"{"Status": "Success"}"#.into()),
            Some("/version") => (200, r#"{"version": "1.4.2"}"#.into()),
            Some("/echo") => (200, req.to_string()),
            _ => (404, "not found".into()),
        })
        .await;
        let url = |p: &str| Value::from(format!("http://127.0.0.1:{port}{p}"));
        let health = probe(Value::map([
            ("url", url("/health")),
            ("json", Value::map([("$.Status", Value::from("Success"))])),
        ]));
        let t = Duration::from_secs(5);
        let first = health.attempt(t).await;
        assert!(!first.passed);
        assert_eq!(
            first.status,
            r#"status 503, expected 2xx; HTTP 503, body: {"Status": "Starting"}"#
        );
        health.attempt(t).await;
        let ok = health.attempt(t).await;
        assert!(ok.passed, "{ok:?}");
        assert_eq!(ok.status, r#"HTTP 200, body: {"Status": "Success"}"#);

        let version = |want: &str| {
            probe(Value::map([
                ("url", url("/version")),
                ("json", Value::map([("$.version", Value::from(want))])),
            ]))
        };
        assert!(version("1.4.2").attempt(t).await.passed);
        let wrong = version("1.5.0").attempt(t).await;
        assert!(!wrong.passed);
        assert!(
            wrong
                .status
                .starts_with(r#"$.version is "1.4.2", expected "1.5.0""#),
            "{}",
            wrong.status
        );

        // Method, headers, body, status codes, substring and regex.
        let echo = probe(Value::map([
            ("url", url("/echo")),
            ("method", Value::from("post")),
            ("headers", Value::map([("x-probe", Value::from("yes"))])),
            ("body", Value::from("ping")),
            ("status_codes", Value::List(vec![Value::from(200i64)])),
            ("body_contains", Value::from("x-probe: yes")),
            ("body_regex", Value::from(r"^POST /echo HTTP/1\.1")),
        ]));
        let o = echo.attempt(t).await;
        assert!(o.passed, "{o:?}");
        let missing = probe(Value::map([
            ("url", url("/nope")),
            ("status_codes", Value::List(vec![Value::from(404i64)])),
            ("body_regex", Value::from("^found")),
        ]));
        let o = missing.attempt(t).await;
        assert_eq!(
            o.status,
            "the body does not match /^found/; HTTP 404, body: not found"
        );
        let not_json = probe(Value::map([
            ("url", url("/nope")),
            ("status_codes", Value::List(vec![Value::from(404i64)])),
            ("json", Value::map([("$.a", Value::from("b"))])),
        ]));
        assert!(not_json
            .attempt(t)
            .await
            .status
            .starts_with("the body is not JSON"));
        server.abort();
        // The listener is gone once the aborted task has been dropped.
        let _ = server.await;

        // Nothing listening any more: the connection error is what was observed.
        let gone = health.attempt(t).await;
        assert!(!gone.passed);
        assert!(gone.status.contains("client error"), "{}", gone.status);
    }

    #[test]
    fn blocks_are_validated() {
        let err = |b: Value| match Http.prepare(&b) {
            Err(e) => e,
            Ok(_) => panic!("accepted {b:?}"),
        };
        assert!(err(Value::map([("url", Value::from("localhost:80"))])).contains("http://"));
        assert!(err(Value::map([
            ("url", Value::from("http://h/")),
            ("json", Value::map([("Status", Value::from("x"))]))
        ]))
        .contains("must start with $"));
        assert!(err(Value::map([
            ("url", Value::from("http://h/")),
            ("body_regex", Value::from("("))
        ]))
        .contains("body_regex"));
        assert!(err(Value::map([
            ("url", Value::from("http://h/")),
            ("status_codes", Value::List(vec![Value::from(42i64)]))
        ]))
        .contains("not an HTTP status"));
        assert!(err(Value::map([
            ("url", Value::from("http://h/")),
            ("ca_cert_pem", Value::from("nothing"))
        ]))
        .contains("no PEM certificate"));
    }

    /// A TLS server with a self-signed certificate for 127.0.0.1: refused by default, accepted
    /// with its CA in `ca_cert_pem`, and with `insecure = true`.
    #[tokio::test]
    async fn tls_is_verified_by_default() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let pem = cert.pem();
        let server_cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_cfg));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            loop {
                let (s, _) = l.accept().await.unwrap();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut s) = acceptor.accept(s).await else {
                        return;
                    };
                    let mut buf = vec![0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    let _ = s
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                        )
                        .await;
                    let _ = s.shutdown().await;
                });
            }
        });
        let url = Value::from(format!("https://127.0.0.1:{port}/"));
        let t = Duration::from_secs(5);
        let default = probe(Value::map([("url", url.clone())])).attempt(t).await;
        assert!(!default.passed);
        assert!(
            default.status.to_lowercase().contains("certificate"),
            "{}",
            default.status
        );
        let with_ca = probe(Value::map([
            ("url", url.clone()),
            ("ca_cert_pem", Value::from(pem.as_str())),
        ]))
        .attempt(t)
        .await;
        assert!(with_ca.passed, "{with_ca:?}");
        assert_eq!(with_ca.status, "HTTP 200, body: ok");
        let insecure = probe(Value::map([("url", url), ("insecure", Value::Bool(true))]))
            .attempt(t)
            .await;
        assert!(insecure.passed, "{insecure:?}");
        assert!(insecure.status.contains("TLS not verified"), "{insecure:?}");
        server.abort();
    }
}

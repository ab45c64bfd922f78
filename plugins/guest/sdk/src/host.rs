//! What the host offers: logs, HTTP to granted hosts, signed AWS requests to granted services.

use crate::bindings::terrane::provider::host as imports;
use crate::bindings::terrane::provider::types as wit;

pub use imports::LogLevel;

/// A log line in the host's logs, under the plugin's name (`TERRANE_LOG=info` shows it).
pub fn log(level: LogLevel, message: &str) {
    imports::log(level, message);
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn headers_out(headers: &[(&str, &str)]) -> Vec<wit::Header> {
    headers
        .iter()
        .map(|(k, v)| wit::Header {
            name: k.to_string(),
            value: v.to_string(),
        })
        .collect()
}

fn response_in(r: wit::HttpResponse) -> Response {
    Response {
        status: r.status,
        headers: r.headers.into_iter().map(|h| (h.name, h.value)).collect(),
        body: r.body,
    }
}

/// Sends an HTTP request. Refused (and the current call failed by the host) unless the host is
/// in the manifest and allowed by the user.
pub fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response, String> {
    imports::send_http(&wit::HttpRequest {
        method: method.into(),
        url: url.into(),
        headers: headers_out(headers),
        body: body.to_vec(),
    })
    .map(response_in)
}

/// Sends an AWS request that the host signs. `path` includes the query string.
pub fn aws(
    service: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response, String> {
    imports::send_aws(&wit::AwsRequest {
        service: service.into(),
        method: method.into(),
        path: path.into(),
        headers: headers_out(headers),
        body: body.to_vec(),
    })
    .map(response_in)
}

/// An AWS error answer.
#[derive(Debug, Clone)]
pub struct AwsError {
    pub status: u16,
    /// e.g. `ParameterNotFound`.
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} (HTTP {})", self.code, self.message, self.status)
    }
}

/// Calls an AWS JSON 1.1 API (SSM, ECS, CloudWatch Logs, ...): `target` is e.g.
/// `AmazonSSM.PutParameter`. Transport failures and refusals come back with code `Transport`.
pub fn aws_json(
    service: &str,
    target: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value, AwsError> {
    let text = body.to_string();
    let r = aws(
        service,
        "POST",
        "/",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target),
        ],
        text.as_bytes(),
    )
    .map_err(|message| AwsError {
        status: 0,
        code: "Transport".into(),
        message,
    })?;
    let json: serde_json::Value = if r.body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&r.body).map_err(|e| AwsError {
            status: r.status,
            code: "InvalidResponse".into(),
            message: format!("{e}: {}", r.text()),
        })?
    };
    if (200..300).contains(&r.status) {
        return Ok(json);
    }
    let code = json
        .get("__type")
        .and_then(|v| v.as_str())
        .or_else(|| r.header("x-amzn-errortype"))
        .unwrap_or("Unknown");
    // `__type` may be `namespace#Code`, and the header `Code:http://...`.
    let code = code.rsplit('#').next().unwrap_or(code);
    let code = code.split(':').next().unwrap_or(code).to_string();
    let message = json
        .get("message")
        .or_else(|| json.get("Message"))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    Err(AwsError {
        status: r.status,
        code,
        message,
    })
}

//! A real moto server for one test: 127.0.0.1, a free port, stopped (by PID) when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    pub port: u16,
    child: Child,
}

impl Moto {
    /// Starts moto through `tests/moto/launch.py` with `$TERRANE_MOTO_PYTHON` (the venv that
    /// `tests/run` installs).
    pub fn start() -> Moto {
        let python = std::env::var("TERRANE_MOTO_PYTHON").expect(
            "TERRANE_MOTO_PYTHON is not set: run the suite with tests/run, which installs moto",
        );
        let launcher = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/moto/launch.py");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(python)
            .args([launcher, "-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("MOTO_ECS_SERVICE_RUNNING", "2")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let m = Moto { port, child };
        let start = Instant::now();
        while m.get("/moto-api/").is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "moto did not start within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        m
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn get(&self, path: &str) -> Option<String> {
        self.request("GET", path)
    }

    fn request(&self, method: &str, path: &str) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        out.starts_with("HTTP/1.1 200").then_some(out)
    }

    /// Calls an AWS JSON 1.1 API of this server directly (for services the tests have no SDK
    /// crate for, e.g. SSM): returns the HTTP status and the body.
    #[allow(dead_code)]
    pub fn json_call(&self, service: &str, target: &str, body: &str) -> (u16, serde_json::Value) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: {target}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let status: u16 = out[9..12].parse().unwrap();
        let text = out.split("\r\n\r\n").nth(1).unwrap_or_default();
        (
            status,
            serde_json::from_str(text).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Runs `terrane args` in the fixture against this server; asserts the exit code.
    pub fn run(&self, f: &crate::common::Fixture, args: &[&str], code: i32) -> crate::common::Run {
        let mut c = f.cmd(args);
        for (k, v) in self.env() {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let r = crate::common::Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        };
        assert_eq!(
            r.code, code,
            "terrane {args:?}\n--- stdout\n{}\n--- stderr\n{}",
            r.stdout, r.stderr
        );
        r
    }

    /// Environment for a `terrane` process (or SDK client) that talks to this server only.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_ENDPOINT_URL", self.url()),
        ]
    }

    /// SDK configuration for clients of any service on this server.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ec2::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .endpoint_url(self.url())
            .load()
            .await
    }

    /// An EC2 client on this server, for checking what really exists.
    #[allow(dead_code)]
    pub async fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.sdk_config().await)
    }

    /// An IAM client on this server.
    #[allow(dead_code)]
    pub async fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk_config().await)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

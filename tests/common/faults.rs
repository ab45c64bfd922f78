//! A fault-injecting HTTP proxy on loopback, in front of the emulator: every `throttle_every`-th
//! request is answered `503 RequestLimitExceeded` and every `error_every`-th `500 InternalError`,
//! without reaching the emulator (as AWS does when it throttles); with `lose_every`, every
//! `lose_every`-th create is carried out by the emulator but its answer is replaced by a 500 (a
//! lost response: the client cannot know the object exists). Operations named in `denied` are
//! answered `403 AccessDenied`, as for credentials without that permission. The rest are
//! forwarded. Every forwarded call is recorded with its operation and upstream latency (for
//! the benchmark).
//!
//! With `aws_rules` set, the proxy also refuses, as AWS does and the emulator does not, a
//! delete that another object still needs: `ReleaseAddress` of an EIP a NAT gateway holds
//! (`InvalidIPAddress.InUse`), `DeleteSecurityGroup` of a group another group's rules or a load
//! balancer refer to, and `DeleteSubnet` of a subnet with a load balancer or a NAT gateway in it
//! (`DependencyViolation`). It asks the emulator what still exists before it forwards the call.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct FaultProxy {
    pub port: u16,
    pub requests: Arc<AtomicUsize>,
    pub injected: Arc<AtomicUsize>,
    /// Creates carried out whose answers were dropped.
    pub lost: Arc<AtomicUsize>,
    /// (operation, upstream latency) of every forwarded call.
    pub calls: Arc<Mutex<Vec<(String, Duration)>>>,
    /// Answers from upstream that refuse a call because of another object
    /// (`DependencyViolation`, any `...InUse` code, `DeleteConflict`).
    pub conflicts: Arc<AtomicUsize>,
    /// Operations answered `403 AccessDenied` (in the query protocols' error format).
    pub denied: Arc<Mutex<Vec<String>>>,
    /// Refuse the deletes AWS refuses while something depends on the object (see above).
    pub aws_rules: Arc<AtomicBool>,
}

#[derive(Clone, Copy)]
struct Plan {
    throttle_every: usize,
    error_every: usize,
    lose_every: usize,
}

impl FaultProxy {
    pub fn start(upstream: u16, throttle_every: usize, error_every: usize) -> FaultProxy {
        Self::start_with(upstream, throttle_every, error_every, usize::MAX)
    }

    /// A proxy that also loses the answer of every `lose_every`-th create.
    pub fn start_with(
        upstream: u16,
        throttle_every: usize,
        error_every: usize,
        lose_every: usize,
    ) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let p = FaultProxy {
            port,
            requests: Arc::new(AtomicUsize::new(0)),
            injected: Arc::new(AtomicUsize::new(0)),
            lost: Arc::new(AtomicUsize::new(0)),
            calls: Arc::new(Mutex::new(Vec::new())),
            conflicts: Arc::new(AtomicUsize::new(0)),
            denied: Arc::new(Mutex::new(Vec::new())),
            aws_rules: Arc::new(AtomicBool::new(false)),
        };
        let plan = Plan {
            throttle_every,
            error_every,
            lose_every,
        };
        let shared = (
            p.requests.clone(),
            p.injected.clone(),
            p.lost.clone(),
            p.calls.clone(),
            Arc::new(AtomicUsize::new(0)),
            p.conflicts.clone(),
            p.denied.clone(),
            p.aws_rules.clone(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, upstream, &shared, plan);
                });
            }
        });
        p
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

type Shared = (
    Arc<AtomicUsize>,
    Arc<AtomicUsize>,
    Arc<AtomicUsize>,
    Arc<Mutex<Vec<(String, Duration)>>>,
    Arc<AtomicUsize>,
    Arc<AtomicUsize>,
    Arc<Mutex<Vec<String>>>,
    Arc<AtomicBool>,
);

/// The API operation of a request: `Action=` (query protocols), `X-Amz-Target` (JSON
/// protocols), or the method and path (REST protocols such as EKS).
fn operation(head: &str, body: &[u8]) -> String {
    let body = String::from_utf8_lossy(body);
    if let Some(a) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        return a.to_string();
    }
    for l in head.lines() {
        if let Some(t) = l.to_ascii_lowercase().strip_prefix("x-amz-target:") {
            let t = l[l.len() - t.len()..].trim();
            return t.rsplit('.').next().unwrap_or(t).to_string();
        }
    }
    let first = head.lines().next().unwrap_or_default();
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or_default();
    let path = parts
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default();
    // /clusters/NAME/node-groups -> /clusters/*/node-groups
    let shape: Vec<&str> = path
        .split('/')
        .enumerate()
        .map(|(i, s)| if i % 2 == 0 || s.is_empty() { s } else { "*" })
        .collect();
    format!("{method} {}", shape.join("/"))
}

fn is_create(op: &str) -> bool {
    op.starts_with("Create")
        || op.starts_with("Allocate")
        || op.starts_with("Register")
        || (op.starts_with("POST ") && !op.contains("/tags"))
}

fn serve(conn: TcpStream, upstream: u16, shared: &Shared, plan: Plan) -> std::io::Result<()> {
    let (requests, injected, lost, calls, creates, conflicts, denied, aws_rules) = shared;
    let Plan {
        throttle_every,
        error_every,
        lose_every,
    } = plan;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut conn = conn;
    loop {
        // One request: head, then a Content-Length body.
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if line == "\r\n" {
                break;
            }
            if !line.to_ascii_lowercase().starts_with("connection:") {
                head.push_str(&line);
            }
        }
        let len = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            })
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        reader.read_exact(&mut body)?;
        let n = requests.fetch_add(1, Ordering::SeqCst) + 1;
        let fault = if n.is_multiple_of(throttle_every) {
            Some((
                "503 Service Unavailable",
                "RequestLimitExceeded",
                "Request limit exceeded.",
            ))
        } else if n.is_multiple_of(error_every) {
            Some((
                "500 Internal Server Error",
                "InternalError",
                "An internal error has occurred.",
            ))
        } else {
            None
        };
        let op = operation(&head, &body);
        if denied.lock().unwrap().contains(&op) {
            injected.fetch_add(1, Ordering::SeqCst);
            let xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: {op}</Message></Error><RequestId>denied-{n}</RequestId></ErrorResponse>");
            let response = format!("HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}", xml.len());
            conn.write_all(response.as_bytes())?;
            conn.flush()?;
            continue;
        }
        if fault.is_none() && aws_rules.load(Ordering::SeqCst) {
            if let Some((code, msg)) = refusal(upstream, &op, &body)? {
                // A call AWS answers, and a refusal because of another object.
                calls.lock().unwrap().push((op.clone(), Duration::ZERO));
                conflicts.fetch_add(1, Ordering::SeqCst);
                let xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{msg}</Message></Error></Errors><RequestID>rule-{n}</RequestID></Response>");
                let response = format!("HTTP/1.1 400 Bad Request\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}", xml.len());
                conn.write_all(response.as_bytes())?;
                conn.flush()?;
                continue;
            }
        }
        let lose = fault.is_none()
            && is_create(&op)
            && (creates.fetch_add(1, Ordering::SeqCst) + 1).is_multiple_of(lose_every);
        let response = match fault {
            Some((status, code, msg)) => {
                injected.fetch_add(1, Ordering::SeqCst);
                let xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{msg}</Message></Error></Errors><RequestID>fault-{n}</RequestID></Response>");
                format!("HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}", xml.len()).into_bytes()
            }
            None => {
                let started = Instant::now();
                let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
                // Ask the emulator to close after its answer, so the answer ends at EOF.
                up.write_all(head.as_bytes())?;
                up.write_all(b"Connection: close\r\n\r\n")?;
                up.write_all(&body)?;
                let mut resp = Vec::new();
                up.read_to_end(&mut resp)?;
                calls.lock().unwrap().push((op.clone(), started.elapsed()));
                let text = String::from_utf8_lossy(&resp);
                if ["DependencyViolation", "InUse</Code>", "DeleteConflict"]
                    .iter()
                    .any(|c| text.contains(c))
                {
                    conflicts.fetch_add(1, Ordering::SeqCst);
                }
                if lose {
                    // Carried out, but the client never hears of it.
                    lost.fetch_add(1, Ordering::SeqCst);
                    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>InternalError</Code><Message>An internal error has occurred.</Message></Error></Errors></Response>";
                    format!("HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}", xml.len()).into_bytes()
                } else {
                    strip_connection_close(resp)
                }
            }
        };
        conn.write_all(&response)?;
        conn.flush()?;
    }
}

/// Keeps the client's connection usable: drops the emulator's `Connection: close` header.
fn strip_connection_close(resp: Vec<u8>) -> Vec<u8> {
    let Some(split) = resp.windows(4).position(|w| w == b"\r\n\r\n") else {
        return resp;
    };
    let head = String::from_utf8_lossy(&resp[..split]).to_string();
    let kept: Vec<&str> = head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    let mut out = kept.join("\r\n").into_bytes();
    out.extend_from_slice(&resp[split..]);
    out
}

/// The form value `key` of a query-protocol body.
fn form_value<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    body.split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// One query-protocol call to the emulator, as `service` (moto routes by the credential
/// scope): the answer's body.
fn ask(upstream: u16, service: &str, query: &str) -> std::io::Result<String> {
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
    );
    write!(
        up,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{upstream}\r\nAuthorization: {auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{query}",
        query.len()
    )?;
    let mut resp = String::new();
    up.read_to_string(&mut resp)?;
    Ok(resp)
}

/// What AWS would answer a delete that another object still needs, and the emulator does not
/// refuse: the error's code and message, or None to forward the call.
fn refusal(upstream: u16, op: &str, body: &[u8]) -> std::io::Result<Option<(String, String)>> {
    let body = String::from_utf8_lossy(body);
    // NAT gateways that still hold their address and their subnet.
    let nat_gateways = || {
        ask(
            upstream,
            "ec2",
            "Action=DescribeNatGateways&Version=2016-11-15&Filter.1.Name=state&Filter.1.Value.1=pending&Filter.1.Value.2=available&Filter.1.Value.3=deleting",
        )
    };
    let load_balancers = || {
        ask(
            upstream,
            "elasticloadbalancing",
            "Action=DescribeLoadBalancers&Version=2015-12-01",
        )
    };
    Ok(match op {
        "ReleaseAddress" => {
            let Some(id) = form_value(&body, "AllocationId") else {
                return Ok(None);
            };
            nat_gateways()?.contains(&format!(">{id}<")).then(|| {
                (
                    "InvalidIPAddress.InUse".to_string(),
                    format!("Address {id} is in use."),
                )
            })
        }
        "DeleteSecurityGroup" => {
            let Some(id) = form_value(&body, "GroupId") else {
                return Ok(None);
            };
            // Each group's item starts with its own id; a rule of another group that names this
            // one holds its id too (a rule naming its own group does not hold a delete back).
            let tag = format!("<groupId>{id}</groupId>");
            let groups = ask(
                upstream,
                "ec2",
                "Action=DescribeSecurityGroups&Version=2016-11-15",
            )?;
            let referenced = groups
                .split("<item><groupId>")
                .skip(1)
                .any(|g| !g.starts_with(&format!("{id}<")) && g.contains(&tag));
            (referenced || load_balancers()?.contains(&format!(">{id}<"))).then(|| {
                (
                    "DependencyViolation".to_string(),
                    format!("resource {id} has a dependent object"),
                )
            })
        }
        "DeleteSubnet" => {
            let Some(id) = form_value(&body, "SubnetId") else {
                return Ok(None);
            };
            let needle = format!(">{id}<");
            (nat_gateways()?.contains(&needle) || load_balancers()?.contains(&needle)).then(|| {
                (
                    "DependencyViolation".to_string(),
                    format!("The subnet '{id}' has dependencies and cannot be deleted."),
                )
            })
        }
        _ => None,
    })
}

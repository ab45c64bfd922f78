//! A fault-injecting HTTP proxy on loopback, in front of the emulator: every `throttle_every`-th
//! request is answered `503 RequestLimitExceeded` and every `error_every`-th `500 InternalError`,
//! without reaching the emulator (as AWS does when it throttles); the rest are forwarded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub struct FaultProxy {
    pub port: u16,
    pub requests: Arc<AtomicUsize>,
    pub injected: Arc<AtomicUsize>,
}

impl FaultProxy {
    pub fn start(upstream: u16, throttle_every: usize, error_every: usize) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let injected = Arc::new(AtomicUsize::new(0));
        let (r, i) = (requests.clone(), injected.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (r, i) = (r.clone(), i.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, upstream, &r, &i, throttle_every, error_every);
                });
            }
        });
        FaultProxy {
            port,
            requests,
            injected,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn serve(
    conn: TcpStream,
    upstream: u16,
    requests: &AtomicUsize,
    injected: &AtomicUsize,
    throttle_every: usize,
    error_every: usize,
) -> std::io::Result<()> {
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
        let response = match fault {
            Some((status, code, msg)) => {
                injected.fetch_add(1, Ordering::SeqCst);
                let xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{msg}</Message></Error></Errors><RequestID>fault-{n}</RequestID></Response>");
                format!("HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}", xml.len()).into_bytes()
            }
            None => {
                let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
                // Ask the emulator to close after its answer, so the answer ends at EOF.
                up.write_all(head.as_bytes())?;
                up.write_all(b"Connection: close\r\n\r\n")?;
                up.write_all(&body)?;
                let mut resp = Vec::new();
                up.read_to_end(&mut resp)?;
                strip_connection_close(resp)
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

//! The `weft-sim` binary: prints its origin, serves, exits cleanly on
//! SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn prints_its_origin_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft-sim"))
        .args([
            "--port",
            "0",
            "--purchase-orders",
            "3",
            "--fault",
            "wdt:latency_ms=1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("weft-sim starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("a first line");
    let origin = first
        .trim()
        .strip_prefix("weft-sim listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_string();
    assert!(origin.starts_with("http://127.0.0.1:"), "{origin}");
    let port: u16 = origin
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    assert_ne!(port, 0);

    let health = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut stream| {
        use std::io::{Read, Write};
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.write_all(b"GET /_sim/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply)?;
        Ok(reply)
    });
    let health = health.expect("health answers");
    assert!(health.contains("\"purchase-orders\":3"), "{health}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let mut status = None;
    for _ in 0..300 {
        if let Some(s) = child.try_wait().expect("child state") {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("weft-sim did not stop within 30 s of SIGTERM");
    };
    assert!(status.success(), "{status}");
}

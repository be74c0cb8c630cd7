//! The admin endpoints of a running instance: counters match the events processed, /ready flips once caught up, SIGTERM exits 0.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dataflows::decode::Decoder;
use support::*;

/// GET `path`: (status code, body), or `None` while nothing listens.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    s.read_to_string(&mut response).ok()?;
    let code = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())?;
    Some((code, body))
}

/// The value of a metric line `name{labels} value` (labels as written), 0 when absent.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

/// Sum of every series of a metric.
fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// (lines, rejected) of a JSON-lines file, as the decoder sees them.
fn expected_counts(path: &std::path::Path) -> (u64, u64) {
    let text = std::fs::read(path).expect("read");
    let mut d = Decoder::default();
    let (mut n, mut bad) = (0, 0);
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        n += 1;
        bad += u64::from(d.decode_any(None, None, Some(line), i as u64).is_err());
    }
    (n, bad)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Polls until the process has committed everything in the file and says so on /ready.
fn wait_ready(port: u16, events: u64) -> String {
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(120), "never ready");
        if let (Some((ready, _)), Some((200, status))) = (get(port, "/ready"), get(port, "/status"))
        {
            let status: serde_json::Value = serde_json::from_str(&status).expect("status json");
            if status["last_epoch"] == 0 {
                assert_ne!(ready, 200, "ready before anything was committed");
            }
            if ready == 200 && status["events_in"] == events {
                return get(port, "/metrics").expect("metrics").1;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn metrics_match_the_events_and_ready_flips_once_caught_up() {
    let dir = scratch_dir("admin");
    let input = dir.join("events.jsonl");
    generate(&input, 31, 800, 1_200);
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trendflow"))
        .args(["run", "--input"])
        .arg(&input)
        .args(["--sinks", "sqlite", "--sqlite-path"])
        .arg(dir.join("out.db"))
        .args(["--epoch-events", "250", "--admin-addr"])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let health = {
        let started = Instant::now();
        loop {
            if let Some(r) = get(port, "/health") {
                break r;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no admin server"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    assert_eq!(health.0, 200);

    let (lines, rejected) = expected_counts(&input);
    let metrics = wait_ready(port, lines);
    let source = format!(
        "trendflow_events_in_total{{source=\"{}\"}}",
        input.display()
    );
    assert_eq!(metric(&metrics, &source), lines as f64, "{metrics}");
    assert_eq!(
        metric_sum(&metrics, "trendflow_events_rejected_total"),
        rejected as f64
    );
    assert!(rejected > 0);
    assert_eq!(metric(&metrics, "trendflow_ready"), 1.0);
    assert!(metric(&metrics, "trendflow_last_committed_epoch") >= 4.0);
    assert!(metric(&metrics, "trendflow_table_rows{table=\"metric_facts\"}") > 500.0);
    assert!(metric(&metrics, "trendflow_epoch_latency_seconds_count") >= 4.0);

    // Appended lines are followed (like tail -f) and counted.
    let more = dir.join("more.jsonl");
    generate(&more, 32, 0, 300);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&input)
        .expect("append");
    f.write_all(&std::fs::read(&more).expect("read more"))
        .expect("append");
    drop(f);
    let (lines2, rejected2) = expected_counts(&input);
    let metrics = wait_ready(port, lines2);
    assert_eq!(metric(&metrics, &source), lines2 as f64);
    assert_eq!(
        metric_sum(&metrics, "trendflow_events_rejected_total"),
        rejected2 as f64
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert_eq!(child.wait().expect("wait").code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

//! Kafka in, PostgreSQL out, against a real broker and a real database: oracle equality, dead letters, tombstones, kill -9 recovery.

mod support;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dataflows::decode::Decoder;
use dataflows::event::{Event, EventKind};
use dataflows::output::Table;
use support::*;
use trendflow::columns::values;
use trendflow::produce::{ensure_topic, event_key, KafkaProducer};
use trendflow::sources::kafka::KafkaConfig;

/// One message as produced: key and payload (`None` is a tombstone).
type Message = (Option<Vec<u8>>, Option<Vec<u8>>);

struct Topics {
    articles: String,
    results: String,
}

fn topics(name: &str) -> Topics {
    let tag = format!("{}-{name}", std::process::id());
    Topics {
        articles: format!("articles-{tag}"),
        results: format!("results-{tag}"),
    }
}

fn config() -> KafkaConfig {
    KafkaConfig {
        brokers: kafka_brokers(),
        settings: Vec::new(),
    }
}

/// Splits a generated file by kind into keyed messages; unparseable lines go to both
/// topics' streams alternately (they become dead letters).
fn messages(input: &std::path::Path) -> (Vec<Message>, Vec<Message>) {
    let text = std::fs::read(input).expect("read input");
    let (mut articles, mut results) = (Vec::new(), Vec::new());
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let key = event_key(line).map(String::into_bytes);
        let kind = serde_json::from_slice::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(String::from));
        let m = (key, Some(line.to_vec()));
        match kind.as_deref() {
            Some("article") => articles.push(m),
            Some("collector_result") => results.push(m),
            _ if i % 2 == 0 => articles.push(m),
            _ => results.push(m),
        }
    }
    (articles, results)
}

fn produce(topic: &str, messages: &[Message]) {
    ensure_topic(&config(), topic, 3).expect("create topic");
    let producer = KafkaProducer::new(&config()).expect("producer");
    for (key, payload) in messages {
        producer
            .send(topic, key.as_deref(), payload.as_deref(), None)
            .expect("send");
    }
    producer.flush(Duration::from_secs(60)).expect("flush");
}

/// The oracle's tables for the messages of both topics (history tables excluded).
fn oracle(articles: &[Message], results: &[Message]) -> Tables {
    let mut decoder = Decoder::default();
    let mut events: Vec<Event> = Vec::new();
    for (kind, msgs) in [
        (EventKind::Article, articles),
        (EventKind::CollectorResult, results),
    ] {
        for (seq, (key, payload)) in msgs.iter().enumerate() {
            if let Ok(e) =
                decoder.decode_any(Some(kind), key.as_deref(), payload.as_deref(), seq as u64)
            {
                events.push(e);
            }
        }
    }
    let mut rows = dataflows::oracle::metrics_tables(&events);
    rows.extend(dataflows::oracle::trend_tables(
        &events,
        dataflows::graph::GraphConfig::default().trends,
    ));
    let mut tables: Tables = Table::ALL.iter().map(|t| (*t, Vec::new())).collect();
    for (row, _) in rows {
        tables.entry(row.table()).or_default().push(values(&row));
    }
    for rows in tables.values_mut() {
        trendflow::columns::sort_rows(rows);
    }
    tables
}

fn without_history(mut t: Tables) -> Tables {
    t.retain(|table, _| !table.is_history());
    t
}

fn run_command(t: &Topics, url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trendflow"));
    c.args(["run", "--once", "--sinks", "postgres", "--workers", "2"])
        .args(["--kafka-brokers", &kafka_brokers()])
        .args(["--postgres-url", url])
        .args(["--articles-topic", &t.articles])
        .args(["--collector-results-topic", &t.results])
        .args(["--group-id", &format!("g-{}", t.articles)])
        .args(["--epoch-events", "300", "--epoch-interval-ms", "200"])
        .env("RUST_LOG", "warn");
    c
}

fn count(url: &str, sql: &str) -> i64 {
    block_on(async {
        let pool = sqlx::PgPool::connect(url).await.expect("connect");
        sqlx::query_scalar(sql).fetch_one(&pool).await.expect(sql)
    })
}

#[test]
fn kafka_to_postgres_equals_the_oracle_with_dead_letters_and_tombstones() {
    let dir = scratch_dir("kafka-e2e");
    let input = dir.join("events.jsonl");
    generate(&input, 21, 1_500, 2_000);
    let (mut articles, mut results) = messages(&input);
    // Tombstones for some live identities, and bad messages of every kind around them.
    let tombstoned: Vec<Vec<u8>> = results
        .iter()
        .filter_map(|(k, _)| k.clone())
        .step_by(97)
        .take(10)
        .collect();
    for key in &tombstoned {
        results.push((Some(key.clone()), None));
    }
    let article_tombstones: Vec<Vec<u8>> = articles
        .iter()
        .filter_map(|(k, _)| k.clone())
        .step_by(101)
        .take(5)
        .collect();
    for key in &article_tombstones {
        articles.push((Some(key.clone()), None));
    }
    let bad: Vec<Message> = vec![
        (None, Some(b"this is not json".to_vec())),
        (None, Some(vec![0xff, 0xfe, b'{', b'}'])),
        (Some(b"x".to_vec()), Some(br#"{"id":"cr-bad"}"#.to_vec())),
        (
            Some(b"y".to_vec()),
            Some(br#"{"id":"cr-bad2","version":"seven"}"#.to_vec()),
        ),
        (
            Some(b"z".to_vec()),
            Some(format!(r#"{{"id":"big","pad":"{}"}}"#, "a".repeat(2 << 20)).into_bytes()),
        ),
    ];
    let n_bad_results = bad.len();
    results.splice(results.len() / 2..results.len() / 2, bad);
    let t = topics("e2e");
    produce(&t.articles, &articles);
    produce(&t.results, &results);
    let url = create_database("kafka_e2e");

    let out = run_command(&t, &url).output().expect("run trendflow");
    assert!(
        out.status.success(),
        "run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = oracle(&articles, &results);
    assert_tables_eq(
        &without_history(read_postgres(&url)),
        &without_history(expected.clone()),
        "kafka → postgres",
    );
    // Tombstoned identities are gone from every table that had them.
    for key in &tombstoned {
        let id = String::from_utf8_lossy(key);
        for table in ["metric_facts", "collector_results", "brand_metrics"] {
            let col = if table == "brand_metrics" {
                "result_id"
            } else {
                "id"
            };
            let n = count(
                &url,
                &format!("SELECT count(*) FROM {table} WHERE {col} = '{id}'"),
            );
            assert_eq!(n, 0, "{id} still in {table}");
        }
    }
    // Every rejected message is in the dead_letters table with its reason, and the DLQ topic.
    let total_messages = (articles.len() + results.len()) as i64;
    let decoded_ok: i64 = {
        let mut decoder = Decoder::default();
        let mut ok = 0;
        for (kind, msgs) in [
            (EventKind::Article, &articles),
            (EventKind::CollectorResult, &results),
        ] {
            for (key, payload) in msgs.iter() {
                ok += i64::from(
                    decoder
                        .decode_any(Some(kind), key.as_deref(), payload.as_deref(), 0)
                        .is_ok(),
                );
            }
        }
        ok
    };
    let rejected = total_messages - decoded_ok;
    assert!(rejected >= n_bad_results as i64);
    assert_eq!(count(&url, "SELECT count(*) FROM dead_letters"), rejected);
    assert_eq!(
        count(&url, "SELECT sum(events_in)::bigint FROM snapshots"),
        total_messages
    );
    for reason in [
        "not_json",
        "not_utf8",
        "missing_field",
        "wrong_type",
        "too_large",
    ] {
        assert!(
            count(
                &url,
                &format!("SELECT count(*) FROM dead_letters WHERE reason = '{reason}'")
            ) >= 1,
            "no dead letter with reason {reason}"
        );
    }
    let mut reasons = dlq_reasons(&format!("{}.dlq", t.results));
    reasons.extend(dlq_reasons(&format!("{}.dlq", t.articles)));
    assert_eq!(
        reasons.len(),
        rejected as usize,
        "the DLQ topics hold every rejected message"
    );
    assert!(
        reasons.iter().all(|r| !r.is_empty()),
        "every letter has a reason"
    );
    assert!(reasons.iter().any(|r| r == "too_large"));
    drop_database(&url);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `trendflow.reason` header of every message of a topic (read from the start until
/// quiet: tansu's end offsets are not exact, so they cannot be used to count).
fn dlq_reasons(topic: &str) -> Vec<String> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message};
    let consumer: BaseConsumer = config()
        .client_config()
        .set("group.id", format!("count-{topic}"))
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    let meta = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in meta.topics()[0].partitions() {
        tpl.add_partition_offset(topic, p.id(), rdkafka::Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    let mut reasons = Vec::new();
    let mut last = Instant::now();
    while last.elapsed() < Duration::from_secs(3) {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            last = Instant::now();
            let reason = m
                .headers()
                .and_then(|h| h.iter().find(|h| h.key == "trendflow.reason"))
                .and_then(|h| h.value)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default();
            reasons.push(reason);
        }
    }
    reasons
}

#[test]
fn killed_at_random_points_and_restarted_the_tables_equal_an_uninterrupted_run() {
    let dir = scratch_dir("kafka-kill");
    let input = dir.join("events.jsonl");
    generate(&input, 22, 2_000, 4_000);
    let (articles, results) = messages(&input);
    let t = topics("kill");
    produce(&t.articles, &articles);
    produce(&t.results, &results);
    let url = create_database("kafka_kill");
    drop(trendflow::sinks::sql::SqlSink::postgres(&url).expect("migrate"));
    // Kill -9 after pseudo-random delays (fixed seed: reproducible), then run to the end.
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut kills = 0;
    let mut epochs_seen: BTreeMap<i64, i64> = BTreeMap::new();
    for _ in 0..4 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let delay = Duration::from_millis(300 + rng % 2_500);
        let mut child = run_command(&t, &url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let started = Instant::now();
        while started.elapsed() < delay {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if child.try_wait().expect("wait").is_none() {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        child.wait().expect("reap");
        if epochs_seen.is_empty() || kills > 0 {
            let last = count(&url, "SELECT COALESCE(max(epoch), 0) FROM snapshots");
            epochs_seen.insert(kills, last);
        }
    }
    let out = run_command(&t, &url).output().expect("final run");
    assert!(
        out.status.success(),
        "final run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(kills >= 2, "the process was killed mid-run ({kills} times)");
    assert_tables_eq(
        &without_history(read_postgres(&url)),
        &without_history(oracle(&articles, &results)),
        "after kill -9 and restarts",
    );
    // Each message counted once across all committed snapshots.
    assert_eq!(
        count(&url, "SELECT sum(events_in)::bigint FROM snapshots"),
        (articles.len() + results.len()) as i64
    );
    drop_database(&url);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_commits_the_epoch_in_flight_exits_0_and_loses_nothing() {
    let dir = scratch_dir("kafka-sigterm");
    let input = dir.join("events.jsonl");
    generate(&input, 23, 1_000, 3_000);
    let (articles, results) = messages(&input);
    let t = topics("sigterm");
    produce(&t.articles, &articles);
    produce(&t.results, &results);
    let url = create_database("kafka_sigterm");
    drop(trendflow::sinks::sql::SqlSink::postgres(&url).expect("migrate"));
    // Without --once the service would run forever; SIGTERM stops it.
    let service = run_command(&t, &url);
    let args: Vec<String> = service
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .filter(|a| a != "--once")
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trendflow"))
        .args(&args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while count(&url, "SELECT COALESCE(max(epoch), 0) FROM snapshots") < 2 {
        assert!(started.elapsed() < Duration::from_secs(120), "no snapshot");
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert_eq!(exit.code(), Some(0), "graceful exit after SIGTERM");
    let committed = count(&url, "SELECT sum(events_in)::bigint FROM snapshots");
    assert!(committed > 0);
    // A restart picks up exactly where the last snapshot ended.
    let out = run_command(&t, &url).output().expect("restart");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_tables_eq(
        &without_history(read_postgres(&url)),
        &without_history(oracle(&articles, &results)),
        "after SIGTERM and restart",
    );
    assert_eq!(
        count(&url, "SELECT sum(events_in)::bigint FROM snapshots"),
        (articles.len() + results.len()) as i64
    );
    drop_database(&url);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The source closes an epoch early only while the pipeline is idle: with a 60 s interval,
/// an epoch closes once `epoch_min` has passed if no earlier epoch is in flight, and stays
/// open while one is (until that one is committed).
#[test]
fn an_idle_pipeline_gets_input_at_once_and_a_busy_one_in_a_later_epoch() {
    use trendflow::sources::kafka::{KafkaSource, KafkaSourceOptions};
    use trendflow::sources::{InFlight, Source};
    let topic = format!("pace-{}", std::process::id());
    let batch = |from: usize, n: usize| -> Vec<Message> {
        (from..from + n)
            .map(|i| (Some(format!("k{i}").into_bytes()), Some(b"{}".to_vec())))
            .collect()
    };
    produce(&topic, &batch(0, 20));
    let mut source = KafkaSource::open(KafkaSourceOptions {
        config: config(),
        topics: vec![(topic.clone(), EventKind::CollectorResult)],
        group_id: topic.clone(),
        epoch_interval: Duration::from_secs(60),
        epoch_min: Duration::from_millis(100),
        epoch_events: 100_000,
        until_caught_up: false,
        committed: Vec::new(),
    })
    .expect("source");
    let in_flight = InFlight::default();
    source.watch(in_flight.clone());
    // The engine's side: every non-empty epoch is counted in flight when it is cut.
    let cuts = in_flight.clone();
    let (tx, rx) = std::sync::mpsc::channel::<usize>();
    std::thread::spawn(move || {
        while let Ok(Some(epoch)) = source.next_epoch() {
            if epoch.is_empty() {
                continue; // "caught up" after a quiet spell
            }
            cuts.cut();
            if tx.send(epoch.len()).is_err() {
                return;
            }
        }
    });
    // Receives epochs, committing each at once, until `n` messages came; well before 60 s.
    let receive = |n: usize, why: &str| {
        let mut got = 0;
        while got < n {
            got += rx.recv_timeout(Duration::from_secs(30)).expect(why);
            in_flight.committed();
        }
        assert_eq!(got, n);
    };
    // Idle: every epoch is committed as soon as it arrives, so none waits for the interval.
    let started = Instant::now();
    receive(20, "an idle pipeline gets input before the 60 s interval");
    assert!(started.elapsed() < Duration::from_secs(30));
    // Busy: an epoch is in flight, so new input waits in an open epoch…
    in_flight.cut();
    produce(&topic, &batch(20, 5));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        rx.try_recv().is_err(),
        "an epoch closed early while another was in flight"
    );
    // …until that epoch is committed.
    in_flight.committed();
    receive(5, "the open epoch closes once the pipeline is idle");
}

//! Kafka producing: the `produce` command (JSON lines to a topic, keyed from the events), topic creation, and the dead-letter topics.

use std::io::BufRead;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};

use crate::snapshot::DeadLetter;
use crate::sources::kafka::KafkaConfig;

/// Counts failed deliveries and keeps the first error.
#[derive(Default)]
struct Deliveries {
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
}

struct Context(Arc<Deliveries>);

impl ClientContext for Context {}

impl ProducerContext for Context {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.0.failed.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut first) = self.0.first_error.lock() {
                first.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// An idempotent producer that reports failed deliveries on `flush`.
pub struct KafkaProducer {
    producer: ThreadedProducer<Context>,
    deliveries: Arc<Deliveries>,
}

impl KafkaProducer {
    pub fn new(config: &KafkaConfig) -> Result<KafkaProducer, String> {
        let deliveries = Arc::new(Deliveries::default());
        let producer = config
            .client_config()
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .set("message.max.bytes", "16777216")
            .set("message.timeout.ms", "60000")
            .create_with_context(Context(deliveries.clone()))
            .map_err(|e| format!("kafka: creating the producer: {e}"))?;
        Ok(KafkaProducer {
            producer,
            deliveries,
        })
    }

    /// Queues one message, waiting while the local queue is full.
    pub fn send(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        headers: Option<OwnedHeaders>,
    ) -> Result<(), String> {
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic);
        if let Some(k) = key {
            record = record.key(k);
        }
        if let Some(p) = payload {
            record = record.payload(p);
        }
        if let Some(h) = headers {
            record = record.headers(h);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(format!("kafka: producing to {topic}: {e}")),
            }
        }
    }

    /// Waits until every queued message is delivered; fails if any delivery failed.
    pub fn flush(&self, timeout: Duration) -> Result<(), String> {
        self.producer
            .flush(timeout)
            .map_err(|e| format!("kafka: flush: {e}"))?;
        let failed = self.deliveries.failed.swap(0, Ordering::Relaxed);
        if failed > 0 {
            let first = self
                .deliveries
                .first_error
                .lock()
                .ok()
                .and_then(|mut f| f.take())
                .unwrap_or_default();
            return Err(format!(
                "kafka: {failed} messages were not delivered (first error: {first})"
            ));
        }
        Ok(())
    }
}

/// Creates `topic` with `partitions` partitions unless it exists.
pub fn ensure_topic(config: &KafkaConfig, topic: &str, partitions: i32) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> = config
        .client_config()
        .create()
        .map_err(|e| format!("kafka: admin client: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = runtime
        .block_on(admin.create_topics([&new_topic], &options))
        .map_err(|e| format!("kafka: creating topic {topic}: {e}"))?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, code)) => return Err(format!("kafka: creating topic {t}: {code}")),
        }
    }
    Ok(())
}

/// The message key of an event line: `<source>/<external_id>` for articles, `id` for
/// collector results; `None` when the line is not an event object.
pub fn event_key(line: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Keys {
        source: Option<String>,
        external_id: Option<String>,
        id: Option<String>,
    }
    let k: Keys = serde_json::from_slice(line).ok()?;
    match (k.source, k.external_id, k.id) {
        (Some(s), Some(e), _) => Some(format!("{s}/{e}")),
        (_, _, Some(id)) => Some(id),
        _ => None,
    }
}

/// Whether a line is an unversioned delete (`"deleted": true` without `version`), which
/// `produce --tombstones` sends as a Kafka tombstone.
fn is_plain_delete(line: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Delete {
        #[serde(default)]
        deleted: bool,
        version: Option<serde_json::Value>,
    }
    serde_json::from_slice::<Delete>(line).is_ok_and(|d| d.deleted && d.version.is_none())
}

/// Totals of a `produce` run.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProduceStats {
    pub messages: u64,
    pub tombstones: u64,
    pub unkeyed: u64,
    pub bytes: u64,
}

/// Publishes every non-empty line of `input` to `topic`. With `tombstones`, unversioned
/// deletes become tombstones (key, no payload). Lines that are not events are published as
/// they are, without a key (trendflow dead-letters them).
pub fn produce_lines(
    producer: &KafkaProducer,
    topic: &str,
    input: &mut dyn BufRead,
    tombstones: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<ProduceStats, String> {
    let mut stats = ProduceStats::default();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if input
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("reading input: {e}"))?
            == 0
        {
            break;
        }
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let key = event_key(&buf);
        if key.is_none() {
            stats.unkeyed += 1;
        }
        if tombstones && key.is_some() && is_plain_delete(&buf) {
            producer.send(topic, key.as_deref().map(str::as_bytes), None, None)?;
            stats.tombstones += 1;
        } else {
            producer.send(topic, key.as_deref().map(str::as_bytes), Some(&buf), None)?;
        }
        stats.messages += 1;
        stats.bytes += buf.len() as u64;
        if stats.messages % 10_000 == 0 {
            progress(stats.messages);
        }
    }
    producer.flush(Duration::from_secs(120))?;
    progress(stats.messages);
    Ok(stats)
}

/// `trendflow produce`.
pub fn produce(args: &crate::cli::ProduceArgs) -> Result<(), String> {
    let config = args.kafka.config();
    ensure_topic(&config, &args.topic, args.partitions)?;
    let producer = KafkaProducer::new(&config)?;
    let file = std::fs::File::open(&args.input)
        .map_err(|e| format!("--input {}: {e}", args.input.display()))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let started = Instant::now();
    let mut last = Instant::now();
    let stats = produce_lines(
        &producer,
        &args.topic,
        &mut reader,
        args.tombstones,
        &mut |n| {
            if last.elapsed() >= Duration::from_secs(2) {
                last = Instant::now();
                let rate = n as f64 / started.elapsed().as_secs_f64().max(1e-9);
                tracing::info!("produce: {n} messages ({rate:.0}/s)");
            }
        },
    )?;
    println!(
        "produced {} messages ({} tombstones, {} without a key) to {} in {:.2} s",
        stats.messages,
        stats.tombstones,
        stats.unkeyed,
        args.topic,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Sends dead letters to `<topic>.dlq` with the original bytes and the reason in headers.
pub struct DeadLetterTopics {
    producer: KafkaProducer,
}

impl DeadLetterTopics {
    /// Creates the `.dlq` topic of each of `topics`.
    pub fn new(config: &KafkaConfig, topics: &[String]) -> Result<DeadLetterTopics, String> {
        for t in topics {
            ensure_topic(config, &format!("{t}.dlq"), 1)?;
        }
        Ok(DeadLetterTopics {
            producer: KafkaProducer::new(config)?,
        })
    }

    /// Publishes the letters and waits for their delivery.
    pub fn send(&self, letters: &[DeadLetter]) -> Result<(), String> {
        if letters.is_empty() {
            return Ok(());
        }
        for d in letters {
            let partition = d.partition.to_string();
            let offset = d.offset.to_string();
            let headers = OwnedHeaders::new()
                .insert(Header {
                    key: "trendflow.reason",
                    value: Some(d.reason),
                })
                .insert(Header {
                    key: "trendflow.field",
                    value: Some(d.field.as_str()),
                })
                .insert(Header {
                    key: "trendflow.error",
                    value: Some(d.error.as_str()),
                })
                .insert(Header {
                    key: "trendflow.topic",
                    value: Some(d.origin.as_str()),
                })
                .insert(Header {
                    key: "trendflow.partition",
                    value: Some(partition.as_str()),
                })
                .insert(Header {
                    key: "trendflow.offset",
                    value: Some(offset.as_str()),
                });
            self.producer.send(
                &format!("{}.dlq", d.origin),
                d.key.as_deref(),
                d.payload.as_deref(),
                Some(headers),
            )?;
        }
        self.producer.flush(Duration::from_secs(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_event_identity() {
        assert_eq!(
            event_key(br#"{"source":"reuters","external_id":"a1","title":"x"}"#).as_deref(),
            Some("reuters/a1")
        );
        assert_eq!(
            event_key(br#"{"id":"cr-1","version":2}"#).as_deref(),
            Some("cr-1")
        );
        assert_eq!(event_key(b"not json"), None);
        assert!(is_plain_delete(br#"{"id":"cr-1","deleted":true}"#));
        assert!(!is_plain_delete(
            br#"{"id":"cr-1","deleted":true,"version":3}"#
        ));
    }
}

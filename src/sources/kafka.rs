//! The Kafka source: assigned partitions read from trendflow's own stored offsets, cut into epochs by interval and size, with replay for recovery.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dataflows::event::EventKind;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::{EpochInfo, InFlight, RawMessage, Source};
use crate::snapshot::SourceOffset;

/// How to reach the broker: bootstrap servers and any librdkafka settings passed through
/// (security: `security.protocol`, `sasl.mechanism`, `sasl.username`, …).
#[derive(Clone, Debug, Default)]
pub struct KafkaConfig {
    pub brokers: String,
    pub settings: Vec<(String, String)>,
}

impl KafkaConfig {
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        for (k, v) in &self.settings {
            c.set(k, v);
        }
        c
    }
}

/// What the Kafka source reads and how it cuts epochs.
#[derive(Clone, Debug)]
pub struct KafkaSourceOptions {
    pub config: KafkaConfig,
    /// Topics and the event kind each carries.
    pub topics: Vec<(String, EventKind)>,
    /// Consumer group, used only to report progress (offsets are trendflow's own).
    pub group_id: String,
    /// Longest time an epoch stays open once it has a message.
    pub epoch_interval: Duration,
    /// Shortest time an epoch stays open once it has a message: after it, the epoch closes as
    /// soon as no earlier epoch is in flight (so an idle pipeline takes input at once, and a
    /// busy one gets it in larger epochs). `epoch_interval` or more: fixed-interval epochs.
    pub epoch_min: Duration,
    /// Largest number of messages in an epoch.
    pub epoch_events: usize,
    /// Stop once every partition reached the end it had at start (`--once`).
    pub until_caught_up: bool,
    /// Offsets stored with the last committed snapshot: input before them is replayed to
    /// rebuild state and not committed again.
    pub committed: Vec<SourceOffset>,
}

type Tp = (String, i32);

/// A Kafka source over manually assigned partitions.
pub struct KafkaSource {
    consumer: BaseConsumer,
    options: KafkaSourceOptions,
    kinds: BTreeMap<String, (EventKind, Arc<str>)>,
    /// Next offset to read per partition.
    positions: BTreeMap<Tp, i64>,
    /// Replay target per partition (offsets stored with the last snapshot).
    replay_until: BTreeMap<Tp, i64>,
    replaying: bool,
    /// Messages read past the replay target while other partitions were still replaying.
    held: Vec<RawMessage>,
    /// End offsets at start, for `until_caught_up`.
    stop_at: Option<BTreeMap<Tp, i64>>,
    /// End offsets as last fetched (for lag), refreshed with the metadata.
    end_offsets: BTreeMap<Tp, i64>,
    /// An empty epoch already said "caught up" since the last message.
    reported_caught_up: bool,
    last_info: EpochInfo,
    /// Time spent polling without a message since the last one (`until_caught_up` also waits
    /// for a quiet spell). Only polls count: while the engine applies back-pressure the source
    /// does not poll, and that silence says nothing about the broker.
    quiet: Duration,
    /// What the metadata thread last read: new partitions and end offsets.
    broker_views: Receiver<BrokerView>,
    /// Dropped with the source, which stops the metadata thread.
    _stop_watching: Sender<()>,
    last_error_log: Option<Instant>,
    /// The engine's epochs in flight, once it has handed them over ([`Source::watch`]).
    in_flight: Option<InFlight>,
}

/// Partitions and end offsets as the metadata thread read them.
struct BrokerView {
    partitions: Vec<Tp>,
    end_offsets: BTreeMap<Tp, i64>,
}

/// The partitions of `topics` the broker reports (a topic it cannot describe yet is skipped,
/// with a warning, and tried again at the next refresh).
fn topic_partitions(consumer: &BaseConsumer, topics: &[String]) -> Vec<Tp> {
    let mut out = Vec::new();
    for topic in topics {
        let metadata = match consumer.fetch_metadata(Some(topic), METADATA_TIMEOUT) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(%topic, "kafka: cannot read topic metadata (will retry): {e}");
                continue;
            }
        };
        for t in metadata.topics() {
            if t.error().is_some() {
                tracing::warn!(
                    topic = t.name(),
                    "kafka: topic not available yet: {:?}",
                    t.error()
                );
                continue;
            }
            out.extend(
                t.partitions()
                    .iter()
                    .map(|p| (t.name().to_string(), p.id())),
            );
        }
    }
    out
}

/// Reads partitions and end offsets every `METADATA_REFRESH` on a thread and client of its
/// own, so that slow metadata requests (seconds, on some brokers) never hold up polling.
/// Stops when `stop` is dropped.
fn watch_broker(
    config: &ClientConfig,
    topics: Vec<String>,
    views: std::sync::mpsc::Sender<BrokerView>,
    stop: Receiver<()>,
) -> std::io::Result<()> {
    let client: BaseConsumer = config
        .create()
        .map_err(|e| io_error("creating the metadata client", e))?;
    std::thread::Builder::new()
        .name("trendflow-kafka-metadata".into())
        .spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stop.recv_timeout(METADATA_REFRESH)
            {
                let partitions = topic_partitions(&client, &topics);
                let mut end_offsets = BTreeMap::new();
                for (topic, partition) in &partitions {
                    if let Ok((_, high)) =
                        client.fetch_watermarks(topic, *partition, Duration::from_secs(1))
                    {
                        end_offsets.insert((topic.clone(), *partition), high);
                    }
                }
                let view = BrokerView {
                    partitions,
                    end_offsets,
                };
                if views.send(view).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| io_error("starting the metadata thread", e))?;
    Ok(())
}

impl KafkaSource {
    /// An epoch opened at `opened` may close before its interval: it is `epoch_min` old and
    /// every earlier epoch is committed, so holding it open would only delay its rows.
    fn may_close_early(&self, opened: Instant) -> bool {
        opened.elapsed() >= self.options.epoch_min
            && self.in_flight.as_ref().is_some_and(InFlight::is_idle)
    }
}

fn io_error(what: &str, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("kafka: {what}: {e}"))
}

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
const METADATA_REFRESH: Duration = Duration::from_secs(10);
const CAUGHT_UP_QUIET: Duration = Duration::from_secs(2);
/// Longest poll while an epoch is open (how late an idle pipeline is noticed).
const IDLE_CHECK: Duration = Duration::from_millis(5);

impl KafkaSource {
    pub fn open(options: KafkaSourceOptions) -> std::io::Result<KafkaSource> {
        let consumer: BaseConsumer = options
            .config
            .client_config()
            .set("group.id", &options.group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("auto.offset.reset", "earliest")
            .create()
            .map_err(|e| io_error("creating the consumer", e))?;
        let kinds = options
            .topics
            .iter()
            .map(|(t, k)| (t.clone(), (*k, Arc::from(t.as_str()))))
            .collect();
        let (views, broker_views) = std::sync::mpsc::channel();
        let (stop_watching, stop) = std::sync::mpsc::channel();
        watch_broker(
            &options.config.client_config(),
            options.topics.iter().map(|(t, _)| t.clone()).collect(),
            views,
            stop,
        )?;
        let replay_until: BTreeMap<Tp, i64> = options
            .committed
            .iter()
            .filter(|o| o.next_offset > 0)
            .map(|o| ((o.source.clone(), o.partition), o.next_offset))
            .collect();
        let mut source = KafkaSource {
            consumer,
            replaying: !replay_until.is_empty(),
            replay_until,
            options,
            kinds,
            positions: BTreeMap::new(),
            held: Vec::new(),
            stop_at: None,
            end_offsets: BTreeMap::new(),
            reported_caught_up: false,
            last_info: EpochInfo::default(),
            quiet: Duration::ZERO,
            broker_views,
            _stop_watching: stop_watching,
            last_error_log: None,
            in_flight: None,
        };
        source.refresh_partitions()?;
        if source.options.until_caught_up {
            let mut stop_at = BTreeMap::new();
            for (topic, partition) in source.positions.keys() {
                let (_, high) = source
                    .consumer
                    .fetch_watermarks(topic, *partition, METADATA_TIMEOUT)
                    .map_err(|e| io_error(&format!("end offsets of {topic}/{partition}"), e))?;
                stop_at.insert((topic.clone(), *partition), high);
            }
            tracing::debug!(?stop_at, "kafka: end offsets at start");
            source.end_offsets.clone_from(&stop_at);
            source.stop_at = Some(stop_at);
        }
        Ok(source)
    }

    /// Assigns every partition of the topics (new ones included), all from the beginning:
    /// recovery replays up to the stored offsets, then continues.
    fn refresh_partitions(&mut self) -> std::io::Result<()> {
        let topics: Vec<String> = self.kinds.keys().cloned().collect();
        let partitions = topic_partitions(&self.consumer, &topics);
        self.add_partitions(partitions)
    }

    /// Takes what the metadata thread read since the last call: assigns new partitions and
    /// keeps the end offsets (for lag).
    fn apply_broker_views(&mut self) -> std::io::Result<()> {
        while let Ok(view) = self.broker_views.try_recv() {
            self.end_offsets.extend(view.end_offsets);
            self.add_partitions(view.partitions)?;
        }
        Ok(())
    }

    /// Assigns the partitions not assigned yet, from the beginning.
    fn add_partitions(&mut self, partitions: Vec<Tp>) -> std::io::Result<()> {
        let mut added = false;
        for key in partitions {
            if let std::collections::btree_map::Entry::Vacant(e) = self.positions.entry(key) {
                e.insert(0);
                added = true;
            }
        }
        if added {
            let mut tpl = TopicPartitionList::new();
            for ((topic, partition), pos) in &self.positions {
                tpl.add_partition_offset(topic, *partition, Offset::Offset(*pos))
                    .map_err(|e| io_error("assignment", e))?;
            }
            self.consumer
                .assign(&tpl)
                .map_err(|e| io_error("assigning partitions", e))?;
            tracing::info!(
                partitions = self.positions.len(),
                "kafka: reading {} partitions",
                self.positions.len()
            );
        }
        Ok(())
    }

    /// Fetches the end offset of every partition (for lag; a slow broker just leaves the
    /// old values).
    fn refresh_end_offsets(&mut self) {
        for (topic, partition) in self.positions.keys() {
            if let Ok((_, high)) =
                self.consumer
                    .fetch_watermarks(topic, *partition, Duration::from_secs(1))
            {
                self.end_offsets.insert((topic.clone(), *partition), high);
            }
        }
    }

    /// Every partition reached the end offset it had at start, and polls found nothing for
    /// `CAUGHT_UP_QUIET`. The quiet spell matters with brokers whose end offsets lag (tansu
    /// 0.6 reports the base offset of the last record batch + 1, not the last offset + 1).
    fn caught_up(&self) -> bool {
        self.stop_at.as_ref().is_some_and(|stop| {
            stop.iter()
                .all(|(tp, high)| self.positions.get(tp).copied().unwrap_or(0) >= *high)
        }) && self.quiet >= CAUGHT_UP_QUIET
    }

    fn replay_done(&self) -> bool {
        self.replay_until
            .iter()
            .all(|(tp, until)| self.positions.get(tp).copied().unwrap_or(0) >= *until)
    }

    fn offsets(&self) -> Vec<SourceOffset> {
        self.positions
            .iter()
            .map(|((topic, partition), next)| SourceOffset {
                source: topic.clone(),
                partition: *partition,
                next_offset: *next,
            })
            .collect()
    }

    /// Positions of the partitions (next offset to read).
    pub fn positions(&self) -> &BTreeMap<(String, i32), i64> {
        &self.positions
    }
}

impl Source for KafkaSource {
    fn origin(&self) -> String {
        self.kinds.keys().cloned().collect::<Vec<_>>().join(",")
    }

    fn by_partition(&self) -> bool {
        true
    }

    fn epoch_info(&self) -> EpochInfo {
        self.last_info.clone()
    }

    fn watch(&mut self, in_flight: InFlight) {
        self.in_flight = Some(in_flight);
    }

    fn next_epoch(&mut self) -> std::io::Result<Option<Vec<RawMessage>>> {
        let replay = self.replaying;
        let mut batch: Vec<RawMessage> = if replay {
            Vec::new()
        } else {
            std::mem::take(&mut self.held)
        };
        let mut opened: Option<Instant> = (!batch.is_empty()).then(Instant::now);
        loop {
            if crate::shutdown::requested() {
                self.replaying = false;
                break;
            }
            if replay && self.replay_done() {
                self.replaying = false;
                break;
            }
            if !replay && self.caught_up() && self.held.is_empty() {
                break;
            }
            if batch.len() >= self.options.epoch_events {
                break;
            }
            if opened.is_some_and(|t| t.elapsed() >= self.options.epoch_interval) {
                break;
            }
            if !replay && opened.is_some_and(|t| self.may_close_early(t)) {
                break;
            }
            self.apply_broker_views()?;
            // Following the topics: after a quiet spell, one empty epoch says "caught up".
            if !replay
                && self.stop_at.is_none()
                && batch.is_empty()
                && !self.reported_caught_up
                && self.quiet >= CAUGHT_UP_QUIET
            {
                self.reported_caught_up = true;
                self.refresh_end_offsets();
                self.last_info = EpochInfo {
                    offsets: self.offsets(),
                    replay: false,
                    end_offsets: self.end_offsets.clone(),
                    caught_up: true,
                };
                return Ok(Some(Vec::new()));
            }
            // An open epoch polls in short steps, to notice the pipeline falling idle.
            let wait = opened.map_or(Duration::from_millis(200), |t| {
                self.options
                    .epoch_interval
                    .saturating_sub(t.elapsed())
                    .min(IDLE_CHECK)
            });
            let polled = Instant::now();
            let Some(result) = self.consumer.poll(wait) else {
                self.quiet += polled.elapsed();
                continue;
            };
            let message = match result {
                Ok(m) => m,
                Err(e) => {
                    if self
                        .last_error_log
                        .is_none_or(|t| t.elapsed() >= Duration::from_secs(10))
                    {
                        self.last_error_log = Some(Instant::now());
                        tracing::warn!("kafka: consumer error (retrying): {e}");
                    }
                    continue;
                }
            };
            let Some((kind, topic)) = self.kinds.get(message.topic()) else {
                continue;
            };
            let tp = (message.topic().to_string(), message.partition());
            let offset = message.offset();
            let expected = self.positions.get(&tp).copied().unwrap_or(0);
            if offset < expected {
                continue; // re-delivered after a reassignment
            }
            let raw = RawMessage {
                kind: Some(*kind),
                key: message.key().map(<[u8]>::to_vec),
                payload: message.payload().map(<[u8]>::to_vec),
                seq: u64::try_from(offset).unwrap_or(0),
                partition: message.partition(),
                topic: Some(topic.clone()),
            };
            self.positions.insert(tp.clone(), offset + 1);
            self.quiet = Duration::ZERO;
            self.reported_caught_up = false;
            if replay && offset >= self.replay_until.get(&tp).copied().unwrap_or(0) {
                self.held.push(raw);
            } else {
                batch.push(raw);
                opened.get_or_insert_with(Instant::now);
            }
        }
        let mut offsets = self.offsets();
        if replay {
            // A replay epoch ends exactly at the stored offsets.
            for o in &mut offsets {
                if let Some(until) = self.replay_until.get(&(o.source.clone(), o.partition)) {
                    o.next_offset = o.next_offset.min(*until);
                }
            }
            tracing::info!(
                messages = batch.len(),
                "kafka: replayed input up to the stored offsets"
            );
        }
        let caught_up = !replay && self.caught_up();
        self.last_info = EpochInfo {
            offsets,
            replay,
            end_offsets: self.end_offsets.clone(),
            caught_up,
        };
        if (batch.is_empty() && !replay) || (replay && crate::shutdown::requested()) {
            // Nothing more (or a shutdown during replay: nothing new to commit).
            return Ok(None);
        }
        Ok(Some(batch))
    }
}

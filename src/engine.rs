//! Runs the graph on timely workers: feeds source epochs in, collects each completed epoch's output into a `Snapshot`.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use dataflows::blobs::{BlobStore, MemBlobs};
use dataflows::decode::Decoder;
use dataflows::differential_dataflow::input::Input;
use dataflows::event::Event;
use dataflows::output::Row;
use dataflows::trends::ledger::TrendLedger;

use crate::snapshot::{DeadLetter, RowBatch, RowVecPool, Snapshot};
use crate::sources::{EpochInfo, InFlight, RawMessage, Source};
use crate::spill::FileBlobs;

/// How the engine runs.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    pub workers: usize,
    pub decoder: Decoder,
    /// Epochs a source may run ahead of the sinks before it waits (back-pressure).
    pub max_epochs_in_flight: usize,
    pub graph: dataflows::graph::GraphConfig,
    /// Where each worker's replace rule keeps the collector results it holds.
    pub answers: AnswerStore,
}

/// Where each worker's replace rules keep the collector results and article headlines they
/// hold, serialized (the operators' state keeps 12 bytes per record pointing there).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AnswerStore {
    /// In memory (about 0.6 KB per answer in the generated workload).
    #[default]
    Memory,
    /// In one scratch file per worker in this folder, unlinked at once: the space goes back
    /// when the process ends, however it ends.
    Disk(std::path::PathBuf),
}

impl AnswerStore {
    /// One store per worker.
    fn open(&self, workers: usize) -> std::io::Result<Vec<Box<dyn BlobStore>>> {
        (0..workers)
            .map(|w| -> std::io::Result<Box<dyn BlobStore>> {
                Ok(match self {
                    AnswerStore::Memory => Box::new(MemBlobs::default()),
                    AnswerStore::Disk(dir) => Box::new(
                        FileBlobs::create(dir, &format!("answers-w{w}")).map_err(|e| {
                            std::io::Error::new(
                                e.kind(),
                                format!("answer store in {}: {e}", dir.display()),
                            )
                        })?,
                    ),
                })
            })
            .collect()
    }
}

/// Totals of a run.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    pub epochs: u64,
    pub events_in: u64,
    pub rejected: u64,
    pub rejected_by_reason: HashMap<&'static str, u64>,
    pub elapsed: Duration,
}

enum WorkerInput {
    Epoch(u64, Vec<RawMessage>),
    /// Other threads freed what this worker allocated (a committed snapshot's rows): give the
    /// pages back, unless an epoch is waiting.
    Release,
}

/// A worker's next epoch, if any. When none is queued, the worker first gives its free memory
/// back to the OS (it is about to idle), and again on each `Release` that finds it idle:
/// memory another thread frees lands on the pages of the thread that allocated it, and an
/// idle thread's allocator never looks at them (a loaded engine stayed at 3.5× its state).
fn next_epoch(rx: &Receiver<WorkerInput>) -> Option<(u64, Vec<RawMessage>)> {
    loop {
        let input = match rx.try_recv() {
            Ok(input) => input,
            Err(mpsc::TryRecvError::Disconnected) => return None,
            Err(mpsc::TryRecvError::Empty) => {
                crate::memory::release_free_memory();
                rx.recv().ok()?
            }
        };
        if let WorkerInput::Epoch(epoch, messages) = input {
            return Some((epoch, messages));
        }
    }
}

/// Frees committed snapshots on a thread of its own: a backfill epoch's snapshot holds
/// millions of strings and takes ~0.1 s to free, which would otherwise delay the next epoch's
/// commit. At most two wait, so memory stays bounded. Their tables' emptied vectors go back
/// to the snapshot assembler (`RowVecPool::recycle`). Once none waits, it asks the workers, who
/// allocated the rows, to give the freed pages back (`WorkerInput::Release`).
struct Freer(Option<SyncSender<Snapshot>>);

impl Freer {
    /// `workers` is the source thread's: it goes when the source ends, so the workers' inputs
    /// close whatever this thread is doing.
    fn spawn(workers: Weak<Vec<SyncSender<WorkerInput>>>, vecs: RowVecPool) -> Freer {
        let (tx, rx) = mpsc::sync_channel::<Snapshot>(2);
        let spawned = std::thread::Builder::new()
            .name("trendflow-free".into())
            .spawn(move || {
                let mut next = rx.recv().ok();
                while let Some(snapshot) = next {
                    vecs.recycle(snapshot);
                    next = match rx.try_recv() {
                        Ok(snapshot) => Some(snapshot),
                        Err(mpsc::TryRecvError::Disconnected) => None,
                        Err(mpsc::TryRecvError::Empty) => {
                            if let Some(workers) = workers.upgrade() {
                                for tx in workers.iter() {
                                    // A full queue is a busy worker: it releases when it idles.
                                    let _ = tx.try_send(WorkerInput::Release);
                                }
                            }
                            rx.recv().ok()
                        }
                    };
                }
            });
        Freer(spawned.ok().map(|_| tx))
    }

    fn free(&self, snapshot: Snapshot) {
        if let Some(tx) = &self.0 {
            // If the thread is gone, the snapshot comes back and is freed here.
            let _ = tx.send(snapshot);
        }
    }
}

enum Output {
    /// One worker's share of an epoch's row changes, in the batches the graph made them:
    /// each row's changes come from the worker whose operator owns its key.
    Rows(u64, Vec<RowBatch>),
    Watermark(Vec<(i64, u64, isize)>),
    Decoded {
        epoch: u64,
        events_in: u64,
        dead_letters: Vec<DeadLetter>,
    },
    Complete(u64),
    Info(u64, EpochInfo, BTreeMap<String, u64>),
}

/// Runs `source` through the graph until it is exhausted, handing each completed epoch to
/// `commit` in epoch order (it may number it), then freeing it. An error from `commit` stops
/// the run.
pub fn run<S, C, E>(
    options: &EngineOptions,
    mut source: S,
    mut commit: C,
) -> Result<RunStats, EngineError<E>>
where
    S: Source + 'static,
    C: FnMut(&mut Snapshot) -> Result<(), E>,
{
    let started = Instant::now();
    let workers = options.workers.max(1);
    let origin = source.origin();
    // Epochs cut and not yet committed: the source may close an epoch early when none are.
    let in_flight = InFlight::default();
    source.watch(in_flight.clone());
    let cuts = in_flight.clone();
    let (out_tx, out_rx) = mpsc::channel::<Output>();
    let mut worker_txs: Vec<SyncSender<WorkerInput>> = Vec::new();
    let mut worker_rxs: Vec<Option<Receiver<WorkerInput>>> = Vec::new();
    for _ in 0..workers {
        let (tx, rx) = mpsc::sync_channel(options.max_epochs_in_flight.max(1));
        worker_txs.push(tx);
        worker_rxs.push(Some(rx));
    }
    let worker_txs = Arc::new(worker_txs);
    let row_vecs = RowVecPool::default();
    let freer = Freer::spawn(Arc::downgrade(&worker_txs), row_vecs.clone());
    let worker_rxs = Arc::new(Mutex::new(worker_rxs));
    let stores: Vec<Option<Box<dyn BlobStore>>> = options
        .answers
        .open(workers)
        .map_err(EngineError::Io)?
        .into_iter()
        .map(Some)
        .collect();
    let stores = Arc::new(Mutex::new(stores));
    let info_tx = out_tx.clone();
    let out_for_workers = Arc::new(Mutex::new(out_tx));
    let decoder = options.decoder.clone();
    let graph_config = options.graph;

    let guards = timely::execute(timely::Config::process(workers), move |worker| {
        let index = worker.index();
        let mut decoder = decoder.clone();
        let rx = worker_rxs
            .lock()
            .ok()
            .and_then(|mut v| v[index].take())
            .expect("each worker takes its own input channel once");
        let answers = stores
            .lock()
            .ok()
            .and_then(|mut v| v[index].take())
            .expect("each worker takes its own answer store once");
        let out: Sender<Output> = out_for_workers.lock().expect("output channel").clone();
        let rows_out = out.clone();
        let (mut input, probe) = worker.dataflow::<u64, _, _>(|scope| {
            let (input, events) = scope.new_collection::<Event, isize>();
            let outputs = dataflows::graph::build(events, graph_config, answers);
            let watermark_out = rows_out.clone();
            let (probe, _) = outputs
                .watermark
                .inspect_batch(move |_, updates| {
                    if !updates.is_empty() {
                        let _ = watermark_out.send(Output::Watermark(updates.to_vec()));
                    }
                })
                .probe();
            timely::dataflow::operators::Probe::probe_with(
                snapshot_rows(outputs.rows, rows_out),
                &probe,
            );
            (input, probe)
        });
        while let Some((epoch, messages)) = next_epoch(&rx) {
            let mut dead_letters = Vec::new();
            let events_in = messages.len() as u64;
            for m in messages {
                match decoder.decode_any(m.kind, m.key.as_deref(), m.payload.as_deref(), m.seq) {
                    Ok(event) => input.insert(event),
                    Err(e) => dead_letters.push(DeadLetter {
                        origin: m.topic.as_deref().unwrap_or_default().to_string(),
                        partition: m.partition,
                        offset: m.seq,
                        field: e.field.clone(),
                        reason: e.problem.reason(),
                        error: e.to_string(),
                        key: m.key,
                        payload: m.payload,
                    }),
                }
            }
            let _ = out.send(Output::Decoded {
                epoch,
                events_in,
                dead_letters,
            });
            input.advance_to(epoch + 1);
            input.flush();
            // Park while waiting on the other workers (woken by their messages): a spinning
            // worker takes a core from the source, the snapshot assembler and its peers.
            while probe.less_than(input.time()) {
                worker.step_or_park(None);
            }
            if index == 0 {
                let _ = out.send(Output::Complete(epoch));
            }
        }
    })
    .map_err(EngineError::Timely)?;

    // The source runs on its own thread; snapshots are assembled on this one.
    let feeder = std::thread::Builder::new()
        .name("trendflow-source".into())
        .spawn(move || -> std::io::Result<()> {
            let mut epoch = 0u64;
            let by_partition = source.by_partition();
            let source_origin = source.origin();
            while let Some(messages) = source.next_epoch()? {
                let by_origin = count_by_origin(&messages, &source_origin);
                let info = Output::Info(epoch, source.epoch_info(), by_origin);
                cuts.cut();
                if info_tx.send(info).is_err() {
                    return Ok(());
                }
                let n = worker_txs.len();
                let mut shares: Vec<Vec<RawMessage>> = (0..n)
                    .map(|_| Vec::with_capacity(messages.len().div_ceil(n)))
                    .collect();
                for (i, m) in messages.into_iter().enumerate() {
                    let w = if by_partition {
                        m.partition.unsigned_abs() as usize % n
                    } else {
                        i % n
                    };
                    shares[w].push(m);
                }
                for (tx, share) in worker_txs.iter().zip(shares) {
                    if tx.send(WorkerInput::Epoch(epoch, share)).is_err() {
                        return Ok(());
                    }
                }
                epoch += 1;
                // The workers free what this thread read; its pages come back here.
                crate::memory::release_free_memory();
            }
            Ok(())
        })
        .map_err(EngineError::Io)?;

    let mut stats = RunStats::default();
    let mut pending: HashMap<u64, Snapshot> = HashMap::new();
    // Each epoch's row changes in the batches the workers sent.
    let mut rows: HashMap<u64, Vec<RowBatch>> = HashMap::new();
    let mut watermark_updates: HashMap<u64, Vec<(i64, i64)>> = HashMap::new();
    let mut watermark: BTreeMap<i64, i64> = BTreeMap::new();
    let mut ledger = TrendLedger::new(options.graph.trends.window_ms);
    loop {
        let message = match out_rx.try_recv() {
            Ok(m) => m,
            Err(mpsc::TryRecvError::Disconnected) => break,
            Err(mpsc::TryRecvError::Empty) => {
                // No epoch cut and not yet complete: the engine is about to idle.
                if pending.is_empty() && rows.is_empty() {
                    row_vecs.release();
                }
                match out_rx.recv() {
                    Ok(m) => m,
                    Err(_) => break,
                }
            }
        };
        match message {
            Output::Watermark(updates) => {
                for (wm, t, d) in updates {
                    watermark_updates.entry(t).or_default().push((wm, d as i64));
                }
            }
            Output::Rows(epoch, mut batches) => rows.entry(epoch).or_default().append(&mut batches),
            Output::Decoded {
                epoch,
                events_in,
                mut dead_letters,
            } => {
                let p = pending.entry(epoch).or_default();
                p.events_in += events_in;
                p.rejected += dead_letters.len() as u64;
                for d in &mut dead_letters {
                    if d.origin.is_empty() {
                        d.origin.clone_from(&origin);
                    }
                }
                p.dead_letters.append(&mut dead_letters);
            }
            Output::Info(epoch, info, by_origin) => {
                let p = pending.entry(epoch).or_default();
                p.offsets = info.offsets;
                p.replay = info.replay;
                p.end_offsets = info.end_offsets;
                p.caught_up = info.caught_up;
                p.events_by_origin = by_origin;
                p.cut_at = Some(Instant::now());
            }
            Output::Complete(epoch) => {
                let counts = pending.remove(&epoch).unwrap_or_default();
                for (wm, d) in watermark_updates.remove(&epoch).unwrap_or_default() {
                    *watermark.entry(wm).or_insert(0) += d;
                }
                watermark.retain(|_, n| *n != 0);
                let wm = watermark.keys().next_back().copied();
                let mut shares = rows.remove(&epoch).unwrap_or_default();
                let history =
                    ledger.apply(shares.iter().flatten().map(|(r, _, d)| (r, *d as i64)), wm);
                shares.push(
                    history
                        .upserts
                        .into_iter()
                        .map(|r| (r, epoch, 1))
                        .chain(history.deletes.into_iter().map(|r| (r, epoch, -1)))
                        .collect(),
                );
                let mut snapshot = Snapshot::from_shares_in(epoch, shares, &row_vecs);
                snapshot.watermark = wm;
                snapshot.events_in = counts.events_in;
                snapshot.rejected = counts.rejected;
                snapshot.dead_letters = counts.dead_letters;
                snapshot.offsets = counts.offsets;
                snapshot.replay = counts.replay;
                snapshot.end_offsets = counts.end_offsets;
                snapshot.caught_up = counts.caught_up;
                snapshot.events_by_origin = counts.events_by_origin;
                snapshot.cut_at = counts.cut_at;
                snapshot
                    .dead_letters
                    .sort_by_key(|d| (d.partition, d.offset));
                stats.epochs += 1;
                stats.events_in += snapshot.events_in;
                stats.rejected += snapshot.rejected;
                for d in &snapshot.dead_letters {
                    *stats.rejected_by_reason.entry(d.reason).or_insert(0) += 1;
                }
                commit(&mut snapshot).map_err(EngineError::Sink)?;
                freer.free(snapshot);
                in_flight.committed();
            }
        }
    }
    feeder
        .join()
        .map_err(|_| EngineError::Panic("source thread"))?
        .map_err(EngineError::Io)?;
    for guard in guards.join() {
        guard.map_err(EngineError::Timely)?;
    }
    stats.elapsed = started.elapsed();
    Ok(stats)
}

/// Sends each completed epoch's row changes to the snapshot assembler, in the batches they
/// came in. Rows stay on the worker that made them: the graph's keyed operators emit each key's
/// changes on one worker, so an unchanged row's retraction and re-insertion (a corrected answer
/// whose competitor rows did not change) meet there and cancel (`keyed::cancel_retracted`).
/// Were they apart, the snapshot would still be right (a key removed and written again is a
/// replacement), only with one more write. A capability is held for stashed rows until they
/// are sent, so a probe after this operator passes an epoch only once its rows are on the
/// channel.
fn snapshot_rows<'scope>(
    rows: dataflows::differential_dataflow::VecCollection<'scope, u64, Row>,
    out: Sender<Output>,
) -> timely::dataflow::Stream<'scope, u64, Vec<()>> {
    use timely::dataflow::channels::pact::Pipeline;
    use timely::dataflow::operators::Operator;
    rows.inner
        .unary_frontier::<timely::container::CapacityContainerBuilder<Vec<()>>, _, _, _>(
            Pipeline,
            "SnapshotRows",
            move |_, _| {
                let mut stash = dataflows::keyed::Stash::<u64, Row>::default();
                move |(input, frontier), _output| {
                    input.for_each(|cap, data| stash.absorb(&cap, data));
                    stash.complete_batches(frontier, |cap, mut batches| {
                        dataflows::keyed::cancel_retracted(&mut batches, Row::key_hash);
                        batches.retain(|b| !b.is_empty());
                        if !batches.is_empty() {
                            let _ = out.send(Output::Rows(*cap.time(), batches));
                        }
                    });
                }
            },
        )
}

/// Messages per origin (topic, or `source_origin` for messages without one), counted by runs
/// of one origin: a file's epoch is one run, a Kafka epoch a few per topic.
fn count_by_origin(messages: &[RawMessage], source_origin: &str) -> BTreeMap<String, u64> {
    fn origin<'a>(m: &'a RawMessage, source_origin: &'a str) -> &'a str {
        m.topic.as_deref().unwrap_or(source_origin)
    }
    let mut by_origin: BTreeMap<String, u64> = BTreeMap::new();
    for run in messages.chunk_by(|a, b| origin(a, source_origin) == origin(b, source_origin)) {
        let o = origin(&run[0], source_origin);
        match by_origin.get_mut(o) {
            Some(n) => *n += run.len() as u64,
            None => {
                by_origin.insert(o.to_string(), run.len() as u64);
            }
        }
    }
    by_origin
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum EngineError<E> {
    #[error("reading the source: {0}")]
    Io(std::io::Error),
    #[error("timely: {0}")]
    Timely(String),
    #[error("a {0} panicked")]
    Panic(&'static str),
    #[error("sink: {0}")]
    Sink(E),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(topic: Option<&str>) -> RawMessage {
        RawMessage {
            kind: None,
            key: None,
            payload: None,
            seq: 0,
            partition: 0,
            topic: topic.map(Arc::from),
        }
    }

    #[test]
    fn messages_are_counted_by_origin_across_runs() {
        let messages: Vec<RawMessage> = [Some("a"), Some("a"), None, Some("b"), Some("a"), None]
            .into_iter()
            .map(message)
            .collect();
        let counts = count_by_origin(&messages, "file.jsonl");
        let expected: BTreeMap<String, u64> = [("a", 3), ("b", 1), ("file.jsonl", 2)]
            .into_iter()
            .map(|(o, n)| (o.to_string(), n))
            .collect();
        assert_eq!(counts, expected);
        assert!(count_by_origin(&[], "file.jsonl").is_empty());
    }

    #[test]
    fn a_worker_takes_its_epochs_in_order_past_release_requests() {
        let (tx, rx) = mpsc::sync_channel(8);
        let inputs = [
            WorkerInput::Release,
            WorkerInput::Epoch(0, vec![message(None)]),
            WorkerInput::Release,
            WorkerInput::Release,
            WorkerInput::Epoch(1, vec![]),
            WorkerInput::Release,
        ];
        for input in inputs {
            tx.send(input).expect("the queue holds them all");
        }
        drop(tx);
        let (e, m) = next_epoch(&rx).expect("epoch 0");
        assert_eq!((e, m.len()), (0, 1));
        assert_eq!(next_epoch(&rx).map(|(e, _)| e), Some(1));
        assert!(next_epoch(&rx).is_none(), "the input closed");
    }

    #[test]
    fn the_freer_asks_idle_workers_to_release_and_never_keeps_their_inputs_open() {
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..2).map(|_| mpsc::sync_channel(2)).unzip();
        let txs = Arc::new(txs);
        let freer = Freer::spawn(Arc::downgrade(&txs), RowVecPool::default());
        freer.free(Snapshot::default());
        for rx in &rxs {
            let got = rx.recv_timeout(Duration::from_secs(10));
            assert!(
                matches!(got, Ok(WorkerInput::Release)),
                "each worker is asked to release once the snapshot is freed"
            );
        }
        // The source ends: the workers' inputs close although the freer is still running.
        drop(txs);
        for rx in &rxs {
            assert!(matches!(
                rx.recv_timeout(Duration::from_secs(10)),
                Err(mpsc::RecvTimeoutError::Disconnected)
            ));
        }
        drop(freer);
    }
}

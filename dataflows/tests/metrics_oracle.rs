//! The metrics graph, captured per epoch, equals the sequential oracle on random streams with
//! corrections, deletes, tombstones and duplicates, for 1/2/4 workers and shuffled inputs.

mod support;

use std::sync::Arc;

use rand::prelude::*;
use rand::rngs::StdRng;

use dataflows::blobs::MemBlobs;
use dataflows::differential_dataflow::VecCollection;
use dataflows::event::{
    Change, CollectorResult, CompetitorScores, Event, Record, Scores, Sentiment, SentimentLabel,
    Text,
};
use dataflows::metrics::metrics;
use dataflows::oracle::metrics_tables;
use dataflows::output::Row;

/// The metrics graph with its answers kept in memory (the service's file store is tested there).
fn metrics_in_memory<'s>(
    records: VecCollection<'s, u64, (Text, Record<Arc<CollectorResult>>)>,
) -> VecCollection<'s, u64, Row> {
    metrics(records, Box::new(MemBlobs::default()))
}

fn scores(rng: &mut StdRng) -> Scores {
    let n_pos = rng.gen_range(0..3);
    Scores {
        visibility_index: rng.gen_range(0..=1_000_000),
        share_of_answers: rng.gen_range(0..=1_000_000),
        positions: (0..n_pos).map(|_| rng.gen_range(1..6)).collect(),
        mentions: rng.gen_range(0..4),
        sentiment: rng.gen_bool(0.7).then(|| Sentiment {
            label: *[
                SentimentLabel::Positive,
                SentimentLabel::Neutral,
                SentimentLabel::Negative,
            ]
            .choose(rng)
            .expect("labels"),
            score: rng.gen_range(-1_000_000..=1_000_000),
        }),
    }
}

fn result(rng: &mut StdRng, version: u64) -> CollectorResult {
    let mut competitors: Vec<CompetitorScores> = Vec::new();
    for c in ["c1", "c2", "c3"] {
        if rng.gen_bool(0.5) {
            competitors.push(CompetitorScores {
                competitor_id: c.into(),
                name: rng.gen_bool(0.5).then(|| format!("{c} inc").into()),
                scores: scores(rng),
            });
        }
    }
    CollectorResult {
        customer_id: format!("cust{}", rng.gen_range(0..2)).into(),
        brand_id: format!("brand{}", rng.gen_range(0..3)).into(),
        brand_name: rng.gen_bool(0.5).then(|| "Brand".into()),
        query_id: format!("q{}", rng.gen_range(0..4)).into(),
        collector_type: ["chatgpt", "perplexity"]
            .choose(rng)
            .expect("types")
            .to_string()
            .into(),
        topic: "t".into(),
        created_at: 1_700_000_000_000 + rng.gen_range(0..3) * 86_400_000 + rng.gen_range(0..1000),
        raw_answer: rng
            .gen_bool(0.5)
            .then(|| format!("answer {}", rng.gen::<u16>()).into()),
        version,
        brand: scores(rng),
        competitors,
    }
}

/// A random stream in sequence order: upserts (with and without versions), versioned deletes,
/// tombstones and re-delivered duplicates, over a small pool of ids so they collide.
/// `len` events about `ids` identities: duplicates, corrections, deletes and tombstones.
fn random_stream(rng: &mut StdRng, len: usize, ids: usize) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::with_capacity(len);
    for seq in 0..len as u64 {
        if !events.is_empty() && rng.gen_bool(0.08) {
            let dup = events[rng.gen_range(0..events.len())].clone();
            events.push(dup);
            continue;
        }
        let id: Text = format!("r{}", rng.gen_range(0..ids)).into();
        let version = if rng.gen_bool(0.3) {
            0
        } else {
            rng.gen_range(0..4)
        };
        let change = match rng.gen_range(0..10) {
            0 => Change::Delete,
            1 => Change::Tombstone,
            _ => Change::Upsert(Arc::new(result(rng, version))),
        };
        let version = if matches!(change, Change::Tombstone) {
            0
        } else {
            version
        };
        events.push(Event::CollectorResult(
            id,
            Record {
                seq,
                version,
                change,
            },
        ));
    }
    events
}

fn records(events: &[Event]) -> Vec<(Text, Record<Arc<CollectorResult>>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::CollectorResult(id, r) => Some((id.clone(), r.clone())),
            Event::Article(..) => None,
        })
        .collect()
}

fn check(seed: u64, workers: usize, shuffle: bool) {
    let mut rng = StdRng::seed_from_u64(seed);
    let len = rng.gen_range(1..80);
    let mut stream = random_stream(&mut rng, len, 12);
    if shuffle {
        stream.shuffle(&mut rng);
    }
    let n_epochs = rng.gen_range(1..6);
    let epochs = support::cut_epochs(&stream, n_epochs, &mut rng);
    let inputs: Vec<Vec<_>> = epochs.iter().map(|e| records(e)).collect();
    let states = support::run_epochs(workers, inputs, metrics_in_memory);
    let mut seen: Vec<Event> = Vec::new();
    for (epoch, (events, state)) in epochs.iter().zip(&states).enumerate() {
        seen.extend(events.iter().cloned());
        let expected = metrics_tables(&seen);
        assert_eq!(
            state, &expected,
            "seed {seed}, {workers} workers, shuffle {shuffle}: epoch {epoch} differs from the oracle"
        );
    }
}

#[test]
fn metrics_match_oracle_one_worker() {
    for seed in 0..80 {
        check(seed, 1, seed % 2 == 1);
    }
}

#[test]
fn metrics_match_oracle_two_workers() {
    for seed in 1000..1080 {
        check(seed, 2, seed % 2 == 1);
    }
}

#[test]
fn metrics_match_oracle_four_workers() {
    for seed in 2000..2060 {
        check(seed, 4, seed % 2 == 1);
    }
}

/// Epochs with more keys than a keyed operator folds per activation (1,024): the folding of
/// one time spans several activations, and every table still matches the oracle.
#[test]
fn large_epochs_match_oracle() {
    for (seed, workers) in [(3000, 1), (3001, 2), (3002, 4)] {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut stream = random_stream(&mut rng, 9_000, 6_000);
        stream.shuffle(&mut rng);
        let epochs = support::cut_epochs(&stream, 3, &mut rng);
        let inputs: Vec<Vec<_>> = epochs.iter().map(|e| records(e)).collect();
        let states = support::run_epochs(workers, inputs, metrics_in_memory);
        let mut seen: Vec<Event> = Vec::new();
        for (epoch, (events, state)) in epochs.iter().zip(&states).enumerate() {
            seen.extend(events.iter().cloned());
            assert_eq!(
                state,
                &metrics_tables(&seen),
                "seed {seed}, {workers} workers: epoch {epoch} differs from the oracle"
            );
        }
    }
}

/// The same events in any order and epoch cut give the same final tables.
#[test]
fn final_tables_do_not_depend_on_order_or_workers() {
    for seed in 0..20 {
        let mut rng = StdRng::seed_from_u64(seed);
        let stream = random_stream(&mut rng, 60, 12);
        let mut finals = Vec::new();
        for workers in [1, 2, 4] {
            let mut shuffled = stream.clone();
            shuffled.shuffle(&mut rng);
            let epochs = support::cut_epochs(&shuffled, 3, &mut rng);
            let inputs: Vec<Vec<_>> = epochs.iter().map(|e| records(e)).collect();
            let states = support::run_epochs(workers, inputs, metrics_in_memory);
            finals.push(states.last().cloned().unwrap_or_default());
        }
        assert_eq!(finals[0], finals[1], "seed {seed}");
        assert_eq!(finals[0], finals[2], "seed {seed}");
        assert_eq!(finals[0], metrics_tables(&stream), "seed {seed}");
    }
}

/// A correction replaces every row of the old version; a delete removes them all.
#[test]
fn correction_and_delete_flow_through_every_table() {
    let mut rng = StdRng::seed_from_u64(7);
    let v1 = result(&mut rng, 1);
    let mut v2 = result(&mut rng, 2);
    v2.customer_id = "other".into();
    let ev = |seq, version, change| {
        Event::CollectorResult(
            "x".into(),
            Record {
                seq,
                version,
                change,
            },
        )
    };
    let epochs = [
        vec![ev(0, 1, Change::Upsert(Arc::new(v1.clone())))],
        vec![ev(1, 2, Change::Upsert(Arc::new(v2.clone())))],
        vec![ev(2, 3, Change::Delete)],
    ];
    let inputs: Vec<Vec<_>> = epochs.iter().map(|e| records(e)).collect();
    let states = support::run_epochs(2, inputs, metrics_in_memory);
    assert!(!states[0].is_empty());
    assert!(states[1]
        .keys()
        .all(|row| !format!("{row:?}").contains(&*v1.customer_id)
            || v1.customer_id == v2.customer_id));
    assert_eq!(states[1], metrics_tables(&epochs[..2].concat()));
    assert!(
        states[2].is_empty(),
        "delete must clear every table: {:?}",
        states[2]
    );
}

//! The trend graph equals a from-scratch sequential implementation of the same definition on
//! random small inputs, per epoch, for 1/2/4 workers and shuffled inputs; deletes and re-adds
//! restore the earlier state; label propagation stays bounded on oscillating graphs.

mod support;

use rand::prelude::*;
use rand::rngs::StdRng;

use dataflows::event::{Article, ArticleKey, Change, Event, Record};
use dataflows::oracle::trend_tables;
use dataflows::output::Row;
use dataflows::trends::cluster::ClusterConfig;
use dataflows::trends::similarity::SimilarityConfig;
use dataflows::trends::{trends, TrendConfig};

const TOPICS: [[&str; 5]; 5] = [
    ["recall", "ignition", "airbag", "dealer", "nhtsa"],
    ["merger", "shareholder", "bid", "regulator", "deal"],
    ["storm", "flood", "evacuation", "rain", "coast"],
    ["election", "ballot", "candidate", "poll", "vote"],
    ["launch", "phone", "screen", "battery", "preorder"],
];
const COMMON: [&str; 6] = ["says", "new", "report", "week", "update", "amid"];

fn headline(rng: &mut StdRng) -> String {
    let topic = TOPICS.choose(rng).expect("topics");
    let n = rng.gen_range(1..4);
    let mut words: Vec<&str> = topic.choose_multiple(rng, n).copied().collect();
    if rng.gen_bool(0.15) {
        words.extend(
            TOPICS
                .choose(rng)
                .expect("topics")
                .choose_multiple(rng, 1)
                .copied(),
        );
    }
    let n = rng.gen_range(0..3);
    words.extend(COMMON.choose_multiple(rng, n).copied());
    words.shuffle(rng);
    if rng.gen_bool(0.2) {
        words.push("the");
    }
    words.join(" ")
}

fn random_stream(rng: &mut StdRng, len: usize) -> Vec<Event> {
    random_stream_over(rng, len, 14)
}

/// A random stream over `3 × ids` article identities.
fn random_stream_over(rng: &mut StdRng, len: usize, ids: u64) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::new();
    for seq in 0..len as u64 {
        if !events.is_empty() && rng.gen_bool(0.05) {
            let dup = events[rng.gen_range(0..events.len())].clone();
            events.push(dup);
            continue;
        }
        let key = ArticleKey {
            source: format!("s{}", rng.gen_range(0..3)).into(),
            external_id: format!("e{}", rng.gen_range(0..ids)).into(),
        };
        let version = rng.gen_range(0..3);
        let change = match rng.gen_range(0..20) {
            0 | 1 => Change::Delete,
            2 => Change::Tombstone,
            _ => Change::Upsert(Box::new(Article {
                title: headline(rng),
                // Five hours of event time against a three-hour window.
                published_at: 1_700_000_000_000 + rng.gen_range(0..5 * 3_600_000),
                url: None,
                summary: None,
                language: None,
                topics: vec![],
            })),
        };
        events.push(Event::Article(
            key,
            Record {
                seq,
                version,
                change,
            },
        ));
    }
    events
}

fn config(rng: &mut StdRng) -> TrendConfig {
    TrendConfig {
        window_ms: 3 * 3_600_000,
        similarity: SimilarityConfig {
            index_cap: rng.gen_range(3..12),
            band: rng.gen_range(0..5),
            ..SimilarityConfig::default()
        },
        cluster: ClusterConfig {
            rounds: rng.gen_range(1..8),
        },
    }
}

fn articles(events: &[Event]) -> Vec<Event> {
    events
        .iter()
        .filter(|e| matches!(e, Event::Article(..)))
        .cloned()
        .collect()
}

fn graph(
    config: TrendConfig,
) -> impl for<'s> Fn(
    dataflows::differential_dataflow::VecCollection<'s, u64, Event>,
) -> dataflows::differential_dataflow::VecCollection<'s, u64, Row>
       + Send
       + Sync
       + 'static {
    move |events| {
        let records = events.flat_map(|e| match e {
            Event::Article(k, r) => Some((k, r.map(|a| *a))),
            Event::CollectorResult(..) => None,
        });
        trends(
            records,
            config,
            Box::new(dataflows::blobs::MemBlobs::default()),
        )
        .rows
    }
}

fn check(seed: u64, workers: usize, shuffle: bool) {
    let mut rng = StdRng::seed_from_u64(seed);
    let config = config(&mut rng);
    let len = rng.gen_range(1..60);
    let stream = random_stream(&mut rng, len);
    check_stream(
        seed,
        workers,
        shuffle,
        config,
        stream,
        rng.gen_range(1..5),
        &mut rng,
    );
}

fn check_stream(
    seed: u64,
    workers: usize,
    shuffle: bool,
    config: TrendConfig,
    mut stream: Vec<Event>,
    epochs: usize,
    rng: &mut StdRng,
) {
    if shuffle {
        stream.shuffle(rng);
    }
    let epochs = support::cut_epochs(&stream, epochs, rng);
    let states = support::run_epochs(workers, epochs.clone(), graph(config));
    let mut seen = Vec::new();
    for (epoch, (events, state)) in epochs.iter().zip(&states).enumerate() {
        seen.extend(articles(events));
        let expected = trend_tables(&seen, config);
        assert_eq!(
            state, &expected,
            "seed {seed}, {workers} workers, shuffle {shuffle}, {config:?}: epoch {epoch} differs from the oracle"
        );
    }
}

#[test]
fn trends_match_oracle_one_worker() {
    for seed in 0..70 {
        check(seed, 1, seed % 2 == 0);
    }
}

#[test]
fn trends_match_oracle_two_workers() {
    for seed in 100..170 {
        check(seed, 2, seed % 2 == 0);
    }
}

/// Longer streams over more identities and many epochs: the incremental state (edges, every
/// round's labels, groups, clusters) is carried through many changes, expiries and cap crossings.
#[test]
fn trends_match_oracle_long_streams() {
    for seed in 300..330 {
        let mut rng = StdRng::seed_from_u64(seed);
        let config = config(&mut rng);
        let stream = random_stream_over(&mut rng, 400, 60);
        let epochs = rng.gen_range(5..25);
        check_stream(
            seed,
            1 + seed as usize % 3,
            seed % 2 == 0,
            config,
            stream,
            epochs,
            &mut rng,
        );
    }
}

#[test]
fn trends_match_oracle_four_workers() {
    for seed in 200..260 {
        check(seed, 4, seed % 2 == 0);
    }
}

/// Same set of articles, any order, any epoch cut, any worker count → same trends and ids.
#[test]
fn same_trends_for_any_order_batching_and_workers() {
    for seed in 0..15 {
        let mut rng = StdRng::seed_from_u64(seed);
        let config = config(&mut rng);
        let stream = random_stream(&mut rng, 50);
        let mut finals = Vec::new();
        for workers in [1, 2, 4] {
            let mut shuffled = stream.clone();
            shuffled.shuffle(&mut rng);
            let epochs = support::cut_epochs(&shuffled, rng.gen_range(1..6), &mut rng);
            let states = support::run_epochs(workers, epochs, graph(config));
            finals.push(states.last().cloned().unwrap_or_default());
        }
        assert_eq!(finals[0], finals[1], "seed {seed}");
        assert_eq!(finals[0], finals[2], "seed {seed}");
    }
}

/// Deleting an article and re-adding it returns exactly the earlier state.
#[test]
fn delete_then_readd_restores_the_state() {
    for seed in 0..15 {
        let mut rng = StdRng::seed_from_u64(seed);
        let config = config(&mut rng);
        let mut keys = std::collections::BTreeSet::new();
        let stream: Vec<Event> = random_stream(&mut rng, 40)
            .into_iter()
            .filter(|e| matches!(e, Event::Article(k, Record { change: Change::Upsert(_), .. }) if keys.insert(k.clone())))
            .collect();
        // The newest article is always inside the window.
        let newest = stream.iter().max_by_key(|e| match e {
            Event::Article(
                _,
                Record {
                    change: Change::Upsert(a),
                    ..
                },
            ) => a.published_at,
            _ => 0,
        });
        let Some(Event::Article(
            key,
            Record {
                seq,
                version,
                change,
            },
        )) = newest.cloned()
        else {
            continue;
        };
        let delete = Event::Article(
            key.clone(),
            Record {
                seq: seq + 1,
                version: version + 1,
                change: Change::Delete,
            },
        );
        let readd = Event::Article(
            key,
            Record {
                seq: seq + 2,
                version: version + 2,
                change,
            },
        );
        let states = support::run_epochs(
            2,
            vec![stream.clone(), vec![delete], vec![readd]],
            graph(config),
        );
        assert_eq!(
            states[0], states[2],
            "seed {seed}: re-adding must restore the state"
        );
        assert_ne!(
            states[0], states[1],
            "seed {seed}: the delete must change something"
        );
    }
}

/// A bipartite graph makes synchronous propagation oscillate forever; the bounded rounds still
/// end, and equal the oracle's result after the same number of rounds.
#[test]
fn label_propagation_is_bounded_on_oscillating_graphs() {
    let config = TrendConfig {
        window_ms: 24 * 3_600_000,
        similarity: SimilarityConfig {
            index_cap: 100,
            min_jaccard: 300_000,
            ..SimilarityConfig::default()
        },
        cluster: ClusterConfig { rounds: 7 },
    };
    // Two hubs, each sharing one word with each of three leaves that share nothing else.
    let mut events = Vec::new();
    let titles = [
        "alpha beta gamma",
        "delta epsilon zeta",
        "alpha delta",
        "beta epsilon",
        "gamma zeta",
    ];
    for (i, t) in titles.iter().enumerate() {
        events.push(Event::Article(
            ArticleKey {
                source: "s".into(),
                external_id: format!("e{i}").into(),
            },
            Record {
                seq: i as u64,
                version: 0,
                change: Change::Upsert(Box::new(Article {
                    title: t.to_string(),
                    published_at: 1_700_000_000_000 + i as i64,
                    url: None,
                    summary: None,
                    language: None,
                    topics: vec![],
                })),
            },
        ));
    }
    for rounds in [1, 2, 7, 20] {
        let config = TrendConfig {
            cluster: ClusterConfig { rounds },
            ..config
        };
        let states = support::run_epochs(1, vec![events.clone()], graph(config));
        assert_eq!(states[0], trend_tables(&events, config), "rounds {rounds}");
    }
}

/// An article upsert at `minute` past the hour of the random streams' start.
fn upsert(external_id: &str, seq: u64, version: u64, title: &str, minute: i64) -> Event {
    Event::Article(
        ArticleKey {
            source: "s0".into(),
            external_id: external_id.into(),
        },
        Record {
            seq,
            version,
            change: Change::Upsert(Box::new(Article {
                title: title.into(),
                published_at: 1_700_000_000_000 + minute * 60_000,
                url: None,
                summary: None,
                language: None,
                topics: vec![],
            })),
        },
    )
}

/// The trend's representative (the short headline in the middle) is replaced by a copy with
/// the same title a few minutes later: the `trends` row is unchanged, but the representative
/// now lives in another slot, and the old slot is given back. When the trend changes in the
/// next epoch (a new article, which takes the freed slot), the retracted row must still be the
/// one emitted.
#[test]
fn a_representative_replaced_by_an_equal_copy_then_a_change() {
    let config = TrendConfig {
        window_ms: 3 * 3_600_000,
        similarity: SimilarityConfig::default(),
        cluster: ClusterConfig::default(),
    };
    let epochs = vec![
        vec![
            upsert("a", 0, 0, "storm flood coast evacuation rain", 0),
            upsert("r", 1, 0, "storm flood coast", 10),
            upsert("b", 2, 0, "storm flood coast evacuation rain", 20),
        ],
        vec![upsert("r", 3, 1, "storm flood coast", 15)],
        vec![upsert("d", 4, 0, "storm flood coast evacuation", 25)],
    ];
    for workers in [1, 2] {
        let states = support::run_epochs(workers, epochs.clone(), graph(config));
        let mut seen = Vec::new();
        for (epoch, (events, state)) in epochs.iter().zip(&states).enumerate() {
            seen.extend(events.iter().cloned());
            assert_eq!(
                state,
                &trend_tables(&seen, config),
                "{workers} workers: epoch {epoch} differs from the oracle"
            );
        }
        assert_eq!(states[0].len(), states[1].len());
    }
}

/// One story told in more headlines than the index cap: every word it has is over the cap.
/// Without a band no word proposes a pair and each headline is a trend of its own; with a band
/// its headlines are linked to their neighbours in time and the story is one trend, for any
/// arrival order and epoch cut, as the oracle says.
#[test]
fn a_story_larger_than_the_cap_is_one_trend_with_a_band() {
    let words = ["volcano", "eruption", "iceland", "ash", "flights", "lava"];
    let mut rng = StdRng::seed_from_u64(7);
    let story: Vec<Event> = (0..60)
        .map(|i| {
            let mut title: Vec<&str> = words.choose_multiple(&mut rng, 3).copied().collect();
            let own = format!("w{i}");
            title.push(&own);
            upsert(&format!("e{i}"), i as u64, 0, &title.join(" "), i as i64)
        })
        .collect();
    let trends = |state: &std::collections::BTreeMap<Row, i64>| {
        state.keys().filter(|r| matches!(r, Row::Trend(_))).count()
    };
    for (band, expected) in [(0, 60), (6, 1)] {
        let config = TrendConfig {
            window_ms: 3 * 3_600_000,
            similarity: SimilarityConfig {
                index_cap: 10,
                band,
                ..SimilarityConfig::default()
            },
            cluster: ClusterConfig::default(),
        };
        let oracle = trend_tables(&story, config);
        assert_eq!(trends(&oracle), expected, "band {band}");
        // Then corrections that keep their `published_at` (the new version takes the old one's
        // place in every word's postings) and a delete, in the middle of the story.
        let changes = vec![
            upsert("e30", 100, 1, "volcano ash cloud w30", 30),
            upsert("e31", 101, 1, "volcano eruption iceland w31 update", 31),
            Event::Article(
                ArticleKey {
                    source: "s0".into(),
                    external_id: "e20".into(),
                },
                Record {
                    seq: 102,
                    version: 1,
                    change: Change::Delete,
                },
            ),
        ];
        let all: Vec<Event> = story.iter().chain(&changes).cloned().collect();
        for workers in [1, 2] {
            let mut shuffled = story.clone();
            shuffled.shuffle(&mut rng);
            let mut epochs = support::cut_epochs(&shuffled, 4, &mut rng);
            epochs.push(changes.clone());
            let states = support::run_epochs(workers, epochs, graph(config));
            let n = states.len();
            assert_eq!(states[n - 2], oracle, "band {band}, {workers} workers");
            assert_eq!(
                states[n - 1],
                trend_tables(&all, config),
                "band {band}, {workers} workers, after the corrections"
            );
        }
    }
}

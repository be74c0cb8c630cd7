//! The whole graph: decoded events in, rows of every output table out.

use differential_dataflow::lattice::Lattice;
use differential_dataflow::VecCollection;
use timely::order::TotalOrder;
use timely::progress::Timestamp;

use differential_dataflow::AsCollection;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::operators::core::Partition;

use crate::blobs::{BlobStore, SharedBlobs};
use crate::event::{Event, TimestampMs};
use crate::metrics::metrics;
use crate::output::Row;
use crate::trends::{trends, TrendConfig};

/// Parameters of the whole graph.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GraphConfig {
    pub trends: TrendConfig,
}

/// Everything the graph produces: rows of every table, and the event-time watermark (ms).
pub struct Outputs<'scope, T: Timestamp + Lattice> {
    pub rows: VecCollection<'scope, T, Row>,
    pub watermark: VecCollection<'scope, T, TimestampMs>,
}

/// Splits events by kind and builds every computation over them; `answers` (this worker's
/// store) keeps the collector results and the article headlines the replace rules hold.
pub fn build<'scope, T>(
    events: VecCollection<'scope, T, Event>,
    config: GraphConfig,
    answers: Box<dyn BlobStore>,
) -> Outputs<'scope, T>
where
    T: Timestamp + Lattice + TotalOrder + Ord + std::hash::Hash,
{
    // One operator routes each event to its kind's stream: a stream read by two operators
    // would be cloned for the first of them, every payload deep-copied once per event.
    let mut kinds = events
        .inner
        .partition::<CapacityContainerBuilder<Vec<_>>, _, _>(2, |(e, t, r)| {
            let part = match e {
                Event::CollectorResult(..) => 0,
                Event::Article(..) => 1,
            };
            (part, (e, t, r))
        })
        .into_iter();
    let (Some(results), Some(articles)) = (kinds.next(), kinds.next()) else {
        unreachable!("partition into 2 gives 2 streams")
    };
    let results = results.as_collection().flat_map(|e| match e {
        Event::CollectorResult(id, r) => Some((id, r)),
        Event::Article(..) => None,
    });
    let articles = articles.as_collection().flat_map(|e| match e {
        Event::Article(key, r) => Some((key, r.map(|a| *a))),
        Event::CollectorResult(..) => None,
    });
    let store = SharedBlobs::new(answers);
    let trends = trends(articles, config.trends, Box::new(store.clone()));
    Outputs {
        rows: metrics(results, Box::new(store)).concat(trends.rows),
        watermark: trends.watermark,
    }
}

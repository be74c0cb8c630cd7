//! Test support: runs a graph over epochs of input with N workers and captures the state per epoch.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use dataflows::differential_dataflow::input::Input;
use dataflows::differential_dataflow::{ExchangeData, VecCollection};
use dataflows::timely::dataflow::operators::capture::Extract;
use dataflows::timely::dataflow::operators::Capture;

/// Runs `build` with `workers` threads; input item `i` of each epoch goes to worker `i % workers`.
/// Returns the accumulated output after each epoch (rows with their multiplicity, zeros removed).
pub fn run_epochs<I, O, F>(workers: usize, epochs: Vec<Vec<I>>, build: F) -> Vec<BTreeMap<O, i64>>
where
    I: ExchangeData + Sync,
    O: ExchangeData,
    F: for<'s> Fn(VecCollection<'s, u64, I>) -> VecCollection<'s, u64, O> + Send + Sync + 'static,
{
    let (send, recv) = std::sync::mpsc::channel();
    let send = Arc::new(Mutex::new(send));
    let n_epochs = epochs.len();
    let epochs = Arc::new(epochs);
    let build = Arc::new(build);
    timely::execute(timely::Config::process(workers), move |worker| {
        let send = send.lock().expect("lock").clone();
        let build = build.clone();
        let mut input = worker.dataflow::<u64, _, _>(|scope| {
            let (handle, collection) = scope.new_collection::<I, isize>();
            build(collection).inner.capture_into(send);
            handle
        });
        let (index, peers) = (worker.index(), worker.peers());
        for (epoch, items) in epochs.iter().enumerate() {
            for (i, item) in items.iter().enumerate() {
                if i % peers == index {
                    input.insert(item.clone());
                }
            }
            input.advance_to(epoch as u64 + 1);
            input.flush();
        }
    })
    .expect("timely");
    let updates: Vec<(O, u64, isize)> = recv.extract().into_iter().flat_map(|(_, b)| b).collect();
    let mut states = Vec::with_capacity(n_epochs);
    let mut state: BTreeMap<O, i64> = BTreeMap::new();
    for epoch in 0..n_epochs as u64 {
        for (row, _, diff) in updates.iter().filter(|(_, t, _)| *t == epoch) {
            *state.entry(row.clone()).or_insert(0) += *diff as i64;
        }
        state.retain(|_, n| *n != 0);
        states.push(state.clone());
    }
    states
}

/// Splits `items` into `n` consecutive epochs at random boundaries.
pub fn cut_epochs<T: Clone>(items: &[T], n: usize, rng: &mut impl rand::Rng) -> Vec<Vec<T>> {
    let mut cuts: Vec<usize> = (0..n.saturating_sub(1))
        .map(|_| rng.gen_range(0..=items.len()))
        .collect();
    cuts.push(0);
    cuts.push(items.len());
    cuts.sort_unstable();
    cuts.windows(2)
        .map(|w| items[w[0]..w[1]].to_vec())
        .collect()
}

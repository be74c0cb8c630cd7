//! Helpers shared by the bench targets: stepping a timely worker through an epoch.

use dataflows::differential_dataflow::input::InputSession;
use dataflows::event::Event;
use dataflows::timely;
use dataflows::timely::dataflow::ProbeHandle;

/// Closes the current epoch and steps the worker until the probe has passed it.
pub fn close_epoch(
    worker: &mut timely::worker::Worker,
    input: &mut InputSession<u64, Event, isize>,
    probe: &ProbeHandle<u64>,
) {
    let next = *input.time() + 1;
    input.advance_to(next);
    input.flush();
    // As the engine does: park while waiting for the other workers rather than spin.
    while probe.less_than(input.time()) {
        worker.step_or_park(None);
    }
}

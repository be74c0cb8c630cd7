//! Graceful shutdown: SIGINT/SIGTERM set a flag the sources check, so the epoch in flight commits and the run exits 0.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// Whether a shutdown was asked for.
pub fn requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// Asks the running pipeline to stop after the epoch in flight.
pub fn request() {
    STOP.store(true, Ordering::Relaxed);
}

/// Listens for SIGINT and SIGTERM on a background thread.
pub fn install() {
    let spawned = std::thread::Builder::new()
        .name("trendflow-signals".into())
        .spawn(|| {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let Ok(mut term) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                else {
                    return;
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                tracing::info!("shutdown requested: committing the epoch in flight, then exiting");
                request();
            });
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot listen for signals: {e}");
    }
}

//! The admin HTTP server: `/health`, `/ready`, `/metrics` (Prometheus) and `/status` (JSON) of a running instance.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use crate::telemetry::Telemetry;

async fn health() -> &'static str {
    "ok\n"
}

async fn ready(State(t): State<Arc<Telemetry>>) -> impl IntoResponse {
    if t.ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

async fn metrics(State(t): State<Arc<Telemetry>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        t.prometheus(),
    )
}

async fn status(State(t): State<Arc<Telemetry>>) -> impl IntoResponse {
    Json(t.status())
}

/// The routes, for serving and for tests.
pub fn router(telemetry: Arc<Telemetry>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .with_state(telemetry)
}

/// Binds `addr` and serves the admin endpoints on a background thread; returns the bound
/// address (port 0 picks a free one).
pub fn serve(addr: SocketAddr, telemetry: Arc<Telemetry>) -> Result<SocketAddr, String> {
    let listener =
        std::net::TcpListener::bind(addr).map_err(|e| format!("--admin-addr {addr}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("--admin-addr {addr}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("--admin-addr {addr}: {e}"))?;
    std::thread::Builder::new()
        .name("trendflow-admin".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                tracing::error!("admin: cannot start its runtime");
                return;
            };
            rt.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!("admin: {e}");
                        return;
                    }
                };
                if let Err(e) = axum::serve(listener, router(telemetry)).await {
                    tracing::error!("admin: server stopped: {e}");
                }
            });
        })
        .map_err(|e| format!("admin thread: {e}"))?;
    tracing::info!("admin endpoints on http://{bound}/ (health, ready, metrics, status)");
    Ok(bound)
}

/// `trendflow status`: the `/status` document of the instance at `addr`.
pub fn fetch_status(addr: SocketAddr) -> Result<String, String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(3))
        .map_err(|e| format!("--admin-addr {addr}: no trendflow instance answers: {e}"))?;
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    write!(
        stream,
        "GET /status HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("--admin-addr {addr}: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("--admin-addr {addr}: {e}"))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .ok_or_else(|| format!("--admin-addr {addr}: not an HTTP answer"))?;
    let json: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("--admin-addr {addr}: {e}"))?;
    serde_json::to_string_pretty(&json).map_err(|e| e.to_string())
}

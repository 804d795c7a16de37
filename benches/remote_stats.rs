//! How soon a remote engine's Stats column is full: the time from start to the
//! first complete inventory and to a CPU figure for every running container, through
//! the engine code the UI runs (an ssh engine's stats come from its host's cgroup files
//! through one shell; a tcp or TLS engine's from the API).
//!
//! `scripts/perf-remote-stats.sh` sets up the ssh engine and the containers and runs
//! this with `PORTOLAN_BENCH_HOST=ssh://user@127.0.0.1:PORT` and
//! `PORTOLAN_BENCH_LABEL=key=value` (the containers to wait for); it then keeps
//! following for `PORTOLAN_BENCH_HOLD` seconds so the script can measure what it costs
//! the engine. Without `PORTOLAN_BENCH_HOST` (as under `cargo test --all-targets`) it
//! says so and does nothing.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use chrono::Utc;
use portolan::engine::{Endpoint, EngineOptions, Start, spawn_with};
use portolan::model::{Model, Update};

fn main() {
    let Ok(host) = std::env::var("PORTOLAN_BENCH_HOST") else {
        println!(
            "remote_stats: PORTOLAN_BENCH_HOST is not set (scripts/perf-remote-stats.sh sets it)"
        );
        return;
    };
    let label = std::env::var("PORTOLAN_BENCH_LABEL").ok();
    let hold: u64 =
        std::env::var("PORTOLAN_BENCH_HOLD").ok().and_then(|h| h.parse().ok()).unwrap_or(0);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let endpoint = Endpoint::parse(&host).expect("PORTOLAN_BENCH_HOST is an endpoint");
        let options = EngineOptions::default();
        let interval = options.stats_interval;
        let began = Instant::now();
        let mut handle = spawn_with(endpoint, Start::Connect, options);
        let mut model = Model::new(host.clone(), Utc::now());
        let mut synced = None;
        let mut full = None;
        let wanted = |model: &Model| {
            model
                .containers
                .values()
                .filter(|c| c.state.is_running())
                .filter(|c| {
                    label.as_deref().is_none_or(|l| {
                        let (k, v) = l.split_once('=').unwrap_or((l, ""));
                        c.labels.get(k).is_some_and(|value| value == v)
                    })
                })
                .map(|c| c.id.clone())
                .collect::<Vec<_>>()
        };
        while full.is_none() {
            let update = tokio::time::timeout(Duration::from_secs(120), handle.updates.recv())
                .await
                .expect("an update within 2 minutes")
                .expect("the engine task runs");
            let was_sync = matches!(update, Update::Synced(_));
            model.apply(update);
            if was_sync && synced.is_none() {
                synced = Some(began.elapsed());
            }
            if synced.is_some() {
                let ids = wanted(&model);
                let with_cpu = ids
                    .iter()
                    .filter(|id| model.stats.get(*id).and_then(|s| s.latest_with_cpu()).is_some())
                    .count();
                if !ids.is_empty() && with_cpu == ids.len() {
                    full = Some((began.elapsed(), ids.len()));
                }
            }
        }
        let (full, count) = full.unwrap();
        let synced = synced.unwrap();
        println!(
            "remote_stats: {host}: inventory of {} containers in {:.2} s; CPU of all {count} \
             running containers in {:.2} s ({:.1} refresh intervals of {} s)",
            model.containers.len(),
            synced.as_secs_f64(),
            full.as_secs_f64(),
            full.as_secs_f64() / interval.as_secs_f64(),
            interval.as_secs()
        );
        if hold > 0 {
            eprintln!("remote_stats: following for {hold} s");
            let until = Instant::now() + Duration::from_secs(hold);
            while Instant::now() < until {
                let left = until.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, handle.updates.recv()).await {
                    Ok(Some(update)) => {
                        model.apply(update);
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        }
        handle.stop().await;
    });
}

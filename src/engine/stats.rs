//! Samples every running container about once a second.
//!
//! One task serves all containers: local containers are read from their cgroup files
//! (no daemon work at all); the rest get one-shot API requests spread across the
//! interval, so the daemon never sees a burst nor a per-container stream that never
//! ends. A container stops being sampled as soon as it is untracked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::ContainerStatsResponse;
use bollard::query_parameters::StatsOptions;
use chrono::Utc;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::cgroup::{self, CgroupMounts, CgroupReader};
use crate::model::stats::{CgroupLayout, memory_used};
use crate::model::{CpuCounter, RawSample, Update};

#[derive(Debug)]
pub enum StatsCommand {
    /// Start (or keep) sampling a running container whose main process is `pid`.
    Track {
        id: String,
        pid: Option<u32>,
    },
    Untrack {
        id: String,
    },
    UntrackAll,
}

/// How stats are gathered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsSource {
    /// cgroup files where possible, API for the rest.
    Auto,
    /// Always ask the engine (remote engines, or by choice).
    Api,
}

enum Reader {
    Cgroup(Box<CgroupReader>),
    Api,
}

struct Tracked {
    pid: Option<u32>,
    reader: Reader,
}

pub struct StatsCollector {
    docker: Docker,
    source: StatsSource,
    mounts: Option<CgroupMounts>,
    interval: Duration,
    tracked: HashMap<String, Tracked>,
    started: Instant,
    /// API requests in flight at once: what the transport carries without queueing.
    api_in_flight: usize,
    /// When each container's last API sample came: a round asks the longest-waiting
    /// first, so on a slow link no container is always at the back.
    last_api_sample: Arc<Mutex<HashMap<String, Instant>>>,
}

impl StatsCollector {
    pub fn new(docker: Docker, source: StatsSource, interval: Duration) -> Self {
        let mounts = match source {
            StatsSource::Auto => CgroupMounts::detect().ok().filter(cgroup::available),
            StatsSource::Api => None,
        };
        StatsCollector {
            docker,
            source,
            mounts,
            interval,
            tracked: HashMap::new(),
            started: Instant::now(),
            api_in_flight: API_CONCURRENCY,
            last_api_sample: Arc::default(),
        }
    }

    /// Starts sampling a container. A locally readable one is sampled at once, so the
    /// first CPU figure is one interval away rather than two.
    fn track(&mut self, id: String, pid: Option<u32>) -> Option<(String, RawSample)> {
        if self.tracked.get(&id).is_some_and(|t| t.pid == pid) {
            return None;
        }
        let mut first = None;
        let reader = match (&self.mounts, pid) {
            (Some(mounts), Some(pid)) => match CgroupReader::open(mounts, &id, pid) {
                Ok(mut reader) => {
                    let now_ns = self.started.elapsed().as_nanos() as u64;
                    first = reader.sample(now_ns).ok().map(|sample| (id.clone(), sample));
                    Reader::Cgroup(Box::new(reader))
                }
                Err(error) => {
                    tracing::debug!(%id, %error, "cgroup files unavailable; using the API");
                    Reader::Api
                }
            },
            _ => Reader::Api,
        };
        self.tracked.insert(id, Tracked { pid, reader });
        first
    }

    /// Caps the API requests in flight, for a transport with few channels (an ssh
    /// connection carries ten sessions): more would wait unseen and time out.
    pub fn with_api_in_flight(mut self, in_flight: usize) -> Self {
        self.api_in_flight = in_flight.clamp(1, API_CONCURRENCY);
        self
    }

    fn handle(&mut self, command: StatsCommand, pending: &mut Vec<(String, RawSample)>) {
        match command {
            StatsCommand::Track { id, pid } => pending.extend(self.track(id, pid)),
            StatsCommand::Untrack { id } => {
                self.tracked.remove(&id);
                self.last_api_sample.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                pending.retain(|(pending_id, _)| *pending_id != id);
            }
            StatsCommand::UntrackAll => {
                self.tracked.clear();
                pending.clear();
            }
        }
    }

    pub async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<StatsCommand>,
        updates: mpsc::Sender<Update>,
        cancel: CancellationToken,
    ) {
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut api_round: Option<JoinHandle<()>> = None;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                command = commands.recv() => {
                    let Some(command) = command else { break };
                    let mut pending = Vec::new();
                    self.handle(command, &mut pending);
                    // Take a burst of commands (a resync tracks every container) at once.
                    while let Ok(command) = commands.try_recv() {
                        self.handle(command, &mut pending);
                    }
                    if !pending.is_empty() && updates.send(Update::Stats(pending)).await.is_err() {
                        break;
                    }
                }
                _ = ticker.tick() => {
                    let batch = self.sample_local();
                    if !batch.is_empty() && updates.send(Update::Stats(batch)).await.is_err() {
                        break;
                    }
                    let mut remote: Vec<String> = self
                        .tracked
                        .iter()
                        .filter(|(_, t)| matches!(t.reader, Reader::Api))
                        .map(|(id, _)| id.clone())
                        .collect();
                    {
                        // Never sampled first, then the longest waiting.
                        let last = self.last_api_sample.lock().unwrap_or_else(|e| e.into_inner());
                        remote.sort_by_key(|id| last.get(id).copied());
                    }
                    let previous_done = api_round.as_ref().is_none_or(|h| h.is_finished());
                    if !remote.is_empty() && previous_done {
                        let spread = self.interval.mul_f32(0.8);
                        api_round = Some(tokio::spawn(api_round_task(
                            ApiRound {
                                docker: self.docker.clone(),
                                ids: remote,
                                spread,
                                in_flight: self.api_in_flight,
                                last_sample: self.last_api_sample.clone(),
                            },
                            updates.clone(),
                            cancel.clone(),
                        )));
                    }
                }
            }
        }
        if let Some(handle) = api_round {
            handle.abort();
        }
    }

    fn sample_local(&mut self) -> Vec<(String, RawSample)> {
        let now_ns = self.started.elapsed().as_nanos() as u64;
        let mut batch = Vec::new();
        let mut failed = Vec::new();
        for (id, tracked) in &mut self.tracked {
            if let Reader::Cgroup(reader) = &mut tracked.reader {
                match reader.sample(now_ns) {
                    Ok(sample) => batch.push((id.clone(), sample)),
                    Err(error) => {
                        tracing::debug!(%id, %error, "cgroup read failed; falling back to the API");
                        failed.push(id.clone());
                    }
                }
            }
        }
        for id in failed {
            if let Some(tracked) = self.tracked.get_mut(&id) {
                tracked.reader = Reader::Api;
            }
        }
        if self.source == StatsSource::Api {
            debug_assert!(batch.is_empty());
        }
        batch
    }
}

/// Requests in flight at once in an API round. A one-shot request mostly waits: the
/// engine answers it at its next collection, up to a second later, so with four in
/// flight a round over 28 containers took 7 s and every figure was that stale. The
/// starts are still spread across the interval, so the daemon sees no burst.
const API_CONCURRENCY: usize = 32;

/// What one API round asks, and of whom.
struct ApiRound {
    docker: Docker,
    /// In the order to ask them.
    ids: Vec<String>,
    spread: Duration,
    in_flight: usize,
    last_sample: Arc<Mutex<HashMap<String, Instant>>>,
}

/// One staggered round of one-shot stats requests: starts are spread across the
/// interval, with at most `in_flight` (up to [`API_CONCURRENCY`]) at once.
async fn api_round_task(round: ApiRound, updates: mpsc::Sender<Update>, cancel: CancellationToken) {
    let ApiRound { docker, ids, spread, in_flight, last_sample } = round;
    let gap = spread / (ids.len() as u32).max(1);
    let round_start = tokio::time::Instant::now();
    let requests = futures_util::stream::iter(ids.into_iter().enumerate()).map(|(index, id)| {
        let docker = docker.clone();
        async move {
            tokio::time::sleep_until(round_start + gap * index as u32).await;
            let options = StatsOptions { stream: false, one_shot: true };
            let request = async { docker.stats(&id, Some(options)).next().await };
            match tokio::time::timeout(Duration::from_secs(5), request).await {
                Ok(Some(Ok(response))) => Some((id, from_api(response))),
                Ok(Some(Err(error))) => {
                    tracing::debug!(%id, %error, "stats request failed");
                    None
                }
                Ok(None) | Err(_) => {
                    tracing::debug!(%id, "stats request gave nothing");
                    None
                }
            }
        }
    });
    let collect =
        requests.buffer_unordered(in_flight).filter_map(|s| async move { s }).collect::<Vec<_>>();
    let batch = tokio::select! {
        _ = cancel.cancelled() => return,
        batch = collect => batch,
    };
    if !batch.is_empty() {
        {
            let now = Instant::now();
            let mut last = last_sample.lock().unwrap_or_else(|e| e.into_inner());
            for (id, _) in &batch {
                last.insert(id.clone(), now);
            }
        }
        let _ = updates.send(Update::Stats(batch)).await;
    }
}

/// Converts an engine stats response; the engine's own `precpu` is ignored.
pub fn from_api(response: ContainerStatsResponse) -> RawSample {
    let cpu = response.cpu_stats.as_ref().and_then(|cpu| {
        Some(CpuCounter::Api {
            total_ns: cpu.cpu_usage.as_ref()?.total_usage?,
            system_ns: cpu.system_cpu_usage?,
            online_cpus: cpu
                .online_cpus
                .filter(|n| *n > 0)
                .or_else(|| {
                    let percpu = cpu.cpu_usage.as_ref()?.percpu_usage.as_ref()?;
                    u32::try_from(percpu.len()).ok()
                })
                .unwrap_or(1),
        })
    });
    let memory = response.memory_stats.as_ref();
    let memory_used = memory.and_then(|m| {
        let usage = m.usage?;
        let stats = m.stats.as_ref();
        let (layout, pairs): (CgroupLayout, Vec<(&str, u64)>) = match stats {
            Some(stats) if stats.contains_key("total_inactive_file") => {
                (CgroupLayout::V1, stats.iter().map(|(k, v)| (k.as_str(), *v)).collect())
            }
            Some(stats) => {
                (CgroupLayout::V2, stats.iter().map(|(k, v)| (k.as_str(), *v)).collect())
            }
            None => (CgroupLayout::V2, Vec::new()),
        };
        Some(memory_used(layout, usage, &pairs))
    });
    let (net_rx, net_tx) = match &response.networks {
        Some(networks) => (
            Some(networks.values().filter_map(|n| n.rx_bytes).sum()),
            Some(networks.values().filter_map(|n| n.tx_bytes).sum()),
        ),
        None => (None, None),
    };
    let (block_read, block_write) =
        match response.blkio_stats.as_ref().and_then(|b| b.io_service_bytes_recursive.as_ref()) {
            Some(entries) => {
                let sum = |op: &str| {
                    entries
                        .iter()
                        .filter(|e| e.op.as_deref().is_some_and(|o| o.eq_ignore_ascii_case(op)))
                        .filter_map(|e| e.value)
                        .sum::<u64>()
                };
                (Some(sum("read")), Some(sum("write")))
            }
            None => (None, None),
        };
    RawSample {
        taken_at: Utc::now(),
        cpu,
        memory_used,
        memory_limit: memory.and_then(|m| m.limit),
        net_rx,
        net_tx,
        block_read,
        block_write,
        pids: response.pids_stats.as_ref().and_then(|p| p.current),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_stats_for_cgroup_v1_and_v2() {
        let v1: ContainerStatsResponse = serde_json::from_str(
            r#"{"cpu_stats":{"cpu_usage":{"total_usage":5000,"percpu_usage":[1,2]},"system_cpu_usage":90000},
                "memory_stats":{"usage":1000,"limit":4096,"stats":{"total_inactive_file":400,"cache":500}},
                "networks":{"eth0":{"rx_bytes":10,"tx_bytes":20},"eth1":{"rx_bytes":1,"tx_bytes":2}},
                "blkio_stats":{"io_service_bytes_recursive":[{"major":8,"minor":0,"op":"Read","value":7},{"major":8,"minor":0,"op":"Write","value":9}]},
                "pids_stats":{"current":4}}"#,
        )
        .expect("v1 fixture");
        let s = from_api(v1);
        assert_eq!(
            s.cpu,
            Some(CpuCounter::Api { total_ns: 5000, system_ns: 90000, online_cpus: 2 })
        );
        assert_eq!(s.memory_used, Some(600));
        assert_eq!((s.net_rx, s.net_tx), (Some(11), Some(22)));
        assert_eq!((s.block_read, s.block_write), (Some(7), Some(9)));
        assert_eq!(s.pids, Some(4));

        let v2: ContainerStatsResponse = serde_json::from_str(
            r#"{"cpu_stats":{"cpu_usage":{"total_usage":1},"system_cpu_usage":2,"online_cpus":4},
                "memory_stats":{"usage":1000,"limit":2000,"stats":{"inactive_file":100}},
                "blkio_stats":{"io_service_bytes_recursive":[{"op":"read","value":3}]}}"#,
        )
        .expect("v2 fixture");
        let s = from_api(v2);
        assert_eq!(s.memory_used, Some(900));
        assert_eq!((s.block_read, s.block_write), (Some(3), Some(0)));
        assert_eq!(s.net_rx, None);

        let empty: ContainerStatsResponse = serde_json::from_str("{}").expect("empty");
        let s = from_api(empty);
        assert!(s.cpu.is_none() && s.memory_used.is_none());
    }
}

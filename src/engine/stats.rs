//! Samples every running container about once a second.
//!
//! One task serves all containers: local containers are read from their cgroup files
//! (no daemon work at all); the rest get one-shot API requests spread across the
//! interval, so the daemon never sees a burst nor a per-container stream that never
//! ends. A container stops being sampled as soon as it is untracked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
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

use super::cgroup::{self, CgroupError, CgroupMounts, CgroupPaths, CgroupReader, Counters};
use super::host_files::{HostShell, Reading, is_plain_path};
use super::ssh::SshTunnel;
use crate::model::stats::{CgroupLayout, SampleSource, memory_used};
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
    /// On the remote engine's host, its files not yet found.
    HostPending,
    Host(Box<HostReader>),
    Api,
}

/// A remote container's files and what its readings keep.
struct HostReader {
    paths: CgroupPaths,
    counters: Counters,
}

/// Reading a remote engine's cgroup files through a shell on its host (see
/// [`super::host_files`]).
struct HostFiles {
    tunnel: SshTunnel,
    shell: Option<HostShell>,
    mounts: Option<CgroupMounts>,
    /// Whether the shell's file lists match the containers read on the host.
    lists_current: bool,
    rounds: u64,
    failures: u32,
    /// Why the host cannot be read, once that is settled: the API serves instead.
    given_up: Option<String>,
}

/// Failed readings in a row before the host's files are given up for the API.
const HOST_FAILURES: u32 = 3;

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
    host: Option<HostFiles>,
    /// Where the local files are looked for: "/" but in tests.
    cgroup_root: PathBuf,
    /// Whether the user was told that some containers' stats come from the API.
    fallback_told: bool,
    /// Sentences for the user, sent with the next batch.
    warnings: Vec<String>,
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
            host: None,
            cgroup_root: PathBuf::from("/"),
            fallback_told: false,
            warnings: Vec::new(),
        }
    }

    /// Reads local cgroup and /proc files under `root` instead of "/": how tests run
    /// the collector against a fixture tree laid out like another host's.
    pub fn with_cgroup_root(mut self, root: PathBuf) -> Self {
        self.mounts = match self.source {
            StatsSource::Auto => CgroupMounts::detect_at(&root).ok().filter(|m| !m.is_empty()),
            StatsSource::Api => None,
        };
        self.cgroup_root = root;
        self
    }

    /// Notes why a container's files could not be opened. The first time on this
    /// collector that is not just the container having exited, the user is told in
    /// one sentence: a stats pane that is slower for no visible reason is a mystery,
    /// and a sentence per container would bury the others.
    fn note_fallback(&mut self, error: &CgroupError) {
        if self.fallback_told || error.container_gone() {
            return;
        }
        self.fallback_told = true;
        self.warnings.push(format!(
            "stats for some containers come from the engine API, which is slower: {error}"
        ));
    }

    /// Reads containers from their files on the host at the far end of this ssh
    /// tunnel, falling back to the API for any that cannot be read there.
    pub fn with_host_files(mut self, tunnel: SshTunnel) -> Self {
        self.host = Some(HostFiles {
            tunnel,
            shell: None,
            mounts: None,
            lists_current: false,
            rounds: 0,
            failures: 0,
            given_up: None,
        });
        self
    }

    /// Starts sampling a container. A locally readable one is sampled at once, so the
    /// first CPU figure is one interval away rather than two.
    fn track(&mut self, id: String, pid: Option<u32>) -> Option<(String, RawSample)> {
        if self.tracked.get(&id).is_some_and(|t| t.pid == pid) {
            return None;
        }
        let mut first = None;
        let reader = match (&self.mounts, pid) {
            (Some(mounts), Some(pid)) => {
                match CgroupReader::open_at(&self.cgroup_root, mounts, &id, pid) {
                    Ok(mut reader) => {
                        let now_ns = self.started.elapsed().as_nanos() as u64;
                        first = reader.sample(now_ns).ok().map(|sample| (id.clone(), sample));
                        Reader::Cgroup(Box::new(reader))
                    }
                    Err(error) => {
                        tracing::debug!(%id, %error, "cgroup files unavailable; using the API");
                        self.note_fallback(&error);
                        Reader::Api
                    }
                }
            }
            (None, Some(_)) if self.host.as_ref().is_some_and(|h| h.given_up.is_none()) => {
                Reader::HostPending
            }
            _ => Reader::Api,
        };
        if let Some(host) = &mut self.host
            && matches!(self.tracked.get(&id).map(|t| &t.reader), Some(Reader::Host(_)))
        {
            host.lists_current = false;
        }
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
                if let Some(Tracked { reader: Reader::Host(_), .. }) = self.tracked.remove(&id)
                    && let Some(host) = &mut self.host
                {
                    host.lists_current = false;
                }
                self.last_api_sample.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                pending.retain(|(pending_id, _)| *pending_id != id);
            }
            StatsCommand::UntrackAll => {
                if let Some(host) = &mut self.host {
                    host.lists_current = false;
                }
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
                    for message in std::mem::take(&mut self.warnings) {
                        let _ = updates.send(Update::Warning { at: Utc::now(), message }).await;
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
                    let batch = tokio::select! {
                        _ = cancel.cancelled() => break,
                        read = self.sample_host() => read,
                    };
                    for message in std::mem::take(&mut self.warnings) {
                        let _ = updates.send(Update::Warning { at: Utc::now(), message }).await;
                    }
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
    /// One reading of every container on the remote host's files: one round trip,
    /// however many containers. When the host's files are given up for the API, a
    /// sentence saying why joins the collector's warnings.
    async fn sample_host(&mut self) -> Vec<(String, RawSample)> {
        let Some(host) = self.host.as_mut() else { return Vec::new() };
        let on_host = |t: &Tracked| matches!(t.reader, Reader::Host(_) | Reader::HostPending);
        if host.given_up.is_some() || !self.tracked.values().any(on_host) {
            return Vec::new();
        }
        // A slow link may take a while; a shell that stops answering is replaced.
        let limit = (self.interval * 3).max(Duration::from_secs(5));
        match host.read_all(&mut self.tracked, limit).await {
            Ok(batch) => {
                host.failures = 0;
                batch
            }
            Err(error) => {
                host.shell = None;
                host.lists_current = false;
                host.failures += 1;
                tracing::debug!(error = %error.words, failures = host.failures, "reading the host files failed");
                if host.failures < HOST_FAILURES && !error.settled {
                    return Vec::new();
                }
                let reason = error.words;
                host.given_up = Some(reason.clone());
                for tracked in self.tracked.values_mut() {
                    if on_host(tracked) {
                        tracked.reader = Reader::Api;
                    }
                }
                self.warnings.push(format!(
                    "stats come from the engine API, which is slower: the host's cgroup files \
                     cannot be read over ssh ({reason})"
                ));
                Vec::new()
            }
        }
    }
}

/// Why the host's files could not be read.
struct HostError {
    words: String,
    /// Trying again will not help (no cgroup files on that host, say).
    settled: bool,
}

impl From<std::io::Error> for HostError {
    fn from(error: std::io::Error) -> Self {
        HostError { words: error.to_string(), settled: false }
    }
}

impl HostFiles {
    async fn read_all(
        &mut self,
        tracked: &mut HashMap<String, Tracked>,
        limit: Duration,
    ) -> Result<Vec<(String, RawSample)>, HostError> {
        if self.shell.is_none() {
            let Some((command, session)) = self.tunnel.shell(limit).await else {
                return Err(HostError {
                    words: "no ssh session free for a shell".into(),
                    settled: false,
                });
            };
            self.shell = Some(HostShell::start(command, session, limit).await?);
            self.lists_current = false;
        }
        let Some(shell) = self.shell.as_mut() else { unreachable!("just started") };
        if self.mounts.is_none() {
            let reading = shell.read(&["/proc/self/mountinfo"], limit).await?;
            if reading.uptime_ns().is_none() {
                return Err(HostError {
                    words: "the host's shell has no `head -v` or no /proc".into(),
                    settled: true,
                });
            }
            let mounts = reading
                .get(Path::new("/proc/self/mountinfo"))
                .map(cgroup::parse_mountinfo)
                .filter(|m| !m.is_empty());
            let Some(mounts) = mounts else {
                return Err(HostError {
                    words: "no cgroup file system is mounted where the ssh user lands".into(),
                    settled: true,
                });
            };
            self.mounts = Some(mounts);
        }
        let Some(mounts) = self.mounts.as_ref() else { unreachable!("just read") };

        // Containers new to the host reader: find their files from their main process.
        let pending: Vec<(String, u32)> = tracked
            .iter()
            .filter(|(_, t)| matches!(t.reader, Reader::HostPending))
            .filter_map(|(id, t)| Some((id.clone(), t.pid?)))
            .collect();
        if !pending.is_empty() {
            let paths: Vec<String> =
                pending.iter().map(|(_, pid)| format!("/proc/{pid}/cgroup")).collect();
            let words: Vec<&str> = paths.iter().map(String::as_str).collect();
            let reading = shell.read(&words, limit).await?;
            for ((id, pid), proc_path) in pending.iter().zip(&paths) {
                let Some(tracked) = tracked.get_mut(id) else { continue };
                let resolved = match reading.get(Path::new(proc_path)) {
                    Some(text) => CgroupPaths::resolve(mounts, id, *pid, text)
                        .map_err(|e| e.to_string())
                        .and_then(|paths| {
                            if all_plain(&paths) {
                                Ok(paths)
                            } else {
                                Err("its cgroup paths need quoting".into())
                            }
                        }),
                    None => Err(format!("{proc_path} cannot be read on the host")),
                };
                tracked.reader = match resolved {
                    Ok(paths) => {
                        self.lists_current = false;
                        let counters = Counters::new(paths.layout, SampleSource::HostFilesOverSsh);
                        Reader::Host(Box::new(HostReader { paths, counters }))
                    }
                    Err(error) => {
                        tracing::debug!(%id, %error, "host files unavailable; using the API");
                        Reader::Api
                    }
                };
            }
        }

        let readers = || {
            tracked.values().filter_map(|t| match &t.reader {
                Reader::Host(reader) => Some(reader.as_ref()),
                _ => None,
            })
        };
        if !self.lists_current {
            shell.define("FAST", readers().flat_map(|r| fast_paths(&r.paths)), limit).await?;
            shell.define("SLOW", readers().flat_map(|r| slow_paths(&r.paths)), limit).await?;
            self.lists_current = true;
        }
        let slow_round = self.rounds.is_multiple_of(cgroup::SLOW_EVERY);
        self.rounds += 1;
        // A container's first reading needs the slow files too (its limit, its cache).
        let fresh: Vec<String> = if slow_round {
            Vec::new()
        } else {
            readers()
                .filter(|r| r.counters.is_fresh())
                .flat_map(|r| slow_paths(&r.paths))
                .filter_map(|p| p.to_str().map(str::to_string))
                .collect()
        };
        let mut words = vec!["$FAST"];
        if slow_round {
            words.push("$SLOW");
        }
        words.extend(fresh.iter().map(String::as_str));
        let reading = shell.read(&words, limit).await?;
        let Some(at_ns) = reading.uptime_ns() else {
            return Err(HostError {
                words: "the host's /proc/uptime is unreadable".into(),
                settled: true,
            });
        };

        let mut batch = Vec::new();
        for (id, tracked) in tracked.iter_mut() {
            let Reader::Host(reader) = &mut tracked.reader else { continue };
            match host_sample(reader, &reading, at_ns) {
                Some(sample) => batch.push((id.clone(), sample)),
                None => {
                    // Gone, or its files moved: the API answers for it from now on.
                    tracing::debug!(%id, "host files vanished; using the API");
                    tracked.reader = Reader::Api;
                    self.lists_current = false;
                }
            }
        }
        Ok(batch)
    }
}

fn all_plain(paths: &CgroupPaths) -> bool {
    fast_paths(paths).chain(slow_paths(paths)).all(is_plain_path)
}

/// The files read every interval.
fn fast_paths(paths: &CgroupPaths) -> impl Iterator<Item = &Path> {
    [
        Some(paths.cpu.as_path()),
        Some(&paths.memory_usage),
        paths.pids.as_deref(),
        Some(&paths.net_dev),
    ]
    .into_iter()
    .flatten()
}

/// The files read every [`cgroup::SLOW_EVERY`] intervals.
fn slow_paths(paths: &CgroupPaths) -> impl Iterator<Item = &Path> {
    [paths.memory_stat.as_path(), &paths.memory_limit, &paths.oom_events]
        .into_iter()
        .chain(paths.blkio.iter().map(|p| p.as_path()))
}

/// One container's sample from a reading; `None` when its counters are missing.
fn host_sample(reader: &mut HostReader, reading: &Reading, at_ns: u64) -> Option<RawSample> {
    let paths = &reader.paths;
    let counters = &mut reader.counters;
    let cpu_ns = counters.cpu_ns(reading.get(&paths.cpu)?);
    let usage = cgroup::parse_number(reading.get(&paths.memory_usage)?);
    if let Some(stat) = reading.get(&paths.memory_stat) {
        counters.note_memory_stat(stat);
        if let Some(limit) = reading.get(&paths.memory_limit) {
            counters.note_limit(limit);
        }
        counters.note_block(paths.blkio.iter().find_map(|p| reading.get(p)));
        counters.note_oom_events(reading.get(&paths.oom_events));
    }
    let pids = paths.pids.as_ref().and_then(|p| cgroup::parse_number(reading.get(p)?));
    let net = reading.get(&paths.net_dev).map(cgroup::parse_net_dev);
    Some(counters.finish(cpu_ns, usage, pids, net, at_ns))
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
        source: SampleSource::EngineApi,
        taken_at: Utc::now(),
        cpu,
        memory_used,
        memory_limit: memory.and_then(|m| m.limit),
        net_rx,
        net_tx,
        block_read,
        block_write,
        pids: response.pids_stats.as_ref().and_then(|p| p.current),
        oom_kills: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1_paths() -> CgroupPaths {
        let dir = |c: &str| PathBuf::from(format!("/sys/fs/cgroup/{c}/docker/abc"));
        CgroupPaths {
            layout: CgroupLayout::V1,
            cpu: dir("cpuacct").join("cpuacct.usage"),
            memory_usage: dir("memory").join("memory.usage_in_bytes"),
            memory_stat: dir("memory").join("memory.stat"),
            memory_limit: dir("memory").join("memory.limit_in_bytes"),
            pids: Some(dir("pids").join("pids.current")),
            blkio: vec![
                dir("blkio").join("blkio.throttle.io_service_bytes_recursive"),
                dir("blkio").join("blkio.throttle.io_service_bytes"),
            ],
            oom_events: dir("memory").join("memory.oom_control"),
            net_dev: PathBuf::from("/proc/42/net/dev"),
        }
    }

    /// What `head -v` prints for these files, as the host shell returns it.
    fn head_output(files: &[(&str, &str)]) -> String {
        files.iter().map(|(path, text)| format!("==> {path} <==\n{text}\n\n")).collect()
    }

    #[test]
    fn a_host_reading_gives_the_local_readers_figures() {
        let paths = v1_paths();
        let p = |path: &Path| path.to_str().unwrap().to_string();
        let net = "Inter-|\n face |\n    lo: 9 1 0 0 0 0 0 0 9 1 0 0 0 0 0 0\n  eth0: 1500 10 0 0 0 0 0 0 700 5 0 0 0 0 0 0";
        let first = head_output(&[
            ("/proc/uptime", "100.50 3.00"),
            (&p(&paths.cpu), "2000000000"),
            (&p(&paths.memory_usage), "10000"),
            (&p(paths.pids.as_ref().unwrap()), "3"),
            (&p(&paths.net_dev), net),
            (&p(&paths.memory_stat), "cache 5\ntotal_inactive_file 4000\n"),
            (&p(&paths.memory_limit), "67108864"),
            // The preferred block table is missing: the other name is used.
            (&p(&paths.blkio[1]), "8:0 Read 4096\n8:0 Write 8192\nTotal 12288"),
        ]);
        let mut reader = HostReader {
            paths: paths.clone(),
            counters: Counters::new(CgroupLayout::V1, SampleSource::HostFilesOverSsh),
        };
        assert!(reader.counters.is_fresh());
        let reading = Reading::parse(&first);
        let at = reading.uptime_ns().unwrap();
        let sample = host_sample(&mut reader, &reading, at).unwrap();
        assert_eq!(sample.cpu, Some(CpuCounter::Cgroup { usage_ns: 2_000_000_000, at_ns: at }));
        assert_eq!(sample.memory_used, Some(6000), "usage less the inactive file cache");
        assert_eq!(sample.memory_limit, Some(64 << 20));
        assert_eq!((sample.block_read, sample.block_write), (Some(4096), Some(8192)));
        assert_eq!((sample.net_rx, sample.net_tx), (Some(1500), Some(700)));
        assert_eq!(sample.pids, Some(3));
        assert_eq!(sample.source, SampleSource::HostFilesOverSsh);

        // A fast-only reading keeps the slow figures from before; half a core busy.
        let second = head_output(&[
            ("/proc/uptime", "101.50 3.00"),
            (&p(&paths.cpu), "2500000000"),
            (&p(&paths.memory_usage), "12000"),
            (&p(paths.pids.as_ref().unwrap()), "4"),
            (&p(&paths.net_dev), net),
        ]);
        let reading = Reading::parse(&second);
        let next = host_sample(&mut reader, &reading, reading.uptime_ns().unwrap()).unwrap();
        assert_eq!(next.memory_used, Some(8000));
        assert_eq!(next.memory_limit, Some(64 << 20));
        assert_eq!(
            crate::model::stats::cpu_percent(&sample.cpu.unwrap(), &next.cpu.unwrap()),
            Some(50.0)
        );

        // A container whose counters are gone gives no sample (the API takes over).
        let gone = Reading::parse(&head_output(&[("/proc/uptime", "102.0 3.0")]));
        assert_eq!(host_sample(&mut reader, &gone, 0), None);
    }

    fn offline_docker() -> Docker {
        Docker::connect_with_http("http://127.0.0.1:9", 1, bollard::API_DEFAULT_VERSION)
            .expect("a client needs no engine until it asks")
    }

    #[test]
    fn unreadable_files_are_said_once_and_a_gone_container_not_at_all() {
        let root = std::env::temp_dir().join(format!("portolan-unreadable-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "proc/self/mountinfo",
            "30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw\n",
        );
        // Two containers whose processes are there but whose cgroup directories cannot
        // be read (a rootless engine's, seen by another user, look the same).
        write("proc/100/cgroup", "0::/system.slice/docker-aaa.scope\n");
        write("proc/101/cgroup", "0::/system.slice/docker-bbb.scope\n");
        let mut collector =
            StatsCollector::new(offline_docker(), StatsSource::Auto, Duration::from_secs(1))
                .with_cgroup_root(root.clone());
        // Exited before it could be read: nothing to tell.
        assert_eq!(collector.track("ccc".into(), Some(102)), None);
        assert!(collector.warnings.is_empty());
        assert_eq!(collector.track("aaa".into(), Some(100)), None);
        assert_eq!(collector.track("bbb".into(), Some(101)), None);
        assert!(collector.tracked.values().all(|t| matches!(t.reader, Reader::Api)));
        assert_eq!(collector.warnings.len(), 1, "{:?}", collector.warnings);
        let expected = format!(
            "stats for some containers come from the engine API, which is slower: {} is not \
             readable (no such file)",
            root.join("sys/fs/cgroup/system.slice/docker-aaa.scope/cpu.stat").display()
        );
        assert_eq!(collector.warnings[0], expected);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_readable_container_is_sampled_from_its_files_at_once() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cgroup/v2-systemd");
        let mut collector =
            StatsCollector::new(offline_docker(), StatsSource::Auto, Duration::from_secs(1))
                .with_cgroup_root(root);
        let id = "35f95d053f6256a15931ba759eaadd3d9b59d74aa47e730a1cd95832a717472e";
        let (first_id, sample) = collector.track(id.into(), Some(2417)).expect("a first sample");
        assert_eq!(first_id, id);
        assert_eq!(sample.memory_used, Some(52_428_800));
        assert_eq!(sample.oom_kills, Some(1));
        assert!(collector.warnings.is_empty());
    }

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

//! Resource samples and the formulas that turn two of them into rates, the way
//! `docker stats` computes them.

use chrono::{DateTime, Utc};

use super::ring::Ring;

/// Ten minutes at one sample a second.
pub const DEFAULT_HISTORY: usize = 600;

/// A cumulative CPU counter, from wherever the sample came.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CpuCounter {
    /// Read from the cgroup: CPU time used in nanoseconds, and when it was read
    /// (monotonic nanoseconds).
    Cgroup { usage_ns: u64, at_ns: u64 },
    /// From the engine API: the container's total usage and the host's system usage,
    /// both in nanoseconds, and the number of online CPUs.
    Api { total_ns: u64, system_ns: u64, online_cpus: u32 },
}

/// One raw reading of a container's counters. Rates are computed by the model from
/// consecutive readings, never trusted from the engine's `precpu`.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSample {
    pub taken_at: DateTime<Utc>,
    pub cpu: Option<CpuCounter>,
    /// Memory in use, cache already subtracted (see [`memory_used`]).
    pub memory_used: Option<u64>,
    pub memory_limit: Option<u64>,
    pub net_rx: Option<u64>,
    pub net_tx: Option<u64>,
    pub block_read: Option<u64>,
    pub block_write: Option<u64>,
    pub pids: Option<u64>,
    /// OOM kills in the container's cgroup since it was created, where the kernel
    /// counts them (cgroup files only: the engine's stats API has no such figure).
    pub oom_kills: Option<u64>,
    pub source: SampleSource,
}

/// Where a reading came from: said in the JSON, so a remote user knows whether the
/// figures are the host's own counters or the engine's slower answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SampleSource {
    /// This machine's cgroup and /proc files.
    #[default]
    CgroupFiles,
    /// The same files on the engine's host, read through a shell over ssh.
    HostFilesOverSsh,
    /// The engine's stats API.
    EngineApi,
}

impl SampleSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SampleSource::CgroupFiles => "cgroup files",
            SampleSource::HostFilesOverSsh => "host cgroup files over ssh",
            SampleSource::EngineApi => "engine API",
        }
    }
}

/// Percent of one CPU used between two readings (100 % = one full core), or `None`
/// when the readings cannot be paired (different sources, counter reset, no time).
pub fn cpu_percent(previous: &CpuCounter, current: &CpuCounter) -> Option<f64> {
    match (previous, current) {
        (
            CpuCounter::Cgroup { usage_ns: u0, at_ns: t0 },
            CpuCounter::Cgroup { usage_ns: u1, at_ns: t1 },
        ) => {
            let wall = t1.checked_sub(*t0).filter(|d| *d > 0)?;
            let used = u1.checked_sub(*u0)?;
            Some(used as f64 / wall as f64 * 100.0)
        }
        (
            CpuCounter::Api { total_ns: u0, system_ns: s0, .. },
            CpuCounter::Api { total_ns: u1, system_ns: s1, online_cpus },
        ) => {
            let system = s1.checked_sub(*s0).filter(|d| *d > 0)?;
            let used = u1.checked_sub(*u0)?;
            let cpus = (*online_cpus).max(1);
            Some(used as f64 / system as f64 * f64::from(cpus) * 100.0)
        }
        _ => None,
    }
}

/// Which cgroup layout a memory reading came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupLayout {
    V1,
    V2,
}

/// Memory in use as `docker stats` shows it: usage minus inactive file cache, which
/// the kernel can drop at will. cgroup v1 names the counter `total_inactive_file`,
/// v2 `inactive_file`; a cache larger than usage (racy reads) leaves usage as is.
pub fn memory_used(layout: CgroupLayout, usage: u64, stat: &[(&str, u64)]) -> u64 {
    let key = match layout {
        CgroupLayout::V1 => "total_inactive_file",
        CgroupLayout::V2 => "inactive_file",
    };
    match stat.iter().find(|(k, _)| *k == key) {
        Some((_, inactive)) if *inactive < usage => usage - inactive,
        _ => usage,
    }
}

/// The rates and gauges derived from one sample and the one before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatsPoint {
    pub at: DateTime<Utc>,
    pub cpu_percent: Option<f64>,
    pub memory_bytes: Option<u64>,
    pub memory_limit_bytes: Option<u64>,
    pub net_rx_bytes: Option<u64>,
    pub net_tx_bytes: Option<u64>,
    /// Bytes per second since the previous sample.
    pub net_rx_rate: Option<f64>,
    pub net_tx_rate: Option<f64>,
    pub block_read_bytes: Option<u64>,
    pub block_write_bytes: Option<u64>,
    pub pids: Option<u64>,
    pub oom_kills: Option<u64>,
    pub source: SampleSource,
}

impl StatsPoint {
    pub fn memory_percent(&self) -> Option<f64> {
        match (self.memory_bytes, self.memory_limit_bytes) {
            (Some(used), Some(limit)) if limit > 0 => Some(used as f64 / limit as f64 * 100.0),
            _ => None,
        }
    }
}

/// A container's stats history.
#[derive(Debug, Clone)]
pub struct ContainerStats {
    last_sample: Option<RawSample>,
    history: Ring<StatsPoint>,
}

impl ContainerStats {
    pub fn new(history_len: usize) -> Self {
        ContainerStats { last_sample: None, history: Ring::new(history_len) }
    }

    /// Adds a sample; `host_memory` caps a limit the kernel reports as "unlimited",
    /// as the engine does.
    pub fn record(&mut self, sample: RawSample, host_memory: Option<u64>) {
        let previous = self.last_sample.take();
        let cpu_percent = match (previous.as_ref().and_then(|p| p.cpu), sample.cpu) {
            (Some(prev), Some(cur)) => cpu_percent(&prev, &cur),
            _ => None,
        };
        let seconds = previous
            .as_ref()
            .map(|p| (sample.taken_at - p.taken_at).num_milliseconds() as f64 / 1000.0)
            .filter(|s| *s > 0.0);
        let rate = |prev: Option<u64>, cur: Option<u64>| match (prev, cur, seconds) {
            (Some(p), Some(c), Some(s)) if c >= p => Some((c - p) as f64 / s),
            _ => None,
        };
        let memory_limit_bytes = match (sample.memory_limit, host_memory) {
            (Some(limit), Some(host)) => Some(limit.min(host)),
            (limit, _) => limit,
        };
        let point = StatsPoint {
            at: sample.taken_at,
            cpu_percent,
            memory_bytes: sample.memory_used,
            memory_limit_bytes,
            net_rx_bytes: sample.net_rx,
            net_tx_bytes: sample.net_tx,
            net_rx_rate: rate(previous.as_ref().and_then(|p| p.net_rx), sample.net_rx),
            net_tx_rate: rate(previous.as_ref().and_then(|p| p.net_tx), sample.net_tx),
            block_read_bytes: sample.block_read,
            block_write_bytes: sample.block_write,
            pids: sample.pids,
            oom_kills: sample.oom_kills,
            source: sample.source,
        };
        self.history.push(point);
        self.last_sample = Some(sample);
    }

    /// Called when the container stops or the engine is lost: the next sample starts
    /// a new pair instead of producing a rate across the gap.
    pub fn forget_last_sample(&mut self) {
        self.last_sample = None;
    }

    pub fn latest(&self) -> Option<&StatsPoint> {
        self.history.last()
    }

    /// The newest point that has a CPU figure: the first sample of a pair has none.
    pub fn latest_with_cpu(&self) -> Option<&StatsPoint> {
        self.history.iter().rev().find(|p| p.cpu_percent.is_some())
    }

    pub fn history(&self) -> &Ring<StatsPoint> {
        &self.history
    }

    /// A point as a record kept it (the time cursor rebuilds a moment from them):
    /// there is no sample to pair the next one with.
    pub fn push_point(&mut self, point: StatsPoint) {
        self.history.push(point);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(second: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + second, 0).single().expect("valid time")
    }

    fn sample(second: i64, cpu: CpuCounter) -> RawSample {
        RawSample {
            source: Default::default(),
            taken_at: at(second),
            cpu: Some(cpu),
            memory_used: Some(10 << 20),
            memory_limit: Some(u64::MAX),
            net_rx: Some(1000 * second as u64),
            net_tx: Some(0),
            block_read: None,
            block_write: None,
            pids: Some(3),
            oom_kills: None,
        }
    }

    #[test]
    fn cgroup_cpu_percent_is_share_of_one_core() {
        let a = CpuCounter::Cgroup { usage_ns: 1_000_000_000, at_ns: 5_000_000_000 };
        let b = CpuCounter::Cgroup { usage_ns: 1_500_000_000, at_ns: 6_000_000_000 };
        assert_eq!(cpu_percent(&a, &b), Some(50.0));
        // Two cores busy for one second.
        let c = CpuCounter::Cgroup { usage_ns: 3_500_000_000, at_ns: 7_000_000_000 };
        assert_eq!(cpu_percent(&b, &c), Some(200.0));
    }

    #[test]
    fn api_cpu_percent_matches_docker_cli_formula() {
        // docker CLI: (Δtotal / Δsystem) × online CPUs × 100.
        let a = CpuCounter::Api { total_ns: 100, system_ns: 1_000, online_cpus: 2 };
        let b = CpuCounter::Api { total_ns: 600, system_ns: 3_000, online_cpus: 2 };
        assert_eq!(cpu_percent(&a, &b), Some(50.0));
    }

    #[test]
    fn cpu_percent_refuses_unpairable_samples() {
        let a = CpuCounter::Cgroup { usage_ns: 10, at_ns: 10 };
        let same_time = CpuCounter::Cgroup { usage_ns: 20, at_ns: 10 };
        let reset = CpuCounter::Cgroup { usage_ns: 5, at_ns: 20 };
        let api = CpuCounter::Api { total_ns: 1, system_ns: 1, online_cpus: 1 };
        assert_eq!(cpu_percent(&a, &same_time), None);
        assert_eq!(cpu_percent(&a, &reset), None);
        assert_eq!(cpu_percent(&a, &api), None);
    }

    #[test]
    fn memory_subtracts_inactive_file_per_layout() {
        let v1 = [("cache", 500), ("total_inactive_file", 300), ("inactive_file", 1)];
        assert_eq!(memory_used(CgroupLayout::V1, 1000, &v1), 700);
        let v2 = [("file", 500), ("inactive_file", 200)];
        assert_eq!(memory_used(CgroupLayout::V2, 1000, &v2), 800);
        // Missing counter or a cache larger than usage: usage as reported.
        assert_eq!(memory_used(CgroupLayout::V2, 1000, &[]), 1000);
        assert_eq!(memory_used(CgroupLayout::V1, 100, &[("total_inactive_file", 300)]), 100);
    }

    #[test]
    fn history_computes_rates_and_caps_unlimited_memory() {
        let mut stats = ContainerStats::new(600);
        stats.record(sample(0, CpuCounter::Cgroup { usage_ns: 0, at_ns: 0 }), Some(8 << 30));
        let first = *stats.latest().expect("point");
        assert_eq!(first.cpu_percent, None);
        assert_eq!(first.memory_limit_bytes, Some(8 << 30));
        stats.record(
            sample(2, CpuCounter::Cgroup { usage_ns: 500_000_000, at_ns: 2_000_000_000 }),
            Some(8 << 30),
        );
        let second = *stats.latest().expect("point");
        assert_eq!(second.cpu_percent, Some(25.0));
        assert_eq!(second.net_rx_rate, Some(1000.0));
        assert_eq!(stats.latest_with_cpu().and_then(|p| p.cpu_percent), Some(25.0));
        stats.forget_last_sample();
        stats.record(
            sample(3, CpuCounter::Cgroup { usage_ns: 900_000_000, at_ns: 3_000_000_000 }),
            None,
        );
        assert_eq!(stats.latest().and_then(|p| p.cpu_percent), None);
        assert_eq!(stats.history().len(), 3);
    }
}

/// How far back the Stats pane's charts reach: the last ten minutes the model holds,
/// or a longer span read from the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChartSpan {
    #[default]
    Live,
    Hour,
    Day,
    Week,
}

impl ChartSpan {
    pub fn next(self) -> ChartSpan {
        match self {
            ChartSpan::Live => ChartSpan::Hour,
            ChartSpan::Hour => ChartSpan::Day,
            ChartSpan::Day => ChartSpan::Week,
            ChartSpan::Week => ChartSpan::Live,
        }
    }

    /// How the chart's title says it.
    pub fn words(self) -> &'static str {
        match self {
            ChartSpan::Live => "last 10 min",
            ChartSpan::Hour => "last hour (record)",
            ChartSpan::Day => "last 24 h (record)",
            ChartSpan::Week => "last 7 days (record)",
        }
    }

    pub fn seconds(self) -> i64 {
        match self {
            ChartSpan::Live => 600,
            ChartSpan::Hour => 3600,
            ChartSpan::Day => 86_400,
            ChartSpan::Week => 7 * 86_400,
        }
    }
}

/// A span of a container's figures read from the record, with its project's sum:
/// cpu (% of a core), memory (bytes) and network (bytes a second), oldest first, in
/// equal buckets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordedSeries {
    pub host: usize,
    pub container_id: String,
    pub span: ChartSpan,
    pub own: [Vec<f64>; 3],
    pub project: [Vec<f64>; 3],
    /// Rows read: none means the record holds nothing for the span.
    pub rows: usize,
    /// Why there is nothing, in words (no record, a damaged file...).
    pub error: Option<String>,
}

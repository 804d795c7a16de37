//! The real cgroup reader against one fixture tree per layout Docker uses (see
//! `tests/fixtures/cgroup/README.md`): every figure must equal what the engine's
//! own stats formula gives for the same files.
//!
//! The formula, as moby and the docker CLI apply it:
//! - CPU: cgroup v1 `cpuacct.usage` in ns; v2 `cpu.stat` `usage_usec` × 1000 (moby's
//!   `statsV2`, `CPUStats.CPUUsage.TotalUsage`).
//! - memory used: usage less the inactive file cache: v1 `memory.usage_in_bytes` −
//!   `total_inactive_file`, v2 `memory.current` − `inactive_file` (the CLI's
//!   `calculateMemUsageUnixNoCache`).
//! - limit: v1 `memory.limit_in_bytes`; v2 `memory.max`, where `max` reads as
//!   `u64::MAX` (containerd's cgroup v2 reader) and the model caps it at host memory.
//! - block I/O: every device's `Read`/`Write` (v1 `blkio.throttle.io_service_bytes_recursive`)
//!   or `rbytes`/`wbytes` (v2 `io.stat`) summed (the CLI's `calculateBlockIO`).
//! - network: `rx_bytes`/`tx_bytes` of every interface but loopback, summed (the CLI's
//!   `calculateNetwork` over the daemon's per-interface figures).
//! - pids: `pids.current`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use bollard::models::ContainerStatsResponse;
use portolan::engine::cgroup::{CgroupMounts, CgroupReader};
use portolan::engine::stats::from_api;
use portolan::model::stats::SampleSource;
use portolan::model::{CpuCounter, RawSample};

fn root(layout: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cgroup").join(layout)
}

/// The first sample of the real reader on a fixture tree.
fn read(layout: &str, id: &str, pid: u32) -> RawSample {
    let root = root(layout);
    let mounts = CgroupMounts::detect_at(&root).expect("fixture mountinfo");
    let mut reader =
        CgroupReader::open_at(&root, &mounts, id, pid).unwrap_or_else(|e| panic!("{layout}: {e}"));
    reader.sample(1_000).expect("fixture files read")
}

/// What a test expects of a sample, by hand from the formula above.
struct Expected {
    cpu_ns: u64,
    memory_used: u64,
    memory_limit: u64,
    pids: u64,
    block: (u64, u64),
    net: (u64, u64),
    oom_kills: u64,
}

fn check(layout: &str, sample: &RawSample, expected: &Expected) {
    assert_eq!(
        sample.cpu,
        Some(CpuCounter::Cgroup { usage_ns: expected.cpu_ns, at_ns: 1_000 }),
        "{layout}: CPU"
    );
    assert_eq!(sample.memory_used, Some(expected.memory_used), "{layout}: memory used");
    assert_eq!(sample.memory_limit, Some(expected.memory_limit), "{layout}: memory limit");
    assert_eq!(sample.pids, Some(expected.pids), "{layout}: pids");
    assert_eq!(
        (sample.block_read, sample.block_write),
        (Some(expected.block.0), Some(expected.block.1)),
        "{layout}: block I/O"
    );
    assert_eq!(
        (sample.net_rx, sample.net_tx),
        (Some(expected.net.0), Some(expected.net.1)),
        "{layout}: network"
    );
    assert_eq!(sample.oom_kills, Some(expected.oom_kills), "{layout}: OOM kills");
    assert_eq!(sample.source, SampleSource::CgroupFiles);
}

/// The same figures through the engine's stats API, as the daemon reports these files:
/// the API fallback must show what the files show.
fn check_api_agrees(layout: &str, files: &RawSample, api_body: &str) {
    let response: ContainerStatsResponse = serde_json::from_str(api_body).expect("stats body");
    let api = from_api(response);
    assert_eq!(api.memory_used, files.memory_used, "{layout}: memory used, API vs files");
    assert_eq!(api.memory_limit, files.memory_limit, "{layout}: limit, API vs files");
    assert_eq!(
        (api.block_read, api.block_write),
        (files.block_read, files.block_write),
        "{layout}: block, API vs files"
    );
    assert_eq!(
        (api.net_rx, api.net_tx),
        (files.net_rx, files.net_tx),
        "{layout}: network, API vs files"
    );
    assert_eq!(api.pids, files.pids, "{layout}: pids, API vs files");
    match api.cpu {
        Some(CpuCounter::Api { total_ns, .. }) => {
            assert_eq!(Some(CpuCounter::Cgroup { usage_ns: total_ns, at_ns: 1_000 }), files.cpu)
        }
        other => panic!("{layout}: API CPU {other:?}"),
    }
}

#[test]
fn cgroup_v1_cgroupfs() {
    let layout = "v1-cgroupfs";
    let sample =
        read(layout, "6f4c0d9073f3dc450ae72da9ae63287ae6fa8b877d64669994672108f93c419c", 1893);
    check(
        layout,
        &sample,
        &Expected {
            cpu_ns: 8_812_345_678,
            memory_used: 52_428_800 - 12_582_912,
            memory_limit: 268_435_456,
            pids: 7,
            // Two devices (the disk and its device-mapper volume), 1 MiB read and 4 MiB
            // written on each: the engine counts both, and so do we.
            block: (2 * 1_048_576, 2 * 4_194_304),
            net: (1_234_567, 89_012),
            oom_kills: 2,
        },
    );
    check_api_agrees(
        layout,
        &sample,
        r#"{"cpu_stats":{"cpu_usage":{"total_usage":8812345678},"system_cpu_usage":1,"online_cpus":4},
            "memory_stats":{"usage":52428800,"limit":268435456,"stats":{"total_inactive_file":12582912,"cache":20971520}},
            "blkio_stats":{"io_service_bytes_recursive":[
              {"major":8,"minor":0,"op":"Read","value":1048576},{"major":8,"minor":0,"op":"Write","value":4194304},
              {"major":8,"minor":0,"op":"Sync","value":4194304},{"major":8,"minor":0,"op":"Total","value":5242880},
              {"major":253,"minor":0,"op":"Read","value":1048576},{"major":253,"minor":0,"op":"Write","value":4194304},
              {"major":253,"minor":0,"op":"Total","value":5242880}]},
            "pids_stats":{"current":7},
            "networks":{"eth0":{"rx_bytes":1234567,"tx_bytes":89012}}}"#,
    );
}

#[test]
fn cgroup_v2_systemd_driver() {
    let layout = "v2-systemd";
    let sample =
        read(layout, "35f95d053f6256a15931ba759eaadd3d9b59d74aa47e730a1cd95832a717472e", 2417);
    check(
        layout,
        &sample,
        &Expected {
            cpu_ns: 4_423_157 * 1000,
            memory_used: 73_400_320 - 20_971_520,
            // `memory.max` says "max": no limit of its own.
            memory_limit: u64::MAX,
            pids: 12,
            block: (2 * 3_145_728, 2 * 1_048_576),
            net: (1_536_000, 204_800),
            oom_kills: 1,
        },
    );
    // moby's statsV2 turns each io.stat line into a "read" and a "write" entry.
    check_api_agrees(
        layout,
        &sample,
        r#"{"cpu_stats":{"cpu_usage":{"total_usage":4423157000},"system_cpu_usage":1,"online_cpus":8},
            "memory_stats":{"usage":73400320,"limit":18446744073709551615,"stats":{"inactive_file":20971520,"file":29798400,"anon":41943040}},
            "blkio_stats":{"io_service_bytes_recursive":[
              {"major":259,"minor":0,"op":"read","value":3145728},{"major":259,"minor":0,"op":"write","value":1048576},
              {"major":253,"minor":0,"op":"read","value":3145728},{"major":253,"minor":0,"op":"write","value":1048576}]},
            "pids_stats":{"current":12,"limit":18446744073709551615},
            "networks":{"eth0":{"rx_bytes":1536000,"tx_bytes":204800}}}"#,
    );
}

#[test]
fn cgroup_v2_cgroupfs_driver() {
    let layout = "v2-cgroupfs";
    let sample =
        read(layout, "d41254dfe5bf4ecd4b67439e8a881f95b3d7689ab8f188f6aa8bd4d02ecc5f6a", 3120);
    check(
        layout,
        &sample,
        &Expected {
            cpu_ns: 981_002 * 1000,
            memory_used: 134_217_728 - 16_777_216,
            memory_limit: 536_870_912,
            pids: 3,
            block: (52_428_800, 10_485_760),
            net: (90_210, 4_321),
            oom_kills: 0,
        },
    );
}

#[test]
fn rootless_cgroup_v2_under_the_users_slice() {
    let layout = "rootless-v2";
    let sample =
        read(layout, "da4867c1c9bf4ae9fddde6eeb87b684c34c0079b728ff7febadb328c38cea825", 48211);
    check(
        layout,
        &sample,
        &Expected {
            cpu_ns: 15_002_311 * 1000,
            memory_used: 25_165_824 - 8_388_608,
            memory_limit: u64::MAX,
            pids: 5,
            block: (4_096, 2_101_248),
            net: (7_777, 3_333),
            oom_kills: 0,
        },
    );
}

#[test]
fn a_pid_of_another_container_is_refused_in_every_layout() {
    for (layout, pid) in
        [("v1-cgroupfs", 1893), ("v2-systemd", 2417), ("v2-cgroupfs", 3120), ("rootless-v2", 48211)]
    {
        let root = root(layout);
        let mounts = CgroupMounts::detect_at(&root).expect("fixture mountinfo");
        let refused = CgroupReader::open_at(&root, &mounts, "0000000000000000", pid);
        assert!(refused.is_err(), "{layout}: another container's pid was read");
    }
}

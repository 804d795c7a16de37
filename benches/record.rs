//! Reading the record back: `cargo bench --bench record`. Writes a day of ten-second
//! averages for a project of 20 containers (172 800 rows) into a temporary record,
//! then prints the median time the Stats pane's "last 24 h" read takes (target: at
//! most 200 ms), and the file's size. Then the time cursor: a day of 50 compose
//! containers (keyframes at every state change, a healthcheck every 30 s, an hour of
//! samples and a day of ten-second averages) and the median time to rebuild the
//! state at a moment (target: at most 100 ms), with the bytes each keyframe costs.
//! Under `cargo test --all-targets` (no `--bench` argument) it writes a few rows and
//! reads them once, to keep the code building.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Instant;

use chrono::{Duration, Utc};
use portolan::model::stats::ChartSpan;
use portolan::model::{
    Container, ContainerState, Health, HealthStatus, Healthcheck, Mount, NetworkAttachment, Port,
    RestartPolicy,
};
use portolan::record::frames::{Framer, Part};
use portolan::record::store::{self, Store};
use portolan::record::writer::Writer;
use portolan::record::{ProbeRow, Record, Retention, StatsRow, Tier, read};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (containers, rows_each): (u32, u32) = if full { (20, 8640) } else { (2, 10) };
    let dir = std::env::temp_dir().join(format!("portolan-bench-record-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("engine.db");
    let now = Utc::now();
    {
        let lock = store::lock(&path).unwrap();
        let store = Store::open_for_writing(&path, &lock).unwrap();
        let mut writer = Writer::spawn(store, lock, Retention::default(), "bench", |_| {}).unwrap();
        for c in 0..containers {
            let rows = (0..rows_each)
                .map(|i| {
                    Record::Stats(StatsRow {
                        tier: Tier::TenSeconds,
                        container_id: format!("{c:064x}"),
                        at: now - Duration::seconds(10 * i64::from(i)),
                        cpu_percent: Some(f64::from(i % 100)),
                        memory_bytes: Some(100_000_000 + u64::from(i)),
                        memory_limit_bytes: Some(1 << 30),
                        net_rx_bytes: Some(u64::from(rows_each - i) * 5_000),
                        net_tx_bytes: Some(u64::from(rows_each - i) * 1_000),
                        block_read_bytes: Some(0),
                        block_write_bytes: Some(4096),
                        pids: Some(3),
                    })
                })
                .collect();
            writer.send(rows);
        }
        writer.stop();
    }
    let project: Vec<String> = (0..containers).map(|c| format!("{c:064x}")).collect();
    let store = Store::open_for_reading(&path).unwrap().unwrap();
    let runs = if full { 7 } else { 1 };
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let (_, _, rows) =
                read::series(&store, &project[0], &project, ChartSpan::Day, now).unwrap();
            assert_eq!(rows, containers as usize * rows_each as usize);
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    if full {
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!(
            "record: last 24 h of a project of {containers} containers ({} rows, file {:.1} MiB): {:.1} ms (median of {runs})",
            containers * rows_each,
            size as f64 / 1048576.0,
            times[runs / 2]
        );
    }
    let _ = std::fs::remove_dir_all(dir);
    rewind(full);
}

/// A compose service as an engine lists it: labels, a healthcheck, a port, a
/// network, a volume.
fn service(
    n: u32,
    state: ContainerState,
    at: chrono::DateTime<Utc>,
    created: chrono::DateTime<Utc>,
) -> Container {
    let project = format!("stack{}", n / 10);
    let service = format!("svc{n}");
    let mut c = Container::new(format!("{n:064x}"), format!("{project}-{service}-1"));
    c.image = format!("registry.example.com/team/{service}:1.4.{n}");
    c.command = "/docker-entrypoint.sh nginx -g 'daemon off;'".into();
    c.cmd = vec!["nginx".into(), "-g".into(), "daemon off;".into()];
    c.created = Some(created);
    c.state = state;
    c.started_at = Some(at - Duration::minutes(30));
    if state != ContainerState::Running {
        c.finished_at = Some(at);
        c.exit_code = Some(1);
    }
    for (key, value) in [
        ("com.docker.compose.project", project.as_str()),
        ("com.docker.compose.service", service.as_str()),
        ("com.docker.compose.container-number", "1"),
        ("com.docker.compose.oneoff", "False"),
        ("com.docker.compose.version", "2.29.7"),
        ("com.docker.compose.project.working_dir", "/srv/stacks/app"),
        ("com.docker.compose.project.config_files", "/srv/stacks/app/compose.yaml"),
        (
            "com.docker.compose.config-hash",
            "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
        ),
        ("com.docker.compose.depends_on", "db:service_healthy:false"),
        (
            "com.docker.compose.image",
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ),
    ] {
        c.labels.insert(key.into(), value.into());
    }
    c.compose = Container::compose_from_labels(&c.labels);
    c.healthcheck = Some(Healthcheck {
        test: vec!["CMD-SHELL".into(), "wget -qO- http://localhost/health || exit 1".into()],
        interval_ns: Some(30_000_000_000),
        timeout_ns: Some(5_000_000_000),
        retries: Some(3),
        start_period_ns: None,
    });
    c.health = Some(Health { status: HealthStatus::Healthy, failing_streak: 0, log: Vec::new() });
    c.ports.push(Port {
        host_ip: Some("0.0.0.0".into()),
        host_port: Some(8000 + n as u16),
        container_port: 80,
        protocol: "tcp".into(),
    });
    c.networks.push(NetworkAttachment {
        name: format!("{project}_default"),
        ip: Some(format!("172.20.0.{}", n + 2)),
        aliases: vec![service.clone(), c.name.clone()],
    });
    c.mounts.push(Mount {
        kind: "volume".into(),
        name: Some(format!("{project}_data")),
        source: Some(format!("/var/lib/docker/volumes/{project}_data/_data")),
        destination: "/data".into(),
        read_only: false,
    });
    c.restart_policy =
        Some(RestartPolicy { name: "unless-stopped".into(), maximum_retry_count: Some(0) });
    c.env.push(("API_TOKEN".into(), "secret".into()));
    c
}

fn rewind(full: bool) {
    let (containers, hours): (u32, i64) = if full { (50, 24) } else { (3, 1) };
    let dir = std::env::temp_dir().join(format!("portolan-bench-rewind-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let now = Utc::now();
    let start = now - Duration::hours(hours);
    // Each container flips state every 30 minutes: down, then up again.
    let mut framer = Framer::default();
    let mut frames = Vec::new();
    for n in 0..containers {
        let c = service(n, ContainerState::Running, start, start - Duration::days(3));
        framer.container(&c, start, &mut frames);
    }
    let mut at = start;
    let mut round = 0;
    while at < now {
        at += Duration::minutes(30);
        round += 1;
        for n in 0..containers {
            let state =
                if (round + n) % 2 == 0 { ContainerState::Running } else { ContainerState::Exited };
            let mut c = service(n, state, at, start - Duration::days(3));
            c.restart_count = round as u64;
            framer.container(&c, at + Duration::seconds(i64::from(n)), &mut frames);
        }
    }
    let configs = frames.iter().filter(|f| f.part == Part::Config).count();
    let states = frames.len() - configs;
    let body_bytes = |part: Part| -> f64 {
        let bodies: Vec<usize> = frames
            .iter()
            .filter(|f| f.part == part)
            .map(|f| f.body.as_ref().map_or(0, String::len))
            .collect();
        bodies.iter().sum::<usize>() as f64 / bodies.len().max(1) as f64
    };
    let (config_body, state_body) = (body_bytes(Part::Config), body_bytes(Part::State));
    let frame_count = frames.len();
    // The frames alone, in a file of their own: what a keyframe costs on disk.
    let frames_path = dir.join("frames.db");
    {
        let lock = store::lock(&frames_path).unwrap();
        let store = Store::open_for_writing(&frames_path, &lock).unwrap();
        store.checkpoint().unwrap();
        let empty = store.bytes_on_disk();
        let mut writer = Writer::spawn(store, lock, Retention::default(), "bench", |_| {}).unwrap();
        writer.send(frames.iter().cloned().map(Record::Frame).collect());
        writer.stop();
        let lock = store::lock(&frames_path).unwrap();
        let store = Store::open_for_writing(&frames_path, &lock).unwrap();
        store.checkpoint().unwrap();
        let size = store.bytes_on_disk().saturating_sub(empty);
        if full {
            println!(
                "record: {frame_count} keyframes of {containers} containers over {hours} h ({configs} configurations, {states} states): {:.0} bytes each on disk; bodies {:.0} bytes (configuration) and {:.0} bytes (state)",
                size as f64 / frame_count as f64,
                config_body,
                state_body
            );
        }
    }
    // The whole day: frames, probes, stats in two tiers.
    let path = dir.join("engine.db");
    {
        let lock = store::lock(&path).unwrap();
        let store = Store::open_for_writing(&path, &lock).unwrap();
        let mut writer = Writer::spawn(store, lock, Retention::default(), "bench", |_| {}).unwrap();
        writer.send(frames.into_iter().map(Record::Frame).collect());
        for n in 0..containers {
            let id = format!("{n:064x}");
            let probes = (0..hours * 120)
                .map(|i| {
                    let at = start + Duration::seconds(30 * i);
                    Record::Probe(ProbeRow {
                        container_id: id.clone(),
                        start: at,
                        end: Some(at + Duration::milliseconds(40)),
                        exit_code: Some(i64::from(i % 50 == 0)),
                        output: "ok".into(),
                    })
                })
                .collect();
            writer.send(probes);
            let stat = |tier: Tier, at: chrono::DateTime<Utc>, i: i64| {
                Record::Stats(StatsRow {
                    tier,
                    container_id: id.clone(),
                    at,
                    cpu_percent: Some((i % 100) as f64),
                    memory_bytes: Some(100_000_000 + i as u64),
                    memory_limit_bytes: Some(1 << 30),
                    net_rx_bytes: Some(i as u64 * 5_000),
                    net_tx_bytes: Some(i as u64 * 1_000),
                    block_read_bytes: Some(0),
                    block_write_bytes: Some(4096),
                    pids: Some(3),
                })
            };
            let tens: Vec<Record> = (0..hours * 360)
                .map(|i| stat(Tier::TenSeconds, start + Duration::seconds(10 * i), i))
                .collect();
            writer.send(tens);
            let samples: Vec<Record> = (0..3600.min(hours * 3600))
                .map(|i| stat(Tier::Sample, now - Duration::seconds(3600 - i), i))
                .collect();
            writer.send(samples);
        }
        writer.stop();
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let hosts = portolan::model::Model::new("bench", now).hosts;
    let paths = vec![Some(path.clone())];
    let offset = chrono::FixedOffset::east_opt(0).unwrap();
    let runs = if full { 9 } else { 1 };
    for (what, at) in [
        ("20 min ago", now - Duration::minutes(20)),
        ("12 h ago", now - Duration::hours(hours / 2)),
    ] {
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let started = Instant::now();
                let (model, _) = read::rewind(&paths, &hosts, at, offset).unwrap();
                assert_eq!(model.containers.len(), containers as usize);
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        if full {
            println!(
                "record: rewinding {containers} containers to {what} (file {:.1} MiB): {:.1} ms (median of {runs})",
                size as f64 / 1048576.0,
                times[runs / 2]
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

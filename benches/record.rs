//! Reading the record back: `cargo bench --bench record`. Writes a day of ten-second
//! averages for a project of 20 containers (172 800 rows) into a temporary record,
//! then prints the median time the Stats pane's "last 24 h" read takes (target: at
//! most 200 ms), and the file's size. Under `cargo test --all-targets` (no `--bench`
//! argument) it writes a few rows and reads them once, to keep the code building.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Instant;

use chrono::{Duration, Utc};
use portolan::model::stats::ChartSpan;
use portolan::record::store::{self, Store};
use portolan::record::writer::Writer;
use portolan::record::{Record, Retention, StatsRow, Tier, read};

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
}

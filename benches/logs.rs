//! Throughput of the logs core: line parsing, level detection, store ingest and
//! filtering the whole history. A plain binary, no harness: `cargo bench --bench logs`.
//!
//! Each case runs for about a second after a warm-up and prints its rate. Numbers
//! depend on the machine; compare runs on the same one.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::DateTime;
use portolan::model::logs::{
    Filter, FilteredView, LineOptions, LineParser, LogLine, LogStore, SourceId, StoreConfig,
    Stream, level, pattern,
};

const RUN: Duration = Duration::from_secs(1);

/// Runs `batch` until `RUN` has passed and returns (batches, elapsed).
fn measure(mut batch: impl FnMut()) -> (u64, Duration) {
    let warm = Instant::now();
    while warm.elapsed() < RUN / 5 {
        batch();
    }
    let start = Instant::now();
    let mut runs = 0;
    while start.elapsed() < RUN {
        batch();
        runs += 1;
    }
    (runs, start.elapsed())
}

fn report(name: &str, lines: u64, bytes: u64, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    println!(
        "{name:<44} {:>12.0} lines/s {:>9.1} MiB/s",
        lines as f64 / secs,
        bytes as f64 / secs / (1024.0 * 1024.0)
    );
}

/// About 100 bytes with a few SGR codes, like a coloured framework log line.
fn typical_lines(count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let level = ["\x1b[32mINFO\x1b[0m", "\x1b[33mWARN\x1b[0m", "\x1b[31mERROR\x1b[0m"][i % 3];
            format!(
                "{level} \x1b[2mhttp::server\x1b[0m: GET /api/v1/items/{i} status=200 bytes=5120 took=\x1b[1m{}ms\x1b[0m",
                i % 997
            )
            .into_bytes()
        })
        .collect()
}

fn huge_line(len: usize) -> Vec<u8> {
    let mut line = Vec::with_capacity(len);
    while line.len() < len {
        line.extend_from_slice(
            b"\x1b[36mkey\x1b[0m=value lorem ipsum dolor sit amet, consectetur ",
        );
        line.extend_from_slice("adipiscing élit\tsed do eiusmod tempor incididunt ".as_bytes());
    }
    line.truncate(len);
    line
}

fn bench_parse() {
    let lines = typical_lines(1000);
    let bytes: u64 = lines.iter().map(|l| l.len() as u64).sum();
    println!(
        "typical line: {} bytes on average, e.g. {:?}",
        bytes / lines.len() as u64,
        String::from_utf8_lossy(&lines[1])
    );
    let mut parser = LineParser::new(LineOptions::default());
    let (runs, elapsed) = measure(|| {
        for line in &lines {
            black_box(parser.parse(black_box(line)));
        }
    });
    report("parse, typical ~100 B lines", runs * 1000, runs * bytes, elapsed);

    let (runs, elapsed) = measure(|| {
        for line in &lines {
            let text = parser.parse(black_box(line));
            black_box(level::detect(text.plain()));
        }
    });
    report("parse + level, typical lines", runs * 1000, runs * bytes, elapsed);

    let mut plain = LineParser::new(LineOptions::default().with_colors(false));
    let (runs, elapsed) = measure(|| {
        for line in &lines {
            black_box(plain.parse(black_box(line)));
        }
    });
    report("parse, typical lines, colours off", runs * 1000, runs * bytes, elapsed);

    let json: Vec<Vec<u8>> = (0..1000)
        .map(|i| {
            format!(r#"{{"level":30,"time":1714564800{i:03},"pid":1,"hostname":"web","msg":"request {i} done","ms":{i}}}"#)
                .into_bytes()
        })
        .collect();
    let json_bytes: u64 = json.iter().map(|l| l.len() as u64).sum();
    let (runs, elapsed) = measure(|| {
        for line in &json {
            let text = parser.parse(black_box(line));
            black_box(level::detect(text.plain()));
        }
    });
    report("parse + level, pino JSON lines", runs * 1000, runs * json_bytes, elapsed);

    for (name, len) in
        [("parse, 1 MB line", 1_000_000), ("parse, 8 MB line (past the keep cap)", 8 << 20)]
    {
        let line = huge_line(len);
        let (runs, elapsed) = measure(|| {
            black_box(parser.parse(black_box(&line)));
        });
        report(name, runs, runs * len as u64, elapsed);
    }
}

fn bench_store() {
    let lines = typical_lines(1000);
    let bytes: u64 = lines.iter().map(|l| l.len() as u64).sum();
    let config = StoreConfig { rate_limit: None, ..StoreConfig::default() };
    let sources: Vec<SourceId> = (0..4).map(|i| SourceId::new(&format!("container-{i}"))).collect();
    let base = DateTime::from_timestamp(1_714_564_800, 0).unwrap_or_default();
    let now = Instant::now();

    // Fill past the budget first, so the measured part includes eviction.
    let mut store = LogStore::new(config);
    let mut n: u64 = 0;
    let push = |store: &mut LogStore, n: &mut u64| {
        for line in &lines {
            let ts = base + chrono::Duration::microseconds(*n as i64);
            let source = &sources[(*n % 4) as usize];
            black_box(store.push(source, Stream::Stdout, Some(ts), line, now));
            *n += 1;
        }
    };
    let fill = Instant::now();
    while store.total_drops().budget == 0 {
        push(&mut store, &mut n);
    }
    let filled = fill.elapsed();
    report("store ingest while filling 64 MiB", n, n * bytes / 1000, filled);
    let (runs, elapsed) = measure(|| push(&mut store, &mut n));
    report("store ingest at the 64 MiB budget (evicting)", runs * 1000, runs * bytes, elapsed);
    println!(
        "  store holds {} lines in {:.1} MiB accounted ({} B/line; LogLine is {} B), {} dropped",
        store.len(),
        store.used_bytes() as f64 / (1024.0 * 1024.0),
        store.used_bytes() / store.len().max(1),
        std::mem::size_of::<LogLine>(),
        store.total_drops().budget,
    );

    let errors = pattern("error").unwrap_or_else(|e| panic!("{e}"));
    let start = Instant::now();
    let mut view = FilteredView::new(Filter { include: vec![errors], ..Filter::default() });
    view.refresh(&store);
    let full = start.elapsed();
    println!(
        "  filter \"error\" over the whole history: {} of {} lines in {:.1} ms",
        view.len(),
        store.len(),
        full.as_secs_f64() * 1000.0
    );
    push(&mut store, &mut n);
    let start = Instant::now();
    view.refresh(&store);
    println!(
        "  incremental refresh after 1000 new lines: {:.3} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
}

fn main() {
    println!(
        "portolan logs core benchmark ({} build)",
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    bench_parse();
    bench_store();
}

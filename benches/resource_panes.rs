//! Frame cost of the Images, Volumes, Networks and Disk panes: `cargo bench --bench
//! resource_panes`. 300 images (a third dangling or unused), 200 containers on them,
//! 100 volumes and 50 networks, and a disk reading of all of them; the median time to
//! draw a whole frame at 120x40, and the first frame after an image event (the rows
//! are rebuilt once per change).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use portolan::model::disk::{DiskContainer, DiskImage, DiskUsage, DiskVolume};
use portolan::model::images::Image;
use portolan::model::{
    Container, ContainerState, Inventory, Model, Mount, Network, NetworkAttachment, Update, Volume,
};
use portolan::ui::keymap::Keymap;
use portolan::ui::theme::Theme;
use portolan::ui::{App, PaneId, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn image(i: usize) -> Image {
    let now = Utc.timestamp_opt(1_750_000_000, 0).single().unwrap();
    Image {
        id: format!("sha256:{i:064x}"),
        repo_tags: if i % 10 == 9 {
            vec!["<none>:<none>".into()]
        } else {
            vec![format!("registry.example.com/team/service{i}:1.{i}")]
        },
        size: Some(10_000_000 + i as u64 * 1_000_003),
        created: Some(now - chrono::Duration::hours(i as i64)),
        ..Image::default()
    }
}

fn model() -> Model {
    let now = Utc.timestamp_opt(1_750_000_000, 0).single().unwrap();
    let mut model = Model::new("unix:///var/run/docker.sock", now);
    let containers = (0..200)
        .map(|i| {
            let mut c = Container::new(format!("{i:064x}"), format!("proj{}-svc{i}-1", i % 5));
            c.image_id = Some(format!("sha256:{:064x}", i % 180));
            c.state = if i % 4 == 0 { ContainerState::Exited } else { ContainerState::Running };
            c.mounts.push(Mount {
                kind: "volume".into(),
                name: Some(format!("vol{}", i % 60)),
                source: None,
                destination: "/data".into(),
                read_only: false,
            });
            c.networks.push(NetworkAttachment {
                name: format!("net{}", i % 30),
                ip: Some(format!("172.18.{}.{}", i / 250, i % 250 + 2)),
                aliases: vec![],
            });
            c
        })
        .collect();
    let volumes = (0..100)
        .map(|i| Volume {
            name: format!("vol{i}"),
            driver: Some("local".into()),
            size: (i % 2 == 0).then_some(i as u64 * 1_000_000),
            ..Volume::default()
        })
        .collect();
    let networks = (0..50)
        .map(|i| Network {
            id: format!("{i:012x}"),
            name: format!("net{i}"),
            driver: Some("bridge".into()),
            subnets: vec![format!("172.{}.0.0/16", 18 + i)],
            ..Network::default()
        })
        .collect();
    model.apply(Update::Synced(Box::new(Inventory {
        containers,
        volumes,
        networks,
        ..Inventory::default()
    })));
    model.apply(Update::Images((0..300).map(image).collect()));
    model.apply(Update::DiskUsage(Ok(Box::new(disk_reading(now)))));
    model
}

/// What `/system/df` would say of the same host.
fn disk_reading(now: chrono::DateTime<Utc>) -> DiskUsage {
    DiskUsage {
        at: now,
        took_ms: 80,
        layers_size: 9_000_000_000,
        images: (0..300)
            .map(|i| DiskImage {
                id: format!("sha256:{i:064x}"),
                tags: (i % 10 != 9)
                    .then(|| format!("registry.example.com/team/service{i}:1.{i}"))
                    .into_iter()
                    .collect(),
                size: 10_000_000 + i as u64 * 1_000_003,
                shared_size: Some(5_000_000),
                containers: Some((i < 180) as u64),
                created: Some(now - chrono::Duration::hours(i as i64)),
                ..DiskImage::default()
            })
            .collect(),
        containers: (0..200)
            .map(|i| DiskContainer {
                id: format!("{i:064x}"),
                name: format!("proj{}-svc{i}-1", i % 5),
                image: format!("registry.example.com/team/service{}:1.{}", i % 180, i % 180),
                state: if i % 4 == 0 { "exited" } else { "running" }.into(),
                size_rw: i as u64 * 4096,
                ..DiskContainer::default()
            })
            .collect(),
        volumes: (0..100)
            .map(|i| DiskVolume {
                name: format!("vol{i}"),
                driver: "local".into(),
                size: Some(i as u64 * 1_000_000),
                ref_count: Some((i < 60) as u64),
                ..DiskVolume::default()
            })
            .collect(),
        build_cache: Vec::new(),
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    // `cargo test --all-targets` runs this binary too: there it is a quick smoke run.
    let runs_per_case = if std::env::args().any(|a| a == "--bench") { 300 } else { 3 };
    for pane in [PaneId::Images, PaneId::Volumes, PaneId::Networks, PaneId::Disk] {
        let mut app = App::new(model(), Theme::built_in("dark"), Keymap::default(), Utc::now());
        app.pane = pane;
        app.set_project(None);
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        let runs: Vec<Duration> = (0..runs_per_case)
            .map(|_| {
                let started = Instant::now();
                terminal.draw(|frame| draw(frame, &mut app)).unwrap();
                started.elapsed()
            })
            .collect();
        println!(
            "{:<8} pane, 300 images, 120x40: {:>7.3} ms per frame (median of {runs_per_case})",
            pane.name(),
            median(runs).as_secs_f64() * 1e3
        );
        // An image event: the rows are worked out again, once.
        let runs: Vec<Duration> = (0..runs_per_case)
            .map(|n| {
                let mut changed = image(n % 300);
                changed.size = Some(n as u64);
                app.apply(Update::ImageChanged(Box::new(changed)));
                let started = Instant::now();
                terminal.draw(|frame| draw(frame, &mut app)).unwrap();
                started.elapsed()
            })
            .collect();
        println!(
            "{:<8} pane, 300 images, 120x40, first frame after an image event: {:>7.3} ms (median of {runs_per_case})",
            pane.name(),
            median(runs).as_secs_f64() * 1e3
        );
    }
}

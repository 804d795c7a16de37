//! The `disk` key of the JSON snapshot: the last `/system/df` reading of each engine
//! (only present when one was read: `snapshot --pane disk` reads it once), with the
//! totals `docker system df` shows and every object under them.

use chrono::SecondsFormat;
use serde::Serialize;

use crate::model::Model;
use crate::model::disk::{DiskUsage, Total};

#[derive(Serialize)]
pub struct DiskJson {
    /// The engine's name, as `hosts` lists it.
    pub host: String,
    pub read_at: String,
    /// How long the engine took to answer.
    pub took_ms: u64,
    pub images: DiskSectionJson<DiskImageJson>,
    pub containers: DiskSectionJson<DiskContainerJson>,
    pub volumes: DiskSectionJson<DiskVolumeJson>,
    pub build_cache: DiskSectionJson<DiskCacheJson>,
}

#[derive(Serialize)]
pub struct DiskSectionJson<T> {
    pub count: usize,
    pub active: usize,
    pub size_bytes: u64,
    pub reclaimable_bytes: u64,
    pub items: Vec<T>,
}

#[derive(Serialize)]
pub struct DiskImageJson {
    pub id: String,
    pub tags: Vec<String>,
    pub size_bytes: u64,
    pub shared_bytes: Option<u64>,
    pub containers: Option<u64>,
    pub dangling: bool,
}

#[derive(Serialize)]
pub struct DiskContainerJson {
    pub id: String,
    pub name: String,
    pub image: String,
    pub state: String,
    pub writable_bytes: u64,
}

#[derive(Serialize)]
pub struct DiskVolumeJson {
    pub name: String,
    pub driver: String,
    pub size_bytes: Option<u64>,
    pub containers: Option<u64>,
}

#[derive(Serialize)]
pub struct DiskCacheJson {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub description: String,
    pub size_bytes: u64,
    pub in_use: bool,
    pub shared: bool,
}

fn section<T>(total: Total, items: Vec<T>) -> DiskSectionJson<T> {
    DiskSectionJson {
        count: total.count,
        active: total.active,
        size_bytes: total.size,
        reclaimable_bytes: total.reclaimable,
        items,
    }
}

fn one(model: &Model, host: usize, usage: &DiskUsage) -> DiskJson {
    DiskJson {
        host: model.host(host).name.clone(),
        read_at: usage.at.to_rfc3339_opts(SecondsFormat::Millis, true),
        took_ms: usage.took_ms,
        images: section(
            usage.images_total(),
            usage
                .images
                .iter()
                .map(|i| DiskImageJson {
                    id: i.id.clone(),
                    tags: i.tags.clone(),
                    size_bytes: i.size,
                    shared_bytes: i.shared_size,
                    containers: i.containers,
                    dangling: i.dangling(),
                })
                .collect(),
        ),
        containers: section(
            usage.containers_total(),
            usage
                .containers
                .iter()
                .map(|c| DiskContainerJson {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    image: c.image.clone(),
                    state: c.state.clone(),
                    writable_bytes: c.size_rw,
                })
                .collect(),
        ),
        volumes: section(
            usage.volumes_total(),
            usage
                .volumes
                .iter()
                .map(|v| DiskVolumeJson {
                    name: v.name.clone(),
                    driver: v.driver.clone(),
                    size_bytes: v.size,
                    containers: v.ref_count,
                })
                .collect(),
        ),
        build_cache: section(
            usage.cache_total(),
            usage
                .build_cache
                .iter()
                .map(|b| DiskCacheJson {
                    id: b.id.clone(),
                    kind: b.kind.clone(),
                    description: b.description.clone(),
                    size_bytes: b.size,
                    in_use: b.in_use,
                    shared: b.shared,
                })
                .collect(),
        ),
    }
}

/// Every engine's last reading, in engine order; `None` when none was read.
pub fn disk(model: &Model) -> Option<Vec<DiskJson>> {
    let readings: Vec<DiskJson> = model
        .disk
        .iter()
        .filter_map(|(host, state)| state.reading.as_ref().map(|u| one(model, *host, u)))
        .collect();
    (!readings.is_empty()).then_some(readings)
}

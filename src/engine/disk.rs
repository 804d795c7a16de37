//! The engine's disk usage (`/system/df`) and prunes, carried out object by object.
//!
//! `/system/df` walks every layer and volume: it is asked only while the Disk pane is
//! open or a prune is previewed, never polled. bollard's models are API 1.52's, whose
//! answer is shaped differently from the one older engines give (`LayersSize`,
//! `Images`, …), and serde drops what it does not know without a word: so the body
//! is read raw and [`parse`] reads both shapes.
//!
//! A prune removes exactly the objects its [`PrunePlan`] lists, by id, one after the
//! other, never through the engine's prune endpoints: those take whatever qualifies
//! when they run, including what appeared after the operator saw the list. Build
//! cache has no delete by id; each record is pruned with an `id` filter, and any
//! other record the engine reports removing with it is reported too.

use bollard::Docker;
use chrono::{DateTime, TimeZone, Utc};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;

use super::error::EngineError;
use crate::model::Update;
use crate::model::disk::{
    DiskCache, DiskContainer, DiskImage, DiskUsage, DiskVolume, ObjectKind, PruneItem,
    PruneOutcome, PrunePlan, PruneReport,
};

/// How long a reading may take before it is given up: `/system/df` on a big host
/// takes seconds; one that never answers must say so.
pub const DF_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// An image name no engine holds, turned into `/system/df` by the request modifier.
const MARKER: &str = "portolan-system-df-marker";

/// Reads `/system/df` once.
pub async fn read(docker: &Docker) -> Result<DiskUsage, EngineError> {
    let started = std::time::Instant::now();
    let body = tokio::time::timeout(DF_TIMEOUT, df_in_turn(docker)).await.map_err(|_| {
        EngineError::Other("the engine did not report its disk usage within 120 s".into())
    })??;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| EngineError::Unexpected(format!("the disk usage did not decode: {e}")))?;
    let mut usage = parse(&value);
    usage.at = Utc::now();
    usage.took_ms = started.elapsed().as_millis() as u64;
    Ok(usage)
}

/// The engine reads its disk for one client at a time and answers any other with
/// 500 "a disk usage operation is already running" (`docker system df` in another
/// terminal, another portolan): that is a wait, not a failure.
async fn df_in_turn(docker: &Docker) -> Result<Vec<u8>, EngineError> {
    loop {
        match raw_df(docker).await {
            Err(error) if error.to_string().contains("already running") => {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            answer => return answer,
        }
    }
}

/// The body of `/system/df`, as bytes, through the client's own transport (socket,
/// tcp, TLS or ssh): bollard's one call that hands a body over raw is an image
/// export, so a clone of the client whose request modifier rewrites that one path
/// asks `/system/df` instead.
async fn raw_df(docker: &Docker) -> Result<Vec<u8>, EngineError> {
    let client = docker.clone().with_request_modifier(|mut request| {
        let uri = request.uri().clone();
        let suffix = format!("/images/{MARKER}/get");
        if let Some(prefix) = uri.path().strip_suffix(suffix.as_str()).map(String::from) {
            let mut parts = uri.into_parts();
            if let Ok(path) = format!("{prefix}/system/df").parse() {
                parts.path_and_query = Some(path);
                if let Ok(rewritten) = hyper::Uri::from_parts(parts) {
                    *request.uri_mut() = rewritten;
                }
            }
        }
        request
    });
    let mut stream = client.export_image(MARKER);
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.map_err(|e| EngineError::from(e).during("disk usage"))?);
    }
    Ok(body)
}

fn text(value: &Value, key: &str) -> String {
    value.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// A count or size; the engine writes -1 for "not computed".
fn number(value: &Value, key: &str) -> Option<u64> {
    value.get(key).and_then(Value::as_i64).and_then(|n| u64::try_from(n).ok())
}

fn labels(value: &Value, key: &str) -> std::collections::BTreeMap<String, String> {
    value
        .get(key)
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn list<'a>(value: &'a Value, old: &str, new: &str) -> &'a [Value] {
    let items = value.get(old).or_else(|| value.get(new).and_then(|usage| usage.get("Items")));
    items.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

fn time(value: &Value, key: &str) -> Option<DateTime<Utc>> {
    match value.get(key)? {
        Value::Number(n) => Utc.timestamp_opt(n.as_i64()?, 0).single(),
        Value::String(s) => DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc)),
        _ => None,
    }
}

/// A `/system/df` body in either shape: before API 1.52 (`LayersSize`, `Images`,
/// `Containers`, `Volumes`, `BuildCache`) or after (`ImageUsage.Items`, …). What is
/// missing stays absent; nothing here fails.
pub fn parse(value: &Value) -> DiskUsage {
    let images: Vec<DiskImage> = list(value, "Images", "ImageUsage")
        .iter()
        .map(|i| DiskImage {
            id: text(i, "Id"),
            tags: i
                .get("RepoTags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|t| *t != "<none>:<none>")
                .map(String::from)
                .collect(),
            size: number(i, "Size").unwrap_or(0),
            shared_size: number(i, "SharedSize"),
            containers: number(i, "Containers"),
            created: time(i, "Created"),
            labels: labels(i, "Labels"),
        })
        .collect();
    let layers_size = number(value, "LayersSize")
        .or_else(|| value.get("ImageUsage").and_then(|u| number(u, "TotalSize")))
        .unwrap_or_else(|| images.iter().map(|i| i.size).sum());
    let containers = list(value, "Containers", "ContainerUsage")
        .iter()
        .map(|c| DiskContainer {
            id: text(c, "Id"),
            name: c
                .get("Names")
                .and_then(Value::as_array)
                .and_then(|n| n.first())
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            image: text(c, "Image"),
            state: text(c, "State"),
            size_rw: number(c, "SizeRw").unwrap_or(0),
            labels: labels(c, "Labels"),
        })
        .collect();
    let volumes = list(value, "Volumes", "VolumeUsage")
        .iter()
        .map(|v| {
            let usage = v.get("UsageData").cloned().unwrap_or_default();
            DiskVolume {
                name: text(v, "Name"),
                driver: text(v, "Driver"),
                size: number(&usage, "Size"),
                ref_count: number(&usage, "RefCount"),
                labels: labels(v, "Labels"),
            }
        })
        .collect();
    let build_cache = list(value, "BuildCache", "BuildCacheUsage")
        .iter()
        .map(|b| DiskCache {
            id: text(b, "ID"),
            kind: text(b, "Type"),
            description: text(b, "Description"),
            size: number(b, "Size").unwrap_or(0),
            in_use: b.get("InUse").and_then(Value::as_bool).unwrap_or(false),
            shared: b.get("Shared").and_then(Value::as_bool).unwrap_or(false),
            last_used: time(b, "LastUsedAt"),
        })
        .collect();
    DiskUsage { layers_size, images, containers, volumes, build_cache, ..DiskUsage::default() }
}

/// Reads the disk usage and reports it.
pub async fn report_usage(docker: Docker, updates: mpsc::Sender<Update>) {
    let update = match read(&docker).await {
        Ok(usage) => Update::DiskUsage(Ok(Box::new(usage))),
        Err(error) => Update::DiskUsage(Err((Utc::now(), error.to_string()))),
    };
    let _ = updates.send(update).await;
}

/// Removes each object `plan` lists, and nothing else, and says how each went.
pub async fn prune(docker: &Docker, plan: &PrunePlan) -> PruneReport {
    let mut outcomes = Vec::new();
    let mut also_removed = Vec::new();
    for item in &plan.items {
        let (error, freed) = match remove(docker, item, &mut also_removed).await {
            Ok(reclaimed) => (None, reclaimed.or(item.bytes).unwrap_or(0)),
            Err(error) => (Some(error), 0),
        };
        outcomes.push(PruneOutcome { item: item.clone(), error, freed });
    }
    PruneReport { host: plan.host, kind: plan.kind, at: Utc::now(), outcomes, also_removed }
}

/// The report of a prune that could not be carried out: nothing removed, each in words.
pub fn unanswered(plan: &PrunePlan, why: &str) -> PruneReport {
    let outcomes = plan
        .items
        .iter()
        .map(|item| PruneOutcome { item: item.clone(), error: Some(why.to_string()), freed: 0 })
        .collect();
    PruneReport {
        host: plan.host,
        kind: plan.kind,
        at: Utc::now(),
        outcomes,
        also_removed: Vec::new(),
    }
}

/// Carries out a plan, reports it, then reads the disk again for the pane.
pub async fn prune_and_report(docker: Docker, plan: PrunePlan, updates: mpsc::Sender<Update>) {
    let report = prune(&docker, &plan).await;
    if updates.send(Update::Pruned(Box::new(report))).await.is_err() {
        return;
    }
    report_usage(docker, updates).await;
}

/// Removes one object; the bytes the engine says it reclaimed, where it says.
async fn remove(
    docker: &Docker,
    item: &PruneItem,
    also_removed: &mut Vec<String>,
) -> Result<Option<u64>, String> {
    use bollard::query_parameters::{RemoveContainerOptions, RemoveImageOptions};
    let words = |e: bollard::errors::Error| EngineError::from(e).to_string();
    match item.kind {
        ObjectKind::Container => {
            // Not forced: a container started since the preview is refused, not killed.
            let options = RemoveContainerOptions { force: false, v: false, link: false };
            docker.remove_container(&item.id, Some(options)).await.map_err(words)?;
            Ok(None)
        }
        ObjectKind::Image => {
            // Tag by tag, then the id, never forced: an image a container took up since
            // the preview is refused by the engine rather than taken from under it.
            let options =
                || Some(RemoveImageOptions { force: false, noprune: false, ..Default::default() });
            for tag in &item.tags {
                match docker.remove_image(tag, options(), None).await {
                    Ok(_) => {}
                    // Another tag's removal took the image with it.
                    Err(e) if is_not_found(&e) => {}
                    Err(e) => return Err(format!("untag {tag}: {}", words(e))),
                }
            }
            match docker.remove_image(&item.id, options(), None).await {
                Ok(_) => Ok(None),
                // The last tag's removal deleted it: gone, as wanted.
                Err(e) if is_not_found(&e) && !item.tags.is_empty() => Ok(None),
                Err(e) => Err(words(e)),
            }
        }
        ObjectKind::Volume => {
            let options = bollard::query_parameters::RemoveVolumeOptions { force: false };
            docker.remove_volume(&item.id, Some(options)).await.map_err(words)?;
            Ok(None)
        }
        ObjectKind::Network => {
            docker.remove_network(&item.id).await.map_err(words)?;
            Ok(None)
        }
        ObjectKind::BuildCache => {
            let mut filters = std::collections::HashMap::new();
            filters.insert("id".to_string(), vec![item.id.clone()]);
            let options = bollard::query_parameters::PruneBuildOptions {
                filters: Some(filters),
                ..Default::default()
            };
            let answer = docker.prune_build(Some(options)).await.map_err(words)?;
            let deleted = answer.caches_deleted.unwrap_or_default();
            if !deleted.contains(&item.id) {
                return Err("the engine did not remove it (in use again?)".to_string());
            }
            also_removed.extend(deleted.into_iter().filter(|d| *d != item.id));
            Ok(answer.space_reclaimed.and_then(|n| u64::try_from(n).ok()))
        }
    }
}

fn is_not_found(error: &bollard::errors::Error) -> bool {
    matches!(error, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shape_older_engines_answer_in() {
        let body = r#"{"LayersSize":1988073,"Images":[{"Containers":0,"Created":1796507521,
            "Id":"sha256:6ca9","Labels":{"a":"b"},"ParentId":"","RepoDigests":null,
            "RepoTags":["busybox:latest"],"SharedSize":0,"Size":1988073,"VirtualSize":1988073},
            {"Containers":-1,"Id":"sha256:dead","RepoTags":["<none>:<none>"],"SharedSize":-1,"Size":5}],
            "Containers":[{"Id":"c1","Names":["/web"],"Image":"busybox","State":"exited","SizeRw":12}],
            "Volumes":[{"Name":"v","Driver":"local","Labels":null,"UsageData":{"RefCount":0,"Size":4096}}],
            "BuildCache":null,"BuilderSize":0}"#;
        let usage = parse(&serde_json::from_str(body).expect("json"));
        assert_eq!(usage.layers_size, 1988073);
        assert_eq!(usage.images.len(), 2);
        assert_eq!(usage.images[0].tags, ["busybox:latest"]);
        assert_eq!(usage.images[0].containers, Some(0));
        assert_eq!(usage.images[0].labels.get("a").map(String::as_str), Some("b"));
        assert!(usage.images[1].dangling(), "<none>:<none> is no tag");
        assert_eq!(usage.images[1].containers, None, "-1 is not counted");
        assert_eq!(usage.containers[0].name, "web");
        assert_eq!(usage.containers[0].size_rw, 12);
        assert_eq!(usage.volumes[0].size, Some(4096));
        assert_eq!(usage.volumes[0].ref_count, Some(0));
        assert!(usage.build_cache.is_empty());
    }

    #[test]
    fn reads_the_shape_newer_engines_answer_in() {
        let body = r#"{"ImageUsage":{"TotalSize":700,"Items":[{"Id":"sha256:x","Size":700,
            "SharedSize":0,"Containers":1,"RepoTags":["a:1"]}]},
            "ContainerUsage":{"Items":[{"Id":"c","Names":["/c"],"State":"running","SizeRw":3}]},
            "VolumeUsage":{"Items":[]},
            "BuildCacheUsage":{"Items":[{"ID":"b","Type":"regular","Size":9,"InUse":false,
            "Shared":false,"LastUsedAt":"2026-01-02T03:04:05Z"}]}}"#;
        let usage = parse(&serde_json::from_str(body).expect("json"));
        assert_eq!(usage.layers_size, 700);
        assert_eq!(usage.images[0].containers, Some(1));
        assert_eq!(usage.containers[0].state, "running");
        assert_eq!(usage.build_cache[0].size, 9);
        assert!(usage.build_cache[0].last_used.is_some());
    }
}

//! What an engine's disk holds, as `/system/df` says (the equivalent of `docker system
//! df -v`), and what a prune would take from it. Pure: the engine reads the usage
//! (`engine/disk.rs`), the rules of what each prune removes and what it frees live
//! here, so the preview the operator confirms and the list the engine then removes
//! are one and the same value, tested with plain data.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Container, HostId, Network};

/// One reading of `/system/df`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiskUsage {
    /// When the engine answered.
    pub at: DateTime<Utc>,
    /// How long it took to answer, in milliseconds: `/system/df` walks every layer.
    pub took_ms: u64,
    /// Every image layer on disk, counted once however many images share it.
    pub layers_size: u64,
    pub images: Vec<DiskImage>,
    pub containers: Vec<DiskContainer>,
    pub volumes: Vec<DiskVolume>,
    pub build_cache: Vec<DiskCache>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiskImage {
    pub id: String,
    /// `repo:tag`, without the engine's `<none>:<none>`.
    pub tags: Vec<String>,
    pub size: u64,
    /// Bytes in layers other images use too; `None` when the engine did not count.
    pub shared_size: Option<u64>,
    /// Containers (running or not) made from it; `None` when the engine did not count.
    pub containers: Option<u64>,
    pub created: Option<DateTime<Utc>>,
    pub labels: BTreeMap<String, String>,
}

impl DiskImage {
    /// No tag names it.
    pub fn dangling(&self) -> bool {
        self.tags.is_empty()
    }

    /// No container, running or stopped, uses it.
    pub fn unused(&self) -> bool {
        self.containers == Some(0)
    }

    /// What removing it alone frees: its size less the layers others share.
    pub fn unique_size(&self) -> u64 {
        self.size.saturating_sub(self.shared_size.unwrap_or(0))
    }

    /// `repo:tag`, the first of its tags, or its short id.
    pub fn display(&self) -> String {
        match self.tags.first() {
            Some(tag) if self.tags.len() > 1 => format!("{tag} (+{})", self.tags.len() - 1),
            Some(tag) => tag.clone(),
            None => format!("<none> {}", short_id(&self.id)),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiskContainer {
    pub id: String,
    pub name: String,
    pub image: String,
    /// The engine's word: `running`, `exited`, `created`…
    pub state: String,
    /// Bytes of its writable layer.
    pub size_rw: u64,
    pub labels: BTreeMap<String, String>,
}

impl DiskContainer {
    /// The engine's container prune takes every container that does not run
    /// (paused and restarting ones run).
    pub fn stopped(&self) -> bool {
        !matches!(self.state.as_str(), "running" | "paused" | "restarting" | "removing")
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiskVolume {
    pub name: String,
    pub driver: String,
    /// `None` when the engine cannot size it (a non-local driver).
    pub size: Option<u64>,
    /// Containers (running or not) that mount it; `None` when the engine did not count.
    pub ref_count: Option<u64>,
    pub labels: BTreeMap<String, String>,
}

impl DiskVolume {
    pub fn unused(&self) -> bool {
        self.ref_count == Some(0)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiskCache {
    pub id: String,
    pub kind: String,
    pub description: String,
    pub size: u64,
    pub in_use: bool,
    pub shared: bool,
    pub last_used: Option<DateTime<Utc>>,
}

/// One line of the summary: how many, how many in use, their bytes and what a prune
/// could take back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Total {
    pub count: usize,
    pub active: usize,
    pub size: u64,
    pub reclaimable: u64,
}

impl DiskUsage {
    /// Images as `docker system df` counts them: every layer once; reclaimable is
    /// what the images no container uses hold alone.
    pub fn images_total(&self) -> Total {
        let used: u64 = self
            .images
            .iter()
            .filter(|i| i.containers.is_some_and(|n| n > 0))
            .map(DiskImage::unique_size)
            .sum();
        Total {
            count: self.images.len(),
            active: self.images.iter().filter(|i| i.containers.is_some_and(|n| n > 0)).count(),
            size: self.layers_size,
            reclaimable: self.layers_size.saturating_sub(used),
        }
    }

    /// Writable layers; a stopped container's is reclaimable.
    pub fn containers_total(&self) -> Total {
        Total {
            count: self.containers.len(),
            active: self.containers.iter().filter(|c| !c.stopped()).count(),
            size: self.containers.iter().map(|c| c.size_rw).sum(),
            reclaimable: self.containers.iter().filter(|c| c.stopped()).map(|c| c.size_rw).sum(),
        }
    }

    pub fn volumes_total(&self) -> Total {
        Total {
            count: self.volumes.len(),
            active: self.volumes.iter().filter(|v| v.ref_count.is_some_and(|n| n > 0)).count(),
            size: self.volumes.iter().filter_map(|v| v.size).sum(),
            reclaimable: self.volumes.iter().filter(|v| v.unused()).filter_map(|v| v.size).sum(),
        }
    }

    /// Shared records are counted by the records that share them.
    pub fn cache_total(&self) -> Total {
        let own = self.build_cache.iter().filter(|c| !c.shared);
        Total {
            count: self.build_cache.len(),
            active: self.build_cache.iter().filter(|c| c.in_use).count(),
            size: own.clone().map(|c| c.size).sum(),
            reclaimable: own.filter(|c| !c.in_use).map(|c| c.size).sum(),
        }
    }
}

/// The last reading of an engine's disk, or why there is none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiskState {
    pub reading: Option<DiskUsage>,
    /// The last read failed: when, and the engine's answer in words.
    pub error: Option<(DateTime<Utc>, String)>,
    /// A read was asked for and has not answered yet.
    pub reading_now: bool,
    /// What the last prune did.
    pub last_prune: Option<PruneReport>,
}

/// What a prune takes: the engine's prune commands, one each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PruneKind {
    /// Containers that are not running.
    Containers,
    /// Images no tag names and no container uses.
    DanglingImages,
    /// Images no container uses, tagged or not.
    UnusedImages,
    /// Local volumes no container mounts: named ones too, as Docker 20.10's prune
    /// does (newer engines take only anonymous ones unless asked for all).
    Volumes,
    /// Networks no container is attached to, never the built-in ones.
    Networks,
    /// Build cache records not in use.
    BuildCache,
}

impl PruneKind {
    pub const ALL: [PruneKind; 6] = [
        PruneKind::Containers,
        PruneKind::DanglingImages,
        PruneKind::UnusedImages,
        PruneKind::Volumes,
        PruneKind::Networks,
        PruneKind::BuildCache,
    ];

    /// The key that picks it in the prune menu.
    pub fn menu_key(self) -> char {
        match self {
            PruneKind::Containers => 'c',
            PruneKind::DanglingImages => 'd',
            PruneKind::UnusedImages => 'i',
            PruneKind::Volumes => 'v',
            PruneKind::Networks => 'n',
            PruneKind::BuildCache => 'b',
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            PruneKind::Containers => "stopped containers",
            PruneKind::DanglingImages => "dangling images",
            PruneKind::UnusedImages => "unused images (tagged too)",
            PruneKind::Volumes => "unused local volumes (named too)",
            PruneKind::Networks => "networks without containers",
            PruneKind::BuildCache => "build cache not in use",
        }
    }
}

/// What kind of object a prune removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    Container,
    Image,
    Volume,
    Network,
    BuildCache,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Container => "container",
            ObjectKind::Image => "image",
            ObjectKind::Volume => "volume",
            ObjectKind::Network => "network",
            ObjectKind::BuildCache => "build cache",
        }
    }
}

/// One object a prune removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneItem {
    pub kind: ObjectKind,
    /// What the engine removes it by: an id, a volume's name.
    pub id: String,
    /// What the operator reads.
    pub name: String,
    /// The tags an image is removed by, one at a time, before its id.
    pub tags: Vec<String>,
    /// What removing it frees, as the reading says; `None` when the engine cannot
    /// size it (a volume of another driver, a network).
    pub bytes: Option<u64>,
}

/// Only objects with this label (`key` or `key=value`) are taken: tests prune their
/// own fixture and nothing else, and an operator can do the same.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelFilter {
    pub key: String,
    pub value: Option<String>,
}

impl LabelFilter {
    /// `key` or `key=value`.
    pub fn parse(text: &str) -> Option<LabelFilter> {
        let text = text.trim();
        let (key, value) = match text.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.to_string())),
            None => (text, None),
        };
        (!key.is_empty()).then(|| LabelFilter { key: key.to_string(), value })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match (labels.get(&self.key), &self.value) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(have), Some(want)) => have == want,
        }
    }
}

/// Exactly what a prune will remove, computed from one reading: what the operator
/// confirms is what the engine is then asked to remove, object by object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrunePlan {
    pub host: HostId,
    pub kind: PruneKind,
    /// When the reading it was computed from was taken.
    pub read_at: DateTime<Utc>,
    pub filter: Option<LabelFilter>,
    pub items: Vec<PruneItem>,
    /// What the operator should know beyond the list (shared layers, unsized volumes).
    pub notes: Vec<String>,
}

impl PrunePlan {
    /// Bytes the listed objects free, as the reading sizes them.
    pub fn bytes(&self) -> u64 {
        self.items.iter().filter_map(|i| i.bytes).sum()
    }

    /// The confirmation's question, naming the count and the bytes.
    pub fn question(&self) -> String {
        let what = self.kind.describe();
        match self.items.len() {
            0 => format!("Nothing to prune: no {what}."),
            n => format!(
                "Remove {n} {}: {what}, freeing {}?",
                if n == 1 { "object" } else { "objects" },
                super::format::bytes(self.bytes())
            ),
        }
    }
}

/// The networks every engine has, which no prune touches.
pub const BUILT_IN_NETWORKS: [&str; 4] = ["bridge", "host", "none", "ingress"];

/// The objects `kind` would remove on engine `host`, by the engine's own rules, from
/// `usage` (and the model's networks and containers, which `/system/df` does not
/// list), largest first. Only objects `filter` matches, when given.
pub fn plan(
    host: HostId,
    kind: PruneKind,
    usage: &DiskUsage,
    networks: &[&Network],
    containers: &[&Container],
    filter: Option<&LabelFilter>,
) -> PrunePlan {
    let keep = |labels: &BTreeMap<String, String>| filter.is_none_or(|f| f.matches(labels));
    let mut items: Vec<PruneItem> = Vec::new();
    let mut notes = Vec::new();
    match kind {
        PruneKind::Containers => {
            for c in usage.containers.iter().filter(|c| c.stopped() && keep(&c.labels)) {
                items.push(PruneItem {
                    kind: ObjectKind::Container,
                    id: c.id.clone(),
                    name: c.name.clone(),
                    tags: Vec::new(),
                    bytes: Some(c.size_rw),
                });
            }
        }
        PruneKind::DanglingImages | PruneKind::UnusedImages => {
            let all = kind == PruneKind::UnusedImages;
            let chosen = usage
                .images
                .iter()
                .filter(|i| i.unused() && (all || i.dangling()) && keep(&i.labels));
            let mut shared = false;
            for image in chosen {
                shared |= image.shared_size.is_some_and(|s| s > 0);
                items.push(PruneItem {
                    kind: ObjectKind::Image,
                    id: image.id.clone(),
                    name: image.display(),
                    tags: image.tags.clone(),
                    bytes: Some(image.unique_size()),
                });
            }
            if shared {
                notes.push(
                    "Layers shared between listed images are counted for none of them: \
                     removing them all may free more."
                        .to_string(),
                );
            }
        }
        PruneKind::Volumes => {
            let chosen = usage
                .volumes
                .iter()
                .filter(|v| v.unused() && v.driver == "local" && keep(&v.labels));
            for v in chosen {
                items.push(PruneItem {
                    kind: ObjectKind::Volume,
                    id: v.name.clone(),
                    name: v.name.clone(),
                    tags: Vec::new(),
                    bytes: v.size,
                });
            }
        }
        PruneKind::Networks => {
            for n in networks.iter().filter(|n| keep(&n.labels)) {
                let built_in = BUILT_IN_NETWORKS.contains(&n.name.as_str())
                    || n.driver.as_deref().is_some_and(|d| d == "host" || d == "null");
                let swarm = n.scope.as_deref() == Some("swarm");
                // Stricter than the engine, which counts only running containers:
                // a stopped container's network is its to come back to.
                let used = containers.iter().any(|c| {
                    c.host == host && c.networks.iter().any(|a| a.name == n.name || a.name == n.id)
                });
                if built_in || swarm || used {
                    continue;
                }
                items.push(PruneItem {
                    kind: ObjectKind::Network,
                    id: n.id.clone(),
                    name: n.name.clone(),
                    tags: Vec::new(),
                    bytes: None,
                });
            }
        }
        PruneKind::BuildCache => {
            for c in usage.build_cache.iter().filter(|c| !c.in_use) {
                if filter.is_some() {
                    // Build cache has no labels: a filtered prune takes none of it.
                    break;
                }
                items.push(PruneItem {
                    kind: ObjectKind::BuildCache,
                    id: c.id.clone(),
                    name: format!("{} {}", c.kind, c.description),
                    tags: Vec::new(),
                    bytes: (!c.shared).then_some(c.size),
                });
            }
        }
    }
    items.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
    PrunePlan { host, kind, read_at: usage.at, filter: filter.cloned(), items, notes }
}

/// How one listed object's removal went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneOutcome {
    pub item: PruneItem,
    /// `None` when it is gone; the engine's answer in words when not.
    pub error: Option<String>,
    /// Bytes the engine said it reclaimed, where it says (build cache); else the
    /// reading's size of what is gone.
    pub freed: u64,
}

/// What a prune did, object by object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneReport {
    pub host: HostId,
    pub kind: PruneKind,
    pub at: DateTime<Utc>,
    pub outcomes: Vec<PruneOutcome>,
    /// Build cache records the engine removed beyond the listed ones (their parents).
    pub also_removed: Vec<String>,
}

impl PruneReport {
    pub fn removed(&self) -> impl Iterator<Item = &PruneOutcome> {
        self.outcomes.iter().filter(|o| o.error.is_none())
    }

    pub fn failed(&self) -> impl Iterator<Item = &PruneOutcome> {
        self.outcomes.iter().filter(|o| o.error.is_some())
    }

    pub fn freed(&self) -> u64 {
        self.removed().map(|o| o.freed).sum()
    }

    /// One line for the footer.
    pub fn summary(&self) -> String {
        let removed = self.removed().count();
        let failed: Vec<String> = self
            .failed()
            .map(|o| format!("{}: {}", o.item.name, o.error.as_deref().unwrap_or_default()))
            .collect();
        let mut text = format!(
            "prune {}: removed {removed} of {}, freed {}",
            self.kind.describe(),
            self.outcomes.len(),
            super::format::bytes(self.freed())
        );
        if !failed.is_empty() {
            text.push_str(&format!("; not removed: {}", failed.join("; ")));
        }
        text
    }
}

/// The first 12 hex digits of an id, without `sha256:`.
pub fn short_id(id: &str) -> &str {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    &id[..id.len().min(12)]
}

#[cfg(test)]
mod tests;

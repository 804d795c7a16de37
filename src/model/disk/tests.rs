use super::*;
use crate::model::container::NetworkAttachment;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn usage() -> DiskUsage {
    let mine = labels(&[("t", "1")]);
    DiskUsage {
        layers_size: 1000,
        images: vec![
            DiskImage {
                id: "sha256:aaa".into(),
                tags: vec!["app:1".into()],
                size: 600,
                shared_size: Some(100),
                containers: Some(1),
                ..Default::default()
            },
            DiskImage {
                id: "sha256:bbb".into(),
                tags: vec![],
                size: 300,
                shared_size: Some(0),
                containers: Some(0),
                labels: mine.clone(),
                ..Default::default()
            },
            DiskImage {
                id: "sha256:ccc".into(),
                tags: vec!["old:1".into()],
                size: 200,
                shared_size: Some(100),
                containers: Some(0),
                ..Default::default()
            },
        ],
        containers: vec![
            DiskContainer {
                id: "c1".into(),
                name: "web".into(),
                state: "running".into(),
                size_rw: 10,
                ..Default::default()
            },
            DiskContainer {
                id: "c2".into(),
                name: "job".into(),
                state: "exited".into(),
                size_rw: 20,
                labels: mine.clone(),
                ..Default::default()
            },
            DiskContainer {
                id: "c3".into(),
                name: "paused".into(),
                state: "paused".into(),
                size_rw: 5,
                ..Default::default()
            },
            DiskContainer {
                id: "c4".into(),
                name: "new".into(),
                state: "created".into(),
                size_rw: 0,
                ..Default::default()
            },
        ],
        volumes: vec![
            DiskVolume {
                name: "data".into(),
                driver: "local".into(),
                size: Some(50),
                ref_count: Some(1),
                ..Default::default()
            },
            DiskVolume {
                name: "orphan".into(),
                driver: "local".into(),
                size: Some(70),
                ref_count: Some(0),
                labels: mine.clone(),
            },
            DiskVolume {
                name: "remote".into(),
                driver: "nfs".into(),
                size: None,
                ref_count: Some(0),
                ..Default::default()
            },
        ],
        build_cache: vec![
            DiskCache { id: "b1".into(), size: 40, in_use: false, ..Default::default() },
            DiskCache { id: "b2".into(), size: 30, in_use: true, ..Default::default() },
            DiskCache { id: "b3".into(), size: 9, shared: true, ..Default::default() },
        ],
        ..Default::default()
    }
}

#[test]
fn totals_count_as_docker_system_df_does() {
    let u = usage();
    let images = u.images_total();
    assert_eq!((images.count, images.active, images.size), (3, 1, 1000));
    assert_eq!(images.reclaimable, 1000 - 500, "the used image's own layers stay");
    let containers = u.containers_total();
    assert_eq!((containers.count, containers.active, containers.size), (4, 2, 35));
    assert_eq!(containers.reclaimable, 20, "paused ones run");
    let volumes = u.volumes_total();
    assert_eq!((volumes.size, volumes.reclaimable, volumes.active), (120, 70, 1));
    let cache = u.cache_total();
    assert_eq!((cache.size, cache.reclaimable), (70, 40), "shared records are not counted");
}

#[test]
fn each_prune_lists_what_the_engine_would_take() {
    let u = usage();
    let p = plan(0, PruneKind::Containers, &u, &[], &[], None);
    let ids: Vec<&str> = p.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["c2", "c4"], "stopped and created, largest first; not paused");
    assert_eq!(p.bytes(), 20);

    let p = plan(0, PruneKind::DanglingImages, &u, &[], &[], None);
    assert_eq!(p.items.len(), 1);
    assert_eq!(p.items[0].id, "sha256:bbb");
    assert!(p.notes.is_empty());
    let p = plan(0, PruneKind::UnusedImages, &u, &[], &[], None);
    let ids: Vec<&str> = p.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["sha256:bbb", "sha256:ccc"], "never the used one");
    assert_eq!(p.bytes(), 300 + 100, "only layers of their own");
    assert_eq!(p.items[1].tags, ["old:1"], "removed by its tags first");
    assert_eq!(p.notes.len(), 1, "shared layers are said");

    let p = plan(0, PruneKind::Volumes, &u, &[], &[], None);
    let ids: Vec<&str> = p.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["orphan"], "local and unused only");

    let p = plan(0, PruneKind::BuildCache, &u, &[], &[], None);
    let ids: Vec<&str> = p.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["b1", "b3"]);
    assert_eq!(p.bytes(), 40);
}

#[test]
fn network_prune_spares_built_ins_and_networks_with_any_container() {
    let net = |name: &str, driver: &str| Network {
        id: format!("id-{name}"),
        name: name.into(),
        driver: Some(driver.into()),
        scope: Some("local".into()),
        ..Default::default()
    };
    let nets = [
        net("bridge", "bridge"),
        net("host", "host"),
        net("none", "null"),
        net("app_default", "bridge"),
        net("stale", "bridge"),
    ];
    let mut stopped = Container::new("x", "x");
    stopped.networks =
        vec![NetworkAttachment { name: "app_default".into(), ip: None, aliases: vec![] }];
    let refs: Vec<&Network> = nets.iter().collect();
    let p = plan(0, PruneKind::Networks, &DiskUsage::default(), &refs, &[&stopped], None);
    let names: Vec<&str> = p.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["stale"]);
    assert_eq!(p.items[0].id, "id-stale", "removed by id");
}

#[test]
fn a_label_filter_keeps_the_prune_to_its_own_objects() {
    let u = usage();
    let filter = LabelFilter::parse("t=1");
    let filter = filter.as_ref();
    let take = |kind| plan(0, kind, &u, &[], &[], filter).items;
    assert_eq!(take(PruneKind::Containers).len(), 1);
    assert_eq!(take(PruneKind::UnusedImages).len(), 1);
    assert_eq!(take(PruneKind::Volumes).len(), 1);
    assert!(take(PruneKind::BuildCache).is_empty(), "cache has no labels: none taken");
    assert_eq!(LabelFilter::parse("k"), Some(LabelFilter { key: "k".into(), value: None }));
    assert_eq!(LabelFilter::parse(" "), None);
    assert!(!LabelFilter::parse("t=2").is_some_and(|f| f.matches(&labels(&[("t", "1")]))));
}

#[test]
fn a_report_says_what_went_and_what_did_not() {
    let item = |id: &str| PruneItem {
        kind: ObjectKind::Volume,
        id: id.into(),
        name: id.into(),
        tags: vec![],
        bytes: Some(2048),
    };
    let report = PruneReport {
        host: 0,
        kind: PruneKind::Volumes,
        at: Utc::now(),
        outcomes: vec![
            PruneOutcome { item: item("a"), error: None, freed: 2048 },
            PruneOutcome { item: item("b"), error: Some("volume is in use".into()), freed: 0 },
        ],
        also_removed: vec![],
    };
    assert_eq!(report.freed(), 2048);
    let text = report.summary();
    assert!(text.contains("removed 1 of 2, freed 2.00KiB"), "{text}");
    assert!(text.contains("b: volume is in use"), "{text}");
}

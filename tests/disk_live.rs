//! Disk usage and prunes on the real engine. The engine is shared with other tests
//! and stacks: every prune here is previewed with the fixture's label filter, the
//! preview is checked to hold the fixture's objects and nothing else before anything
//! is removed, and the sizes it counts are checked against what the engine reports
//! for each object by other endpoints (the container list's `SizeRw`, the image
//! inspect's `Size`).
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use portolan::engine;
use portolan::model::disk::{LabelFilter, ObjectKind, PruneKind, PrunePlan, plan};
use support::{Fixture, Watch, docker, docker_ok};

/// Images this test imported, removed on drop whatever happened.
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for image in &self.0 {
            let _ = docker(&["rmi", "-f", image]);
        }
    }
}

/// `docker import` of a one-file tarball of `bytes` random bytes, labelled, tagged
/// `tag` or dangling; its id.
fn import(fixture: &Fixture, tag: Option<&str>, bytes: usize) -> String {
    let dir = std::env::temp_dir().join(fixture.name(&format!("tar-{bytes}")));
    std::fs::create_dir_all(&dir).unwrap();
    let mut data = vec![0u8; bytes];
    let mut seed = bytes as u64 ^ std::process::id() as u64 ^ 0x9e37_79b9_7f4a_7c15;
    for byte in data.iter_mut() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        *byte = seed as u8;
    }
    std::fs::write(dir.join("blob"), &data).unwrap();
    let tar = dir.join("image.tar");
    let status = std::process::Command::new("tar")
        .args(["-cf", tar.to_str().unwrap(), "-C", dir.to_str().unwrap(), "blob"])
        .status()
        .unwrap();
    assert!(status.success());
    let change = format!("LABEL {}", fixture.label());
    let mut args = vec!["import", "--change", &change, tar.to_str().unwrap()];
    if let Some(tag) = tag {
        args.push(tag);
    }
    let id = docker_ok(&args);
    let _ = std::fs::remove_dir_all(&dir);
    id.trim().to_string()
}

/// A container that wrote `bytes` into its writable layer and exited.
fn stopped(fixture: &Fixture, what: &str, bytes: usize) -> String {
    let command = format!("head -c {bytes} /dev/urandom > /junk");
    let id = fixture.run(what, &[], &["sh", "-c", &command]);
    docker_ok(&["wait", &id]);
    id.trim().to_string()
}

fn ids(plan: &PrunePlan) -> BTreeSet<String> {
    plan.items.iter().map(|i| i.id.clone()).collect()
}

fn gone(kind: &str, id: &str) -> bool {
    !docker(&[kind, "inspect", id]).status.success()
}

#[tokio::test]
async fn the_prune_preview_lists_the_fixture_and_removes_exactly_it() {
    let fixture = Fixture::new("disk");
    let first = stopped(&fixture, "job-a", 300_000);
    let second = stopped(&fixture, "job-b", 120_000);
    let tag = format!("{}:1", fixture.name("unused"));
    let dangling = import(&fixture, None, 200_000);
    let unused = import(&fixture, Some(&tag), 90_000);
    let _images = Images(vec![dangling.clone(), unused.clone()]);
    let volume = fixture.volume("orphan");
    let mount = format!("{volume}:/data");
    let label = fixture.label();
    docker_ok(&[
        "run",
        "--rm",
        "--label",
        &label,
        "-v",
        &mount,
        &fixture.image,
        "sh",
        "-c",
        "head -c 65536 /dev/urandom > /data/x",
    ]);
    let network = fixture.network("unused", &[]);
    let network_id =
        docker_ok(&["network", "inspect", "-f", "{{.Id}}", &network]).trim().to_string();

    let (docker_api, _) =
        engine::connect(&support::endpoint(), engine::CONNECT_TIMEOUT).await.expect("engine");
    let mut watch = Watch::start().await;
    watch
        .wait("the fixture's network", Duration::from_secs(10), |m| {
            m.networks.values().any(|n| n.name == network)
        })
        .await;
    let usage = engine::disk::read(&docker_api).await.expect("a disk usage reading");
    eprintln!("/system/df took {} ms", usage.took_ms);
    let filter = LabelFilter::parse(&label).expect("label filter");
    let networks: Vec<_> = watch.model.networks.values().collect();
    let containers: Vec<_> = watch.model.containers.values().collect();
    let preview = |kind| plan(0, kind, &usage, &networks, &containers, Some(&filter));

    // Each preview holds the fixture's objects, and only them.
    let stopped_plan = preview(PruneKind::Containers);
    assert_eq!(ids(&stopped_plan), BTreeSet::from([first.clone(), second.clone()]));
    let dangling_plan = preview(PruneKind::DanglingImages);
    assert_eq!(ids(&dangling_plan), BTreeSet::from([dangling.clone()]));
    let images_plan = preview(PruneKind::UnusedImages);
    assert_eq!(ids(&images_plan), BTreeSet::from([dangling.clone(), unused.clone()]));
    let volumes_plan = preview(PruneKind::Volumes);
    assert_eq!(ids(&volumes_plan), BTreeSet::from([volume.clone()]));
    let networks_plan = preview(PruneKind::Networks);
    assert_eq!(ids(&networks_plan), BTreeSet::from([network_id.clone()]));
    assert!(preview(PruneKind::BuildCache).items.is_empty(), "cache has no labels");

    // The preview's bytes are the engine's, object by object.
    use bollard::query_parameters::ListContainersOptions;
    let mut filters = std::collections::HashMap::new();
    filters.insert("label".to_string(), vec![label.clone()]);
    let listed = docker_api
        .list_containers(Some(ListContainersOptions {
            all: true,
            size: true,
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .expect("container list");
    for item in &stopped_plan.items {
        let summary = listed.iter().find(|c| c.id.as_deref() == Some(&item.id)).expect("listed");
        assert_eq!(item.bytes, summary.size_rw.map(|n| n as u64), "{}", item.name);
        assert!(item.bytes.unwrap_or(0) >= 100_000, "{}: {:?}", item.name, item.bytes);
    }
    for item in &images_plan.items {
        let inspect = docker_api.inspect_image(&item.id).await.expect("image inspect");
        assert_eq!(item.bytes, inspect.size.map(|n| n as u64), "{}", item.name);
    }
    assert!(volumes_plan.items[0].bytes.unwrap_or(0) >= 65_536, "{:?}", volumes_plan.items[0]);
    assert_eq!(
        images_plan.items.iter().find(|i| i.id == unused).unwrap().tags,
        std::slice::from_ref(&tag)
    );

    // Prune: exactly the listed objects go, and the report says the same bytes.
    for (name, plan) in [
        ("containers", &stopped_plan),
        ("images", &images_plan),
        ("volumes", &volumes_plan),
        ("networks", &networks_plan),
    ] {
        let report = engine::disk::prune(&docker_api, plan).await;
        let failed: Vec<_> = report.failed().collect();
        assert!(failed.is_empty(), "{name}: {failed:?}");
        assert_eq!(report.removed().count(), plan.items.len(), "{name}");
        assert_eq!(report.freed(), plan.bytes(), "{name}: freed as previewed");
    }
    assert!(gone("container", &first) && gone("container", &second));
    assert!(gone("image", &dangling) && gone("image", &unused));
    assert!(gone("volume", &volume));
    assert!(gone("network", &network_id));
    let after = engine::disk::read(&docker_api).await.expect("a second reading");
    let still: Vec<_> = after
        .containers
        .iter()
        .map(|c| c.id.clone())
        .chain(after.images.iter().map(|i| i.id.clone()))
        .chain(after.volumes.iter().map(|v| v.name.clone()))
        .filter(|id| [&first, &second, &dangling, &unused, &volume].contains(&id))
        .collect();
    assert!(still.is_empty(), "still on disk: {still:?}");
    // The test image the fixture's containers ran stays.
    assert!(!gone("image", &fixture.image));
    watch.stop().await;
}

#[tokio::test]
async fn a_prune_refuses_what_changed_since_the_preview() {
    let fixture = Fixture::new("disk-race");
    let name = fixture.name("job");
    let label = fixture.label();
    let job =
        docker_ok(&["create", "--name", &name, "--label", &label, &fixture.image, "sleep", "60"])
            .trim()
            .to_string();
    let (docker_api, _) =
        engine::connect(&support::endpoint(), engine::CONNECT_TIMEOUT).await.expect("engine");
    let usage = engine::disk::read(&docker_api).await.expect("reading");
    let filter = LabelFilter::parse(&fixture.label()).unwrap();
    let preview = plan(0, PruneKind::Containers, &usage, &[], &[], Some(&filter));
    assert_eq!(ids(&preview), BTreeSet::from([job.clone()]));
    assert_eq!(preview.items[0].kind, ObjectKind::Container);
    // Started again after the preview: the prune must not kill it.
    docker_ok(&["start", &job]);
    let report = engine::disk::prune(&docker_api, &preview).await;
    assert_eq!(report.removed().count(), 0, "{report:?}");
    assert_eq!(report.freed(), 0);
    assert!(!gone("container", &job), "a running container was removed");
    assert!(
        report.outcomes[0].error.as_deref().is_some_and(|e| e.contains("running")),
        "{report:?}"
    );
}

#[test]
fn snapshot_of_the_disk_pane_reads_the_disk_once_in_every_format() {
    let fixture = Fixture::new("disk-snap");
    let job = stopped(&fixture, "job", 50_000);
    let run = |format: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_portolan"))
            .args(["snapshot", "--pane", "disk", "--format", format, "--wait", "0"])
            .args(["--width", "120", "--height", "40"])
            .env("XDG_STATE_HOME", std::env::temp_dir().join(fixture.name("state")))
            .env("XDG_CONFIG_HOME", "/nonexistent/portolan-tests")
            .output()
            .expect("portolan runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    let json: serde_json::Value = serde_json::from_str(&run("json")).expect("JSON");
    let disk = &json["disk"][0];
    let items = disk["containers"]["items"].as_array().expect("containers");
    let mine = items.iter().find(|c| c["id"] == job.as_str()).expect("the fixture's container");
    assert_eq!(mine["state"], "exited");
    assert!(mine["writable_bytes"].as_u64().unwrap_or(0) >= 50_000, "{mine}");
    assert!(disk["images"]["size_bytes"].as_u64().unwrap_or(0) > 0, "{disk}");
    let text = run("text");
    assert!(text.contains("Disk · read") && text.contains("RECLAIMABLE"), "{text}");
    assert!(text.contains(&fixture.name("job")) || text.contains("Containers ("), "{text}");
    let svg = run("svg");
    assert!(svg.starts_with("<svg") || svg.contains("<svg"), "an SVG");
}

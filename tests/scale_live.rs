//! Hundreds, then a thousand, containers on a private engine (the shared one cannot be
//! filled without disturbing everyone else): every one is listed, the map wraps them
//! into a grid that fits the width, folds a large group with its count, and names
//! sort naturally.
//!
//! The containers are created, not started: what is measured here is the inventory
//! and the layout, and a thousand running shims would not fit a CI machine. Their
//! image is a one-file root filesystem, so the private engine's `vfs` storage copies
//! next to nothing per container.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::process::{Command, Stdio};

use support::second_engine::SecondEngine;

fn portolan() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portolan"));
    command.env_remove("NO_COLOR");
    command.env_remove("DOCKER_HOST");
    command.env("XDG_CONFIG_HOME", "/nonexistent/portolan-tests");
    command
}

/// A one-file image on the private engine.
fn tiny_image(engine: &SecondEngine) -> String {
    let root = engine.dir.join("tiny-root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("README"), "a container that is never started\n").unwrap();
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .args(["-cf", "-", "README"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("tar runs");
    let image = "portolan-scale/tiny:1";
    let output = Command::new("docker")
        .args(["-H", &engine.host(), "import", "-", image])
        .stdin(tar.stdout.take().expect("tar's output"))
        .output()
        .expect("docker import runs");
    assert!(tar.wait().expect("tar ends").success(), "tar failed");
    assert!(output.status.success(), "import: {}", String::from_utf8_lossy(&output.stderr));
    image.to_string()
}

/// Creates `names` on the private engine, four at a time.
fn create(engine: &SecondEngine, image: &str, names: Vec<String>) {
    let host = engine.host();
    let chunks: Vec<Vec<String>> =
        names.chunks(names.len().div_ceil(4)).map(<[_]>::to_vec).collect();
    std::thread::scope(|scope| {
        for chunk in chunks {
            let (host, image) = (host.clone(), image.to_string());
            scope.spawn(move || {
                for name in chunk {
                    let output = Command::new("docker")
                        .args(["-H", &host, "create", "--network", "none", "--name", &name])
                        .args([&image, "/never-run"])
                        .output()
                        .expect("docker create runs");
                    assert!(
                        output.status.success(),
                        "create {name}: {}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                }
            });
        }
    });
}

fn snapshot(engine: &SecondEngine, args: &[&str]) -> String {
    let output = portolan()
        .args(["-H", &engine.host(), "snapshot"])
        .args(args)
        .output()
        .expect("portolan runs");
    assert!(
        output.status.success(),
        "snapshot {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// The map's size from its title (`… · 200x85 map, pans with the selection`), or
/// `None` when the whole map fits the pane.
fn map_size(text: &str) -> Option<(usize, usize)> {
    let title = text.lines().next()?;
    let (before, _) = title.split_once(" map, pans with the selection")?;
    let (width, height) = before.rsplit(' ').next()?.split_once('x')?;
    Some((width.trim().parse().ok()?, height.trim().parse().ok()?))
}

fn listed(engine: &SecondEngine) -> Vec<String> {
    let document: serde_json::Value =
        serde_json::from_str(&snapshot(engine, &["--format", "json", "--wait", "0"])).unwrap();
    document["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn three_hundred_then_a_thousand_containers_are_listed_and_fit_the_map() {
    let Some(engine) = SecondEngine::start("scale_live") else { return };
    let image = tiny_image(&engine);

    // 300 with no edges between them, as on a host of unrelated containers.
    create(&engine, &image, (1..=300).map(|n| format!("c{n}")).collect());
    assert_eq!(listed(&engine).len(), 300);
    let map = snapshot(&engine, &["--format", "text", "--pane", "map", "--width", "200"]);
    // The grid wraps at the width: the map grows down, never sideways (it was one
    // row 5,298 columns wide).
    if let Some((width, _)) = map_size(&map) {
        assert!(width <= 200, "the map is {width} wide:\n{map}");
    }
    for line in map.lines() {
        assert!(line.chars().count() <= 200, "a line wider than the pane: {line}");
    }
    // In natural order: c2 before c10, c10 before c100.
    let at = |name: &str| {
        map.find(&format!(" {name} ")).unwrap_or_else(|| panic!("{name} is on the map:\n{map}"))
    };
    assert!(at("c1") < at("c2") && at("c2") < at("c10") && at("c10") < at("c11"), "{map}");

    // 700 more of one name prefix: a thousand in all, and the group folds.
    create(&engine, &image, (1..=700).map(|n| format!("web-{n}")).collect());
    let names = listed(&engine);
    assert_eq!(names.len(), 1000);
    let map = snapshot(&engine, &["--format", "text", "--pane", "map", "--width", "200"]);
    if let Some((width, _)) = map_size(&map) {
        assert!(width <= 200, "the map is {width} wide:\n{map}");
    }
    assert!(map.contains("web-* ×700"), "the 700 fold into one box with their count:\n{map}");
    assert!(map.lines().next().is_some_and(|title| title.contains("700 folded")), "{map}");
    // The Containers list names every one, in natural order.
    let list = snapshot(
        &engine,
        &["--format", "text", "--pane", "containers", "--width", "120", "--height", "40"],
    );
    let (c9, c10) = (list.find(" c9 "), list.find(" c10 "));
    assert!(c9.is_some() && c10.is_some() && c9 < c10, "{list}");
}

#[test]
fn the_map_size_is_read_from_the_title() {
    let title =
        "╭─ Map · vm · Docker 20.10 · 700 folded · 200x85 map, pans with the selection ───╮";
    assert_eq!(map_size(title), Some((200, 85)));
    assert_eq!(map_size("╭─ Map · vm · Docker 20.10 ───╮"), None);
}

//! The Changes pane and the data-volume audit rule on the real engine: a container
//! that writes and deletes over its image, and a "database" (the test image tagged
//! under a unique postgres name) with and without a volume on its data directory.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use portolan::audit::{Check, Severity, findings_where};
use portolan::engine::EngineCommand;
use portolan::model::changes::ChangeKind;
use support::{Fixture, Watch, docker, docker_ok};

const WRITER: &str = "mkdir -p /srv/new && echo hi > /srv/new/file && rm /bin/vi; sleep 1000";

/// Waits until `docker diff` lists `path`: the command runs after the start returns.
fn wait_for_diff(name: &str, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = docker(&["diff", name]);
        if String::from_utf8_lossy(&out.stdout).lines().any(|l| l.ends_with(path)) {
            return;
        }
        assert!(Instant::now() < deadline, "docker diff {name} never listed {path}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_changes_pane_lists_what_a_container_wrote_and_deleted() {
    let fx = Fixture::new("changes");
    let name = fx.name("writer");
    let id = fx.run("writer", &[], &["sh", "-c", WRITER]);
    wait_for_diff(&name, "/bin/vi");

    // The engine side: one request, one answer, into the model.
    let mut watch = Watch::start().await;
    watch.wait("the writer", Duration::from_secs(10), |m| m.containers.contains_key(&id)).await;
    watch.handle.command(EngineCommand::Changes { host: 0, id: id.clone() });
    watch.wait("its changes", Duration::from_secs(30), |m| m.changes.contains_key(&id)).await;
    let changes = watch.model.changes[&id].result.clone().expect("the engine lists them");
    let kind = |path: &str| changes.iter().find(|c| c.path == path).map(|c| c.kind);
    assert_eq!(kind("/srv/new/file"), Some(ChangeKind::Added), "{changes:?}");
    assert_eq!(kind("/bin/vi"), Some(ChangeKind::Deleted), "{changes:?}");
    // The size of one entry, on demand: `hi` and a newline.
    let path = "/srv/new/file".to_string();
    watch.handle.command(EngineCommand::PathStat { host: 0, id: id.clone(), path: path.clone() });
    watch
        .wait("its size", Duration::from_secs(10), |m| m.changes[&id].stats.contains_key(&path))
        .await;
    let info = watch.model.changes[&id].stats[&path].clone().expect("the engine describes it");
    assert_eq!((info.size, info.dir), (3, false));
    watch.stop().await;

    // The command line: the pane as text.
    let out = Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(["snapshot", "--format", "text", "--pane", "changes", "--container", &name])
        .args(["--width", "120", "--height", "40", "--wait", "0"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(&format!("Changes · {name}")), "{text}");
    let rows: Vec<&str> = text.lines().map(|l| l.trim_matches(['│', ' '])).collect();
    let at = |row: &str| rows.iter().position(|r| *r == row);
    let (srv, new, file) = (at("▾ A srv/  2 changes"), at("▾ A new/  1 change"), at("A file"));
    assert!(srv.is_some() && new > srv && file > new, "srv/new/file as a tree: {text}");
    assert!(at("D vi").is_some_and(|vi| at("▾ C bin/  1 change") == Some(vi - 1)), "{text}");
    assert!(text.contains("the engine's list has none"), "{text}");

    // Without --container it is a usage error, said in words.
    let out = Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(["snapshot", "--format", "text", "--pane", "changes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--container NAME"));
}

/// A local tag of the test image under a unique repository name, removed on drop
/// (after the fixture's containers: declare it first).
struct Tag(String);

impl Drop for Tag {
    fn drop(&mut self) {
        let _ = docker(&["rmi", &self.0]);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_database_without_a_volume_on_its_data_dir_is_a_finding() {
    let image = support::test_image();
    let run = Fixture::new("pgvol").run.clone();
    let tag = Tag(format!("pt-{run}/postgres:15").to_ascii_lowercase());
    docker_ok(&["tag", &image, &tag.0]);
    let mut fx = Fixture::new("pgvol");
    fx.image = tag.0.clone();
    let volume = fx.volume("pgdata");
    let bare = fx.run("bare", &[], &["sleep", "600"]);
    let mount = format!("{volume}:/var/lib/postgresql/data");
    let kept = fx.run("kept", &["-v", &mount], &["sleep", "600"]);

    let mut watch = Watch::start().await;
    watch
        .wait("both databases", Duration::from_secs(10), |m| {
            m.containers.contains_key(&bare) && m.containers.contains_key(&kept)
        })
        .await;
    let label = fx.label();
    let (key, value) = label.split_once('=').unwrap();
    let found = findings_where(&watch.model, |c| c.labels.get(key).is_some_and(|v| v == value));
    let of = |id: &str| {
        found.iter().find(|f| f.container_id == id && f.check == Check::DataInImageLayer).cloned()
    };
    let finding = of(&bare).expect("the bare database has the finding");
    assert_eq!(finding.severity, Severity::Medium);
    assert!(
        finding.message.starts_with(
            "PostgreSQL keeps its data in /var/lib/postgresql/data with no volume there"
        ),
        "{}",
        finding.message
    );
    assert!(of(&kept).is_none(), "a volume on the data directory: {found:#?}");
    watch.stop().await;
    drop(fx);
    drop(tag);
}

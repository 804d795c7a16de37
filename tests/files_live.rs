//! The Files pane on the real engine: a container with a known tree (files, a
//! directory, links, a file with its own mode and owner, a hostile name) is listed,
//! viewed, copied out and in through the project's own engine code, running and
//! stopped; a 50 MB file is copied out with its progress watched.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use portolan::engine::EngineCommand;
use portolan::engine::files::{self, Budget, FilesRequest};
use portolan::model::files::{
    Cut, EntryKind, FileEntry, FilesUpdate, HEAD_LIMIT, Listing, Transfer, TransferState,
};
use portolan::model::{Model, Update};
use sha2::{Digest, Sha256};
use support::{Fixture, Watch, docker, docker_ok};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The tree every test browses, under /srv/tree. The hostile name carries an escape
/// sequence and a newline.
const TREE: &str = r#"set -e
mkdir -p /srv/tree/sub/deep
printf 'hello\n' > /srv/tree/hello.txt
printf 'a' > /srv/tree/sub/a.txt
head -c 3000 /dev/urandom > /srv/tree/sub/deep/blob.bin
ln -s hello.txt /srv/tree/link
printf 'secret=1\n' > /srv/tree/owned.conf
chown 1234:99 /srv/tree/owned.conf
chmod 640 /srv/tree/owned.conf
printf 'x' > "/srv/tree/evil$(printf '\033')[2Jname
line"
yes 'a line of a long text file' | head -c 400000 > /srv/tree/long.txt
"#;

/// A scratch directory on this machine, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("portolan-files-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A file's bytes as the container has them, through `docker exec cat` (running)
/// or `docker cp` to stdout (stopped: a tar).
fn container_bytes(name: &str, path: &str) -> Vec<u8> {
    let out = docker(&["exec", name, "cat", path]);
    assert!(out.status.success(), "cat {path}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

async fn listed(watch: &mut Watch, id: &str, path: &str) -> Listing {
    let request = FilesRequest::List { id: id.into(), path: path.into() };
    watch.handle.command(EngineCommand::Files { host: 0, request });
    let (id, path) = (id.to_string(), path.to_string());
    watch
        .wait(&format!("the listing of {path}"), Duration::from_secs(20), |m| {
            m.files.listing(&id, &path).is_some()
        })
        .await;
    let answer = watch.model.files.listings.remove(&(id, path.clone())).unwrap();
    answer.result.unwrap_or_else(|e| panic!("{path} is listed: {e}"))
}

fn entry<'a>(listing: &'a Listing, name: &str) -> &'a FileEntry {
    listing
        .entries
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{name} in {listing:#?}"))
}

/// Waits for the transfer numbered `number` to end; returns every state it went through.
async fn transfer(watch: &mut Watch, number: u64) -> Transfer {
    watch
        .wait(&format!("copy {number}"), Duration::from_secs(60), |m: &Model| {
            m.files
                .transfers
                .iter()
                .any(|t| t.number == number && t.state != TransferState::Running)
        })
        .await;
    watch.model.files.transfers.iter().find(|t| t.number == number).cloned().unwrap()
}

fn assert_same_tree(name: &str, local: &Path) {
    assert_eq!(
        std::fs::read(local.join("hello.txt")).unwrap(),
        container_bytes(name, "/srv/tree/hello.txt")
    );
    assert_eq!(std::fs::read(local.join("sub/a.txt")).unwrap(), b"a");
    assert_eq!(
        std::fs::read(local.join("sub/deep/blob.bin")).unwrap(),
        container_bytes(name, "/srv/tree/sub/deep/blob.bin"),
        "byte for byte"
    );
    let link = std::fs::read_link(local.join("link")).expect("the link is kept as a link");
    assert_eq!(link, Path::new("hello.txt"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(local.join("owned.conf")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[tokio::test(flavor = "current_thread")]
async fn a_running_container_is_listed_viewed_and_copied_both_ways() {
    let fx = Fixture::new("files");
    let name = fx.name("tree");
    let id = fx.run("tree", &[], &["sh", "-c", &format!("{TREE}\nsleep 600")]);
    // The tree is written after the start returns.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !docker(&["exec", &name, "test", "-f", "/srv/tree/long.txt"]).status.success() {
        assert!(std::time::Instant::now() < deadline, "the tree was never written");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(300));

    let mut watch = Watch::start().await;
    watch.wait("the container", Duration::from_secs(10), |m| m.containers.contains_key(&id)).await;

    // The listing: names, kinds, sizes, modes, owners, link targets as made.
    let tree = listed(&mut watch, &id, "/srv/tree").await;
    assert_eq!(tree.cut, None);
    let names: Vec<&str> = tree.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names[0], "sub", "directories first: {names:?}");
    let hello = entry(&tree, "hello.txt");
    assert_eq!((hello.kind, hello.size, hello.mode), (EntryKind::File, 6, 0o644));
    let owned = entry(&tree, "owned.conf");
    assert_eq!((owned.uid, owned.gid, owned.mode), (1234, 99, 0o640));
    assert_eq!(owned.mode_string(), "-rw-r-----");
    let link = entry(&tree, "link");
    assert_eq!((link.kind, link.link_target.as_str()), (EntryKind::Symlink, "hello.txt"));
    let sub = entry(&tree, "sub");
    assert_eq!(sub.kind, EntryKind::Dir);
    assert_eq!(sub.size, 3001, "a directory's size is what streamed below it");
    assert_eq!(sub.below, 3, "a.txt, deep/, deep/blob.bin and nothing else: {sub:?}");
    let evil = tree.entries.iter().find(|e| e.name.starts_with("evil")).expect("the hostile name");
    assert!(evil.name.contains('\u{1b}') && evil.name.contains('\n'), "kept raw: {:?}", evil.name);

    // A path that is not there, said in words.
    let request = FilesRequest::List { id: id.clone(), path: "/no/such/dir".into() };
    watch.handle.command(EngineCommand::Files { host: 0, request });
    watch
        .wait("the refusal", Duration::from_secs(10), |m| {
            m.files.listing(&id, "/no/such/dir").is_some()
        })
        .await;
    let refused = watch.model.files.listing(&id, "/no/such/dir").unwrap().result.clone();
    assert_eq!(refused, Err("/no/such/dir is not there (no such file or directory)".to_string()));

    // Viewing: a small text, a link to it (followed), a long text cut at its head.
    let head = |watch: &mut Watch, path: &str| {
        let request = FilesRequest::Head { id: id.clone(), path: path.into() };
        watch.handle.command(EngineCommand::Files { host: 0, request });
    };
    for (path, resolved) in
        [("/srv/tree/hello.txt", "/srv/tree/hello.txt"), ("/srv/tree/link", "/srv/tree/hello.txt")]
    {
        head(&mut watch, path);
        watch
            .wait(path, Duration::from_secs(10), |m| {
                m.files.head.as_ref().is_some_and(|h| h.path == path)
            })
            .await;
        let body = watch.model.files.head.clone().unwrap().result.expect("read");
        assert_eq!(
            (body.bytes.as_slice(), body.size, body.resolved.as_str()),
            (&b"hello\n"[..], 6, resolved)
        );
    }
    head(&mut watch, "/srv/tree/long.txt");
    watch
        .wait("the long file", Duration::from_secs(10), |m| {
            m.files.head.as_ref().is_some_and(|h| h.path == "/srv/tree/long.txt")
        })
        .await;
    let body = watch.model.files.head.clone().unwrap().result.expect("read");
    assert_eq!((body.bytes.len(), body.size), (HEAD_LIMIT, 400_000));
    assert!(body.is_cut() && !body.is_binary());
    // A link to a directory leads there.
    head(&mut watch, "/srv");
    watch
        .wait("/srv", Duration::from_secs(10), |m| {
            m.files.head.as_ref().is_some_and(|h| h.path == "/srv")
        })
        .await;
    assert_eq!(watch.model.files.head.as_ref().unwrap().directory.as_deref(), Some("/srv"));

    // Copy out a file, then the directory, and compare byte for byte.
    let scratch = Scratch::new("running");
    let local = scratch.0.join("hello-copy.txt");
    let request = FilesRequest::CopyOut {
        number: 1,
        id: id.clone(),
        path: "/srv/tree/hello.txt".into(),
        local: local.clone(),
        expected: Some(6),
    };
    watch.handle.command(EngineCommand::Files { host: 0, request });
    let done = transfer(&mut watch, 1).await;
    assert_eq!(done.state, TransferState::Done { skipped: 0 });
    assert_eq!(std::fs::read(&local).unwrap(), b"hello\n");
    let tree_copy = scratch.0.join("tree");
    let request = FilesRequest::CopyOut {
        number: 2,
        id: id.clone(),
        path: "/srv/tree".into(),
        local: tree_copy.clone(),
        expected: Some(sub.size),
    };
    watch.handle.command(EngineCommand::Files { host: 0, request });
    let done = transfer(&mut watch, 2).await;
    assert_eq!(done.state, TransferState::Done { skipped: 0 }, "{done:?}");
    assert_same_tree(&name, &tree_copy);
    // The hostile name is written under its own bytes, inside the copy.
    let evil = std::fs::read_dir(&tree_copy)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("evil"))
        .expect("the hostile file is copied too");
    assert_eq!(std::fs::read(evil.path()).unwrap(), b"x");

    // Copy a local file in, read it back through the container byte for byte.
    let upload = scratch.0.join("uploaded.bin");
    let bytes: Vec<u8> =
        (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&upload, &bytes).unwrap();
    let request = FilesRequest::CopyIn {
        number: 3,
        id: id.clone(),
        dir: "/srv/tree/sub".into(),
        local: upload,
    };
    watch.handle.command(EngineCommand::Files { host: 0, request });
    let done = transfer(&mut watch, 3).await;
    assert_eq!(done.state, TransferState::Done { skipped: 0 }, "{done:?}");
    assert_eq!((done.done, done.total), (200_000, Some(200_000)));
    assert_eq!(container_bytes(&name, "/srv/tree/sub/uploaded.bin"), bytes, "byte for byte");
    let sub = listed(&mut watch, &id, "/srv/tree/sub").await;
    assert_eq!(entry(&sub, "uploaded.bin").size, 200_000);

    // Failures in words: a local place that cannot be written, a container directory
    // that is not there.
    let nowhere = scratch.0.join("no/such/place/hello.txt");
    std::fs::write(scratch.0.join("no"), b"a file, not a directory").unwrap();
    let request = FilesRequest::CopyOut {
        number: 4,
        id: id.clone(),
        path: "/srv/tree/hello.txt".into(),
        local: nowhere.clone(),
        expected: Some(6),
    };
    watch.handle.command(EngineCommand::Files { host: 0, request });
    let failed = transfer(&mut watch, 4).await;
    match &failed.state {
        TransferState::Failed(why) => {
            assert!(why.starts_with(&format!("cannot write {}", nowhere.display())), "{why}")
        }
        other => panic!("a failure: {other:?}"),
    }
    let request = FilesRequest::CopyIn {
        number: 5,
        id: id.clone(),
        dir: "/no/such/dir".into(),
        local: scratch.0.join("hello-copy.txt"),
    };
    watch.handle.command(EngineCommand::Files { host: 0, request });
    let failed = transfer(&mut watch, 5).await;
    assert_eq!(
        failed.state,
        TransferState::Failed("/no/such/dir is not there (no such file or directory)".into())
    );

    // The pane draws the hostile name safe, from what the engine listed.
    let tree_again = listed(&mut watch, &id, "/srv/tree").await;
    assert_eq!(tree_again.entries.len(), tree.entries.len());
    let mut model = watch.model.clone();
    model.apply(Update::Files(Box::new(FilesUpdate::Listing(
        portolan::model::files::ListingAnswer {
            id: id.clone(),
            path: "/srv/tree".into(),
            at: chrono::Utc::now(),
            result: Ok(tree_again),
        },
    ))));
    let mut app = portolan::ui::App::new(
        model,
        portolan::ui::theme::Theme::built_in("dark"),
        portolan::ui::keymap::Keymap::default(),
        chrono::Utc::now(),
    );
    app.pane = portolan::ui::PaneId::Files;
    app.panes.files.target = Some(name.clone());
    app.panes.files.show_dir("/srv/tree");
    let text = portolan::ui::buffer_to_text(&portolan::ui::render_buffer(&mut app, 120, 40));
    assert!(text.contains("evilname line"), "escape gone, newline a space: {text}");
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(text.contains("link → hello.txt") && text.contains("-rw-r----- 1234:99"), "{text}");
    watch.stop().await;

    // The command line: the pane as text, opened on the root.
    let out = Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(["snapshot", "--format", "text", "--pane", "files", "--container", &name])
        .args(["--width", "120", "--height", "40", "--wait", "0"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(&format!("Files · {name} · / ·")), "{text}");
    assert!(text.contains(" srv/") && text.contains(" etc/") && text.contains(" bin/"), "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(["snapshot", "--format", "text", "--pane", "files"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--container NAME"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_stopped_container_is_listed_and_copied() {
    let fx = Fixture::new("filesstop");
    let name = fx.name("stopped");
    let id = fx.run("stopped", &[], &["sh", "-c", TREE]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let state =
            docker_ok(&["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", &name]);
        if state == "exited 0" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the tree script did not end well: {state}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut watch = Watch::start().await;
    watch.wait("the container", Duration::from_secs(10), |m| m.containers.contains_key(&id)).await;
    assert!(!watch.model.containers[&id].state.is_running());
    let tree = listed(&mut watch, &id, "/srv/tree").await;
    assert_eq!(entry(&tree, "sub").size, 3001);
    assert_eq!(entry(&tree, "owned.conf").owner(), "1234:99");

    let scratch = Scratch::new("stopped");
    let local = scratch.0.join("tree");
    let request = FilesRequest::CopyOut {
        number: 7,
        id: id.clone(),
        path: "/srv/tree".into(),
        local: local.clone(),
        expected: None,
    };
    watch.handle.command(EngineCommand::Files { host: 0, request });
    let done = transfer(&mut watch, 7).await;
    assert_eq!(done.state, TransferState::Done { skipped: 0 }, "{done:?}");
    watch.stop().await;
    // Compared with what the engine's own copy gives.
    let reference = scratch.0.join("reference");
    std::fs::create_dir_all(&reference).unwrap();
    docker_ok(&["cp", &format!("{name}:/srv/tree/."), &reference.display().to_string()]);
    for file in ["hello.txt", "sub/a.txt", "sub/deep/blob.bin", "owned.conf", "long.txt"] {
        assert_eq!(
            std::fs::read(local.join(file)).unwrap(),
            std::fs::read(reference.join(file)).unwrap(),
            "{file} byte for byte"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_50_mb_file_copies_out_with_rising_progress_and_a_listing_keeps_to_its_budget() {
    const SIZE: u64 = 50 * 1024 * 1024;
    let fx = Fixture::new("filesbig");
    let name = fx.name("big");
    let id = fx.run(
        "big",
        &[],
        &["sh", "-c", &format!("head -c {SIZE} /dev/urandom > /big.bin; sleep 600")],
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let out = docker(&["exec", &name, "stat", "-c", "%s", "/big.bin"]);
        if String::from_utf8_lossy(&out.stdout).trim() == SIZE.to_string() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the big file was never written");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(300));
    let (docker_api, _) =
        portolan::engine::connect(&support::endpoint(), portolan::engine::CONNECT_TIMEOUT)
            .await
            .expect("the engine");
    let scratch = Scratch::new("big");
    let local = scratch.0.join("big.bin");
    let (tx, mut rx) = mpsc::channel(1024);
    let copy = tokio::spawn(files::copy_out(
        docker_api.clone(),
        1,
        id.clone(),
        "/big.bin".into(),
        local.clone(),
        Some(SIZE),
        tx,
        CancellationToken::new(),
    ));
    let mut seen: Vec<Transfer> = Vec::new();
    while let Ok(Some(update)) = tokio::time::timeout(Duration::from_secs(60), rx.recv()).await {
        if let Update::Files(update) = update
            && let FilesUpdate::Transfer(t) = *update
        {
            seen.push(t);
        }
    }
    copy.await.unwrap();
    let last = seen.last().expect("progress was reported").clone();
    assert_eq!(last.state, TransferState::Done { skipped: 0 }, "{last:?}");
    assert_eq!((last.done, last.total), (SIZE, Some(SIZE)));
    let running: Vec<u64> =
        seen.iter().filter(|t| t.state == TransferState::Running).map(|t| t.done).collect();
    // One report at the start and one per 16 MiB at least, however fast the copy.
    assert!(running.len() >= 4, "progress along the way, not only at the end: {running:?}");
    assert!(running.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {running:?}");
    assert!(running.iter().any(|d| *d > 0 && *d < SIZE), "some progress in between: {running:?}");
    eprintln!("50 MiB copied out with {} progress reports", running.len());
    let local_sum = Sha256::digest(std::fs::read(&local).unwrap());
    let remote = docker_ok(&["exec", &name, "sha256sum", "/big.bin"]);
    assert_eq!(
        remote.split_whitespace().next().unwrap(),
        format!("{local_sum:x}"),
        "byte for byte"
    );

    // A listing of / stops at its budget and says so rather than streaming it all.
    let list = |budget: Budget| {
        let (tx, rx) = mpsc::channel(4);
        let task = tokio::spawn(files::list(
            docker_api.clone(),
            id.clone(),
            "/".into(),
            budget,
            tx,
            CancellationToken::new(),
        ));
        (task, rx)
    };
    let budget = Budget { entries: 5, bytes: u64::MAX, time: Duration::from_secs(30) };
    let (task, mut rx) = list(budget);
    task.await.unwrap();
    let Some(Update::Files(update)) = rx.recv().await else { panic!("a listing") };
    let FilesUpdate::Listing(answer) = *update else { panic!("a listing") };
    let listing = answer.result.expect("listed");
    assert_eq!((listing.cut, listing.read), (Some(Cut::Entries(5)), 5));
    let budget = Budget { entries: u64::MAX, bytes: 1024 * 1024, time: Duration::from_secs(30) };
    let (task, mut rx) = list(budget);
    let started = std::time::Instant::now();
    task.await.unwrap();
    let Some(Update::Files(update)) = rx.recv().await else { panic!("a listing") };
    let FilesUpdate::Listing(answer) = *update else { panic!("a listing") };
    let listing = answer.result.expect("listed");
    assert!(matches!(listing.cut, Some(Cut::Bytes(b)) if b >= 1024 * 1024), "{:?}", listing.cut);
    // The tar streams in name order: /big.bin's header came before its body spent
    // the budget.
    let big =
        listing.entries.iter().find(|e| e.name == "big.bin").expect("what was read is listed");
    assert_eq!(big.size, SIZE);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it stopped early: {:?}",
        started.elapsed()
    );
}

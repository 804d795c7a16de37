//! Logs on the real engine: merged order, following through restarts and
//! re-creation, search and filters, hostile bytes, and a flood over budget.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use portolan::engine::EngineCommand;
use portolan::engine::logs::LogRequest;
use portolan::model::Model;
use portolan::model::logs::{Direction, Filter, FilteredView, LogTarget, pattern};
use support::{Fixture, Watch, docker_ok};

fn follow(watch: &Watch, target: LogTarget) {
    watch.handle.command(EngineCommand::FollowLogs(Some(LogRequest {
        target,
        tail: 300,
        since: None,
        hosts: None,
    })));
}

fn plain_lines(model: &Model) -> Vec<String> {
    model.logs.merged(None).map(|l| l.plain().to_string()).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn merged_order_follows_engine_timestamps() {
    let fx = Fixture::new("logmerge");
    let project = fx.name("proj");
    let label = format!("com.docker.compose.project={project}");
    // a and b alternate, 300 ms apart: the merged view must interleave them in time.
    fx.run(
        "a",
        &["--label", &label],
        &["sh", "-c", "for i in 1 2 3 4; do echo a$i; sleep 0.6; done; sleep 600"],
    );
    fx.run(
        "b",
        &["--label", &label],
        &["sh", "-c", "sleep 0.3; for i in 1 2 3 4; do echo b$i; sleep 0.6; done; sleep 600"],
    );
    let mut watch = Watch::start().await;
    follow(&watch, LogTarget::project(&project));
    watch.wait("eight lines", Duration::from_secs(15), |m| m.logs.len() >= 8).await;
    // The oracle: the engine's own timestamps, read with the docker CLI.
    let mut expected: Vec<(String, String)> = Vec::new();
    for what in ["a", "b"] {
        let out = docker_ok(&["logs", "--timestamps", &fx.name(what)]);
        for line in out.lines() {
            let (time, text) = line.split_once(' ').unwrap();
            expected.push((time.to_string(), text.to_string()));
        }
    }
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, text)| text).collect();
    let merged = plain_lines(&watch.model);
    assert_eq!(merged, expected);
    let first_b = merged.iter().position(|l| l.starts_with('b')).unwrap();
    let last_a = merged.iter().rposition(|l| l.starts_with('a')).unwrap();
    assert!(first_b < last_a, "the two containers interleave: {merged:?}");
    let times: Vec<_> =
        watch.model.logs.merged(None).map(|l| l.timestamp.expect("engine timestamp")).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    watch.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn following_survives_restart_and_recreation() {
    let fx = Fixture::new("logrestart");
    let name = fx.name("svc");
    let script = "echo started-$(cat /proc/sys/kernel/random/uuid | cut -c1-8); sleep 600";
    fx.run("svc", &[], &["sh", "-c", script]);
    let mut watch = Watch::start().await;
    follow(&watch, LogTarget::Names(BTreeSet::from([name.clone()])));
    watch.wait("the first run's line", Duration::from_secs(10), |m| m.logs.len() == 1).await;
    docker_ok(&["restart", "-t", "0", &name]);
    watch.wait("the second run's line", Duration::from_secs(15), |m| m.logs.len() >= 2).await;
    // Re-created under the same name: a new id joins the same view.
    docker_ok(&["rm", "-f", &name]);
    fx.run("svc", &[], &["sh", "-c", script]);
    watch
        .wait("the re-created container's line", Duration::from_secs(15), |m| m.logs.len() >= 3)
        .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    while let Ok(update) = watch.handle.updates.try_recv() {
        watch.model.apply(update);
    }
    let lines = plain_lines(&watch.model);
    assert_eq!(lines.len(), 3, "one line per run, none twice: {lines:?}");
    assert!(lines.iter().all(|l| l.starts_with("started-")));
    let distinct: BTreeSet<&String> = lines.iter().collect();
    assert_eq!(distinct.len(), 3);
    watch.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn search_and_filters_apply_to_history_and_hostile_bytes_are_defused() {
    let fx = Fixture::new("logsafe");
    let name = fx.name("evil");
    let script = r#"
echo 'level=info msg="all good"'
echo '{"level":"error","msg":"db down"}'
echo 'ERROR something failed'
printf 'clear\033[2J home\033[10;10H title\033]0;PWNED\007 clip\033]52;c;cHduZWQ=\007 paste\033[?2004h end\n'
printf 'bad \377\376 bytes\n'
head -c 1000000 /dev/zero | tr '\0' x; echo NEEDLE-AT-END
sleep 600
"#;
    fx.run("evil", &[], &["sh", "-c", script]);
    let mut watch = Watch::start().await;
    follow(&watch, LogTarget::Names(BTreeSet::from([name.clone()])));
    watch.wait("six lines", Duration::from_secs(15), |m| m.logs.len() >= 6).await;
    let lines = plain_lines(&watch.model);
    for line in &lines {
        assert!(
            !line.contains('\u{1b}') && !line.contains('\u{7}'),
            "control bytes survived: {line:?}"
        );
    }
    assert!(lines.iter().any(|l| l == "clear home title clip paste end"), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains('\u{fffd}')), "invalid UTF-8 shown lossily");
    let big = watch
        .model
        .logs
        .merged(None)
        .find(|l| l.plain().starts_with("xxxx"))
        .expect("the 1 MB line");
    assert!(big.text.display_marker().is_some(), "a 1 MB line is cut for display with a marker");
    assert!(big.plain().ends_with("NEEDLE-AT-END"), "and kept whole for search");
    let body = big.plain().trim_end_matches("NEEDLE-AT-END").to_string();
    assert_eq!(body.len(), 1_000_000, "the engine's 16 KiB pieces joined, their timestamps gone");
    assert!(body.bytes().all(|b| b == b'x'));
    // Search and filter over what is already buffered.
    let store = &watch.model.logs;
    let mut view = FilteredView::new(Filter::default());
    view.refresh(store);
    let hit = view
        .find_next(store, None, &pattern("needle-at").unwrap(), Direction::Forward)
        .expect("found");
    assert!(view.line(store, hit.index).unwrap().plain().ends_with("NEEDLE-AT-END"));
    let errors = Filter {
        include: vec![pattern("error|fail").unwrap()],
        exclude: vec![pattern("db down").unwrap()],
        ..Filter::default()
    };
    view.set_filter(errors);
    view.refresh(store);
    let shown: Vec<&str> = view.lines(store, 0..view.len()).map(|l| l.plain()).collect();
    assert_eq!(shown, vec!["ERROR something failed"]);
    let levels: Vec<_> = store.merged(None).take(3).map(|l| l.level).collect();
    assert_eq!(
        levels.iter().filter(|l| l.is_some()).count(),
        3,
        "logfmt, JSON and word levels: {levels:?}"
    );
    watch.stop().await;
}

/// Runs `command` alone in a new 120x30 tmux server on `socket`, session `main`.
fn start_tmux(socket: &str, command: &str) {
    // A record of its own, so that UIs side by side do not share one.
    let state = std::env::temp_dir().join(format!("{socket}.state"));
    let state = format!("XDG_STATE_HOME={}", state.display());
    let started = Command::new("tmux")
        .args(["-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "main"])
        .args(["-x", "120", "-y", "30"])
        .args(["env", "-u", "NO_COLOR", "TERM=xterm-256color", &state, "sh", "-c", command])
        .status()
        .expect("tmux runs (scripts/setup installs it)");
    assert!(started.success(), "tmux could not start a session");
}

fn tmux(socket: &str, args: &[&str]) -> String {
    let out = Command::new("tmux").args(["-L", socket]).args(args).output().expect("tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn escape_sequences_never_reach_the_terminal() {
    let fx = Fixture::new("logpty");
    let name = fx.name("evil");
    let script = r"while true; do printf 'x\033[2J\033[10;10H\033]0;PWNED-TITLE\007\033]52;c;cHduZWQ=\007\033[?2004h\033[?1049h\033P+q\033\\ y\n'; sleep 0.2; done";
    fx.run("evil", &[], &["sh", "-c", script]);
    let socket = format!("portolan-logpty-{}", std::process::id());
    let raw = std::env::temp_dir().join(format!("{socket}.raw"));
    let bin = env!("CARGO_BIN_EXE_portolan");
    let command = format!("{bin} --pane logs --container {name}");
    start_tmux(&socket, &command);
    // Everything portolan writes to its terminal, byte for byte.
    tmux(&socket, &["pipe-pane", "-o", "-t", "main", &format!("cat >> {}", raw.display())]);
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut screen = String::new();
    while Instant::now() < deadline {
        screen = tmux(&socket, &["capture-pane", "-p", "-t", "main"]);
        if screen.matches(" y").count() >= 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(1));
    let title = tmux(&socket, &["display-message", "-p", "-t", "main", "#{pane_title}"]);
    let buffers = tmux(&socket, &["list-buffers"]);
    tmux(&socket, &["send-keys", "-t", "main", "q"]);
    std::thread::sleep(Duration::from_millis(500));
    let _ = Command::new("tmux").args(["-L", &socket, "kill-server"]).output();
    let bytes = std::fs::read(&raw).unwrap_or_default();
    let _ = std::fs::remove_file(&raw);
    assert!(screen.matches(" y").count() >= 3, "the lines were shown:\n{screen}");
    assert!(!title.contains("PWNED"), "window title changed: {title}");
    assert!(buffers.trim().is_empty(), "clipboard written: {buffers}");
    let raw = String::from_utf8_lossy(&bytes);
    for forbidden in
        ["PWNED-TITLE", "\u{1b}]0;", "\u{1b}]52;", "cHduZWQ=", "\u{1b}[?2004h", "\u{1b}P+q"]
    {
        assert!(!raw.contains(forbidden), "{forbidden:?} reached the terminal");
    }
    // portolan's own alternate screen is entered once, at start.
    assert!(raw.matches("\u{1b}[?1049h").count() <= 1);
}

fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_flood_over_budget_shows_drops_and_memory_stays_bounded() {
    let fx = Fixture::new("logflood");
    let name = fx.name("flood");
    fx.run(
        "flood",
        &[],
        &["sh", "-c", "yes 'flood line with some padding to make it longer than usual 0123456789'"],
    );
    let socket = format!("portolan-logflood-{}", std::process::id());
    let bin = env!("CARGO_BIN_EXE_portolan");
    let command = format!("exec {bin} --pane logs --container {name} --log-budget 2");
    start_tmux(&socket, &command);
    // Sample memory under the flood for at least ten seconds, and until drops show.
    let started = Instant::now();
    let mut screen = String::new();
    let mut peak = 0;
    let pid =
        tmux(&socket, &["display-message", "-p", "-t", "main", "#{pane_pid}"]).trim().to_string();
    while started.elapsed() < Duration::from_secs(30) {
        screen = tmux(&socket, &["capture-pane", "-p", "-t", "main"]);
        peak = peak.max(rss_kib(&pid).unwrap_or(0));
        if screen.contains("DROPPED") && started.elapsed() > Duration::from_secs(10) {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    // Still answering keys under the flood.
    tmux(&socket, &["send-keys", "-t", "main", "?"]);
    std::thread::sleep(Duration::from_millis(700));
    let help = tmux(&socket, &["capture-pane", "-p", "-t", "main"]);
    tmux(&socket, &["send-keys", "-t", "main", "q"]);
    let _ = Command::new("tmux").args(["-L", &socket, "kill-server"]).output();
    assert!(screen.contains("DROPPED"), "the drop counter is visible:\n{screen}");
    assert!(help.contains("show or hide this help"), "keys answered during the flood:\n{help}");
    // A 2 MiB budget: the process stays far below what an unbounded buffer would take.
    assert!(peak > 0 && peak < 48 * 1024, "peak RSS {peak} KiB");
    eprintln!("flood: peak RSS {} KiB with a 2 MiB log budget", peak);
}

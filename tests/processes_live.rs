//! The processes pane against a real engine: `snapshot --pane processes` lists what
//! runs inside a container, and a signal sent through the library's command path
//! ends the process it names.

mod support;

use std::process::Command;
use std::time::Duration;

use portolan::engine::EngineCommand;
use portolan::engine::processes::ProcessRequest;
use portolan::model::processes::{KillAsk, Signal};
use support::{Fixture, Watch};

const SLEEPS: &[&str] = &["sh", "-c", "sleep 1000 & sleep 2000"];

/// The host pids of the container's processes whose command line is `command`.
fn pids_of(name: &str, command: &str) -> Vec<u32> {
    let out = support::docker_ok(&["top", name, "-eo", "pid,args"]);
    out.lines()
        .skip(1)
        .filter_map(|line| {
            let (pid, args) = line.trim().split_once(char::is_whitespace)?;
            (args.trim() == command).then(|| pid.parse().ok()).flatten()
        })
        .collect()
}

#[test]
fn snapshot_lists_the_processes_with_their_pids() {
    let fixture = Fixture::new("procs-snap");
    fixture.run("sleeps", &[], SLEEPS);
    let name = fixture.name("sleeps");
    let (short, long) = (pids_of(&name, "sleep 1000"), pids_of(&name, "sleep 2000"));
    assert_eq!((short.len(), long.len()), (1, 1), "both sleeps run");
    let out = Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(["snapshot", "--format", "text", "--pane", "processes", "--container", &name])
        .args(["--width", "120", "--height", "30"])
        .output()
        .expect("run portolan");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for (pid, command) in [(short[0], "sleep 1000"), (long[0], "sleep 2000")] {
        assert!(
            text.lines().any(|l| l.contains(&pid.to_string()) && l.contains(command)),
            "{command} with pid {pid} in:\n{text}"
        );
    }
    assert!(text.contains("2 processes"), "{text}");
}

#[tokio::test]
async fn a_signal_sent_through_the_engine_ends_the_process() {
    let fixture = Fixture::new("procs-kill");
    let id = fixture.run("sleeps", &[], SLEEPS);
    let name = fixture.name("sleeps");
    let mut watch = Watch::start().await;
    watch.wait_state(&id, portolan::model::ContainerState::Running, Duration::from_secs(10)).await;
    let request = ProcessRequest { host: 0, container: id.clone() };
    watch.handle.command(EngineCommand::Processes(Some(request)));
    let has = |command: &'static str| {
        move |m: &portolan::model::Model| {
            m.processes.as_ref().is_some_and(|t| t.rows.iter().any(|r| r.command == command))
        }
    };
    watch.wait("the processes", Duration::from_secs(10), has("sleep 1000")).await;
    let table = watch.model.processes.clone().expect("a table");
    assert!(table.host_proc, "a local engine's figures come from /proc");
    let row = table.rows.iter().find(|r| r.command == "sleep 1000").expect("sleep 1000");
    assert_eq!(vec![row.pid], pids_of(&name, "sleep 1000"), "host pids, as docker top says");
    assert!(row.rss_bytes.is_some_and(|b| b > 0), "{row:?}");

    watch.handle.command(EngineCommand::KillProcess(KillAsk {
        host: 0,
        id: id.clone(),
        container: name.clone(),
        pid: row.pid,
        command: row.command.clone(),
        signal: Signal::Term,
    }));
    let result = signalled(&mut watch).await;
    assert_eq!(result.error, None, "{result:?}");
    let pid = row.pid;
    watch
        .wait("the process to be gone", Duration::from_secs(10), move |m| {
            m.processes.as_ref().is_some_and(|t| {
                t.rows.iter().all(|r| r.pid != pid)
                    && t.rows.iter().any(|r| r.command == "sleep 2000")
            })
        })
        .await;

    // A pid that is not the container's is refused, not signalled.
    let outsider = std::process::id();
    watch.handle.command(EngineCommand::KillProcess(KillAsk {
        host: 0,
        id: id.clone(),
        container: name.clone(),
        pid: outsider,
        command: "the test itself".into(),
        signal: Signal::Kill,
    }));
    let result = signalled(&mut watch).await;
    assert!(
        result.error.as_deref().is_some_and(|e| e.contains("not the container's")),
        "{result:?}"
    );
    watch.handle.command(EngineCommand::Processes(None));
    watch.stop().await;
}

/// The outcome of the next signal, applying what comes before it.
async fn signalled(watch: &mut Watch) -> portolan::model::processes::KillResult {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, watch.handle.updates.recv()).await {
            Ok(Some(portolan::model::Update::ProcessSignalled(result))) => return *result,
            Ok(Some(update)) => {
                watch.model.apply(update);
            }
            Ok(None) => panic!("the supervisor stopped"),
            Err(_) => panic!("no answer to the signal"),
        }
    }
}

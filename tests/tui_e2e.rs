//! The real binary in a real terminal (tmux): it draws, answers keys, survives
//! resizing, and leaves the terminal as it found it after quitting and after a panic.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    fn start(test: &str, width: u16, height: u16, env: &[(&str, &str)], args: &str) -> Tmux {
        let socket = format!("portolan-e2e-{test}-{}", std::process::id());
        let session = "main".to_string();
        let bin = env!("CARGO_BIN_EXE_portolan");
        // Each session records into a state directory of its own: sessions side by side
        // would otherwise take turns holding one record's lock.
        let state = std::env::temp_dir().join(format!("{socket}.state"));
        let mut exports = format!("XDG_STATE_HOME={} ", state.display());
        exports.extend(env.iter().map(|(k, v)| format!("{k}={v} ")));
        let stty = stty_file(&socket);
        // After portolan exits, record the terminal modes, report its status, then idle.
        let script = format!(
            "{exports}{bin} {args}; status=$?; stty -a > {}; echo PORTOLAN-EXIT:$status; sleep 120",
            stty.display()
        );
        let status = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d", "-s", &session])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .args(["env", "-u", "NO_COLOR", "-u", "RUST_BACKTRACE", "TERM=xterm-256color"])
            .args(["sh", "-c", &script])
            .status()
            .expect("tmux runs (scripts/setup installs it)");
        assert!(status.success(), "tmux could not start a session");
        Tmux { socket, session }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let output =
            Command::new("tmux").args(["-L", &self.socket]).args(args).output().expect("tmux");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.session])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// `alternate_on cursor_flag mouse_any_flag`
    fn modes(&self) -> String {
        self.tmux(&[
            "display-message",
            "-p",
            "-t",
            &self.session,
            "#{alternate_on} #{cursor_flag} #{mouse_any_flag}",
        ])
        .trim()
        .to_string()
    }

    fn resize(&self, width: u16, height: u16) {
        self.tmux(&[
            "resize-window",
            "-t",
            &self.session,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
    }

    fn wait_for(&self, what: &str, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if started.elapsed() > timeout {
                panic!("timed out waiting for {what}; the screen was:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).output();
        let _ = std::fs::remove_file(stty_file(&self.socket));
    }
}

fn stty_file(socket: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{socket}.stty"))
}

fn assert_restored(tmux: &Tmux) {
    assert_eq!(tmux.modes(), "0 1 0", "alternate screen off, cursor visible, no mouse reporting");
    let modes = std::fs::read_to_string(stty_file(&tmux.socket)).expect("stty output");
    let words: Vec<&str> = modes.split_whitespace().collect();
    for mode in ["icanon", "echo", "isig", "icrnl", "opost"] {
        assert!(words.contains(&mode), "{mode} restored: {modes}");
    }
}

/// Whether any SGR sequence in `styled` sets a colour (as opposed to the defaults).
fn sets_a_colour(styled: &str) -> Option<String> {
    let mut rest = styled;
    while let Some(start) = rest.find("\u{1b}[") {
        let tail = &rest[start + 2..];
        let end = tail
            .find(|c: char| !(c.is_ascii_digit() || c == ';' || c == ':'))
            .unwrap_or(tail.len());
        if tail[end..].starts_with('m') {
            for param in tail[..end].split([';', ':']) {
                if let Ok(n) = param.parse::<u16>()
                    && matches!(n, 30..=38 | 40..=48 | 90..=97 | 100..=107)
                {
                    return Some(tail[..end].to_string());
                }
            }
        }
        rest = &tail[end..];
    }
    None
}

#[test]
fn draws_answers_keys_resizes_and_quits_cleanly() {
    let fx = support::Fixture::new("e2e");
    // Its own project, shown alone: on a busy engine it would be below the fold.
    let project = fx.name("proj");
    fx.run(
        "web",
        &["--label", &format!("com.docker.compose.project={project}")],
        &["sleep", "600"],
    );
    let name = fx.name("web");
    let tmux = Tmux::start("quit", 120, 40, &[], &format!("--pane containers --project {project}"));
    let screen =
        tmux.wait_for("the first frame with our container", Duration::from_secs(10), |s| {
            s.contains("portolan") && s.contains(&name)
        });
    assert!(screen.contains("connected"), "{screen}");
    assert_eq!(tmux.modes(), "1 0 1", "full screen, cursor hidden, mouse reported");

    tmux.keys(&["?"]);
    tmux.wait_for("the help overlay", Duration::from_secs(5), |s| {
        s.contains("show or hide this help")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("help closed", Duration::from_secs(5), |s| !s.contains("show or hide this help"));

    tmux.resize(80, 24);
    let small = tmux.wait_for("an 80x24 frame", Duration::from_secs(5), |s| {
        s.lines().any(|l| l.starts_with('└') && l.chars().count() == 80)
    });
    assert!(small.lines().count() <= 24);
    tmux.resize(30, 10);
    tmux.wait_for("the too-small notice", Duration::from_secs(5), |s| {
        s.contains("Terminal too small")
    });
    tmux.resize(120, 40);
    tmux.wait_for("a full frame again", Duration::from_secs(5), |s| {
        s.contains(&name) && !s.contains("too small")
    });

    tmux.keys(&["q"]);
    let screen = tmux
        .wait_for("portolan to exit", Duration::from_secs(10), |s| s.contains("PORTOLAN-EXIT:"));
    assert!(screen.contains("PORTOLAN-EXIT:0"), "{screen}");
    assert_restored(&tmux);
}

#[test]
fn a_panic_restores_the_terminal_and_says_why() {
    let tmux = Tmux::start("panic", 100, 30, &[("PORTOLAN_DEBUG_PANIC", "1")], "");
    let screen = tmux
        .wait_for("portolan to exit", Duration::from_secs(10), |s| s.contains("PORTOLAN-EXIT:"));
    assert!(screen.contains("PORTOLAN-EXIT:101"), "a panic exits with 101: {screen}");
    assert!(screen.contains("PORTOLAN_DEBUG_PANIC"), "the panic message is readable: {screen}");
    assert_restored(&tmux);
}

#[test]
fn ctrl_c_quits_and_no_color_keeps_the_selection_visible() {
    let fx = support::Fixture::new("nocolor");
    // Its own project, shown alone, so this container is the one selected.
    let project = fx.name("proj");
    fx.run(
        "only",
        &["--label", &format!("com.docker.compose.project={project}")],
        &["sleep", "600"],
    );
    let name = fx.name("only");
    let args = format!("--pane containers --project {project}");
    let tmux = Tmux::start("ctrlc", 100, 30, &[("NO_COLOR", "1")], &args);
    tmux.wait_for("the first frame", Duration::from_secs(10), |s| s.contains("● pt-nocolor"));
    // No colour escape may reach the terminal, yet the selection is drawn reversed.
    let styled = tmux.tmux(&["capture-pane", "-p", "-e", "-t", "main"]);
    assert_eq!(sets_a_colour(&styled), None, "colours under NO_COLOR:\n{styled}");
    let selected = styled
        .lines()
        .find(|l| l.contains(&name[..10]) && l.contains("●"))
        .expect("the selected row");
    let before_name = &selected[..selected.find("●").unwrap()];
    assert!(
        before_name.contains(";7m") || before_name.contains("[7m"),
        "selection in reverse video: {selected:?}"
    );
    tmux.keys(&["C-c"]);
    let screen = tmux
        .wait_for("portolan to exit", Duration::from_secs(10), |s| s.contains("PORTOLAN-EXIT:"));
    assert!(screen.contains("PORTOLAN-EXIT:0"), "{screen}");
    assert_restored(&tmux);
}

#[test]
fn the_logs_key_opens_the_selected_containers_log() {
    let fx = support::Fixture::new("e2elogs");
    // Its own project, shown alone, so this container is the one selected.
    let project = fx.name("proj");
    fx.run(
        "talker",
        &["--label", &format!("com.docker.compose.project={project}")],
        &["sh", "-c", "echo hello-$((6*7))-from-the-log; sleep 600"],
    );
    let tmux = Tmux::start("logs", 120, 30, &[], &format!("--pane containers --project {project}"));
    tmux.wait_for("the container list", Duration::from_secs(10), |s| s.contains("● pt-e2elogs"));
    tmux.keys(&["8"]);
    let screen = tmux
        .wait_for("its log line", Duration::from_secs(10), |s| s.contains("hello-42-from-the-log"));
    assert!(screen.contains("following"), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for("portolan to exit", Duration::from_secs(10), |s| s.contains("PORTOLAN-EXIT:0"));
    assert_restored(&tmux);
}

fn state_of(name: &str) -> String {
    support::docker_ok(&["inspect", "-f", "{{.State.Status}}", name])
}

#[test]
fn an_action_asks_first_runs_with_progress_and_lands_in_the_timeline() {
    let fx = support::Fixture::new("e2eact");
    let project = fx.name("proj");
    let label = format!("com.docker.compose.project={project}");
    // A process that exits on SIGTERM, so the stop is quick.
    fx.run("victim", &["--label", &label, "--init"], &["sleep", "600"]);
    let name = fx.name("victim");
    let tmux = Tmux::start("act", 120, 40, &[], &format!("--pane containers --project {project}"));
    tmux.wait_for("the container list", Duration::from_secs(10), |s| s.contains("● pt-e2eact"));

    // Asking and saying no leaves it running.
    tmux.keys(&["a"]);
    tmux.wait_for("the actions menu", Duration::from_secs(5), |s| s.contains("t  stop"));
    tmux.keys(&["t"]);
    tmux.wait_for("the question", Duration::from_secs(5), |s| {
        s.contains(&format!("Stop container: {name}?"))
    });
    tmux.keys(&["n"]);
    tmux.wait_for("the popup closed", Duration::from_secs(5), |s| !s.contains("Stop container"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(state_of(&name), "running", "no means no");

    // Asking and saying yes stops it, and the footer and timeline say so.
    tmux.keys(&["a"]);
    tmux.wait_for("the actions menu", Duration::from_secs(5), |s| s.contains("t  stop"));
    tmux.keys(&["t"]);
    tmux.wait_for("the question", Duration::from_secs(5), |s| s.contains("Stop container"));
    tmux.keys(&["y"]);
    tmux.wait_for("the result", Duration::from_secs(20), |s| {
        s.contains(&format!("stop {name}: done"))
    });
    assert_eq!(state_of(&name), "exited");
    tmux.keys(&["7"]);
    tmux.wait_for("the operator's entry in the timeline", Duration::from_secs(5), |s| {
        s.contains("operator: stop")
    });

    // The palette finds an action by a few letters: `strt` → start (no question).
    tmux.keys(&["3"]);
    tmux.wait_for("the list again", Duration::from_secs(5), |s| s.contains("■ pt-e2eact"));
    tmux.keys(&["a", "s"]);
    tmux.wait_for("started again", Duration::from_secs(20), |s| {
        s.contains(&format!("start {name}: done"))
    });
    assert_eq!(state_of(&name), "running");

    // Removing a running container asks harder: a lone `y` is not enough.
    tmux.keys(&["a", "d"]);
    tmux.wait_for("the harder question", Duration::from_secs(5), |s| s.contains("Type yes"));
    tmux.keys(&["y", "Enter"]);
    tmux.wait_for("the popup closed", Duration::from_secs(5), |s| !s.contains("Type yes"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(state_of(&name), "running", "not removed on a lone y");

    tmux.keys(&["q"]);
    tmux.wait_for("portolan to exit", Duration::from_secs(10), |s| s.contains("PORTOLAN-EXIT:0"));
    assert_restored(&tmux);
}

#[test]
fn read_only_refuses_actions_and_exec_returns_the_terminal() {
    let fx = support::Fixture::new("e2eexec");
    let project = fx.name("proj");
    let label = format!("com.docker.compose.project={project}");
    fx.run("box", &["--label", &label], &["sleep", "600"]);
    let name = fx.name("box");

    let tmux = Tmux::start(
        "ro",
        100,
        30,
        &[],
        &format!("--pane containers --project {project} --read-only"),
    );
    tmux.wait_for("the container list", Duration::from_secs(10), |s| s.contains("● pt-e2eexec"));
    tmux.keys(&["a"]);
    tmux.wait_for("the refusal", Duration::from_secs(5), |s| {
        s.contains("READ-ONLY") && s.contains("actions are turned off")
    });
    tmux.keys(&["q"]);
    tmux.wait_for("portolan to exit", Duration::from_secs(10), |s| s.contains("PORTOLAN-EXIT:0"));
    assert_restored(&tmux);

    // A shell: the UI steps aside, the shell answers, and portolan comes back.
    let tmux = Tmux::start("exec", 100, 30, &[], &format!("--pane containers --project {project}"));
    tmux.wait_for("the container list", Duration::from_secs(10), |s| s.contains("● pt-e2eexec"));
    tmux.keys(&["!"]);
    tmux.wait_for("the shell", Duration::from_secs(15), |s| s.contains(&format!("sh in {name}")));
    // The shell reads what is typed as soon as it runs; its answer proves it does.
    let mut answered = false;
    for _ in 0..10 {
        tmux.keys(&["echo in-the-box-$((6*7))", "Enter"]);
        if tmux.screen().contains("in-the-box-42") {
            answered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
        if tmux.screen().contains("in-the-box-42") {
            answered = true;
            break;
        }
    }
    assert!(answered, "the shell answered: {}", tmux.screen());
    tmux.keys(&["exit", "Enter"]);
    tmux.wait_for("portolan again", Duration::from_secs(10), |s| {
        s.contains("● pt-e2eexec") && s.contains(&format!("sh in {name} exited"))
    });
    assert_eq!(tmux.modes(), "1 0 1", "full screen and mouse again after the shell");
    // Keys reach portolan again (the input reader resumed): `?` opens the help.
    tmux.keys(&["?"]);
    tmux.wait_for("the help", Duration::from_secs(5), |s| s.contains("show or hide this help"));
    tmux.keys(&["q", "q"]);
    tmux.wait_for("portolan to exit", Duration::from_secs(10), |s| s.contains("PORTOLAN-EXIT:0"));
    assert_restored(&tmux);
}

#[test]
fn the_palette_and_the_map_filter_take_typed_keys() {
    let fx = support::Fixture::new("e2epal");
    let project = fx.name("proj");
    let label = format!("com.docker.compose.project={project}");
    for service in ["alpha", "beta"] {
        let service_label = format!("com.docker.compose.service={service}");
        fx.run(service, &["--label", &label, "--label", &service_label], &["sleep", "600"]);
    }
    let tmux = Tmux::start("pal", 120, 40, &[], &format!("--pane map --project {project}"));
    tmux.wait_for("the map", Duration::from_secs(10), |s| {
        s.contains("alpha") && s.contains("beta")
    });
    // The map's filter: typed letters go to it, `q` included, until enter.
    tmux.keys(&["/", "b", "e", "t", "Enter"]);
    tmux.wait_for("only beta", Duration::from_secs(5), |s| {
        s.contains("beta") && !s.contains("alpha")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("both again", Duration::from_secs(5), |s| {
        s.contains("alpha") && s.contains("beta")
    });
    // The palette: `:` then a few letters of a pane's description.
    tmux.keys(&[":"]);
    tmux.wait_for("the palette", Duration::from_secs(5), |s| s.contains("Command palette"));
    tmux.keys(&["h", "e", "a", "l", "t", "h", " ", "c", "h", "e", "c", "k", "s", "Enter"]);
    tmux.wait_for("the health pane", Duration::from_secs(5), |s| s.contains("Health"));
    tmux.keys(&["q"]);
    tmux.wait_for("portolan to exit", Duration::from_secs(10), |s| s.contains("PORTOLAN-EXIT:0"));
    assert_restored(&tmux);
}

#[test]
fn two_engines_in_one_screen_and_one_of_them_lost_and_back() {
    let Some(mut second) = support::second_engine::SecondEngine::start("e2e_hosts") else {
        return;
    };
    let fx = support::Fixture::new("e2e-hosts");
    fx.run("near", &[], &["sleep", "600"]);
    let far = fx.name("far");
    second.docker_ok(&[
        "run",
        "-d",
        "--name",
        &far,
        "--network",
        "none",
        "--restart",
        "always",
        "--label",
        &fx.label(),
        &support::test_image(),
        "sleep",
        "600",
    ]);
    let dir = std::env::temp_dir().join(format!("portolan-e2e-hosts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[hosts]]\nname = \"main\"\nhost = \"{}\"\n[[hosts]]\nname = \"second\"\nhost = \"{}\"\n",
            support::endpoint(),
            second.host()
        ),
    )
    .unwrap();
    let args = format!("--config {} --pane containers", config.display());
    let tmux = Tmux::start("hosts", 120, 40, &[], &args);
    // Names are long and cut in the list: the header counts each engine's own (the
    // shared engine may hold other tests' containers; the private one holds one).
    tmux.wait_for("both engines, each with its container", Duration::from_secs(20), |s| {
        s.contains("● main ") && s.contains("● second 1/1") && s.contains("2/2 hosts")
    });

    second.stop_daemon();
    let screen = tmux.wait_for("the second engine shown as lost", Duration::from_secs(30), |s| {
        s.contains("second DOWN")
    });
    assert!(screen.contains("Lost second"), "{screen}");
    assert!(screen.contains("● main"), "the first engine stays connected: {screen}");
    // Keys are still answered while an engine is away.
    tmux.keys(&["?"]);
    tmux.wait_for("the help overlay", Duration::from_secs(5), |s| {
        s.contains("show or hide this help")
    });
    tmux.keys(&["Escape"]);

    second.restart_daemon();
    tmux.wait_for("the second engine back by itself", Duration::from_secs(40), |s| {
        s.contains("● second 1/1") && !s.contains("DOWN") && s.contains("2/2 hosts")
    });
    tmux.keys(&["q"]);
    let screen = tmux
        .wait_for("portolan to exit", Duration::from_secs(10), |s| s.contains("PORTOLAN-EXIT:"));
    assert!(screen.contains("PORTOLAN-EXIT:0"), "{screen}");
    assert_restored(&tmux);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A unix socket in front of the engine's that forwards everything except the inspect
/// of one container and the network list: a connection that asks for either is held
/// open and never answered, as an engine busy removing containers does.
struct StallingProxy {
    path: std::path::PathBuf,
}

impl StallingProxy {
    fn start(path: &std::path::Path, stalled_id: &str) -> StallingProxy {
        use std::io::{Read, Write};
        use std::os::unix::net::{UnixListener, UnixStream};
        let upstream = match support::endpoint() {
            portolan::engine::Endpoint::Unix(path) => path,
            other => panic!("the stall test proxies a unix socket; DOCKER_HOST is {other}"),
        };
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).expect("bind the proxy socket");
        let stalled = [format!("/containers/{stalled_id}/json"), "/networks HTTP".to_string()];
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let Ok(mut server) = UnixStream::connect(&upstream) else { continue };
                let (Ok(mut client_out), Ok(mut server_in)) =
                    (client.try_clone(), server.try_clone())
                else {
                    continue;
                };
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server_in, &mut client_out);
                });
                let stalled = stalled.clone();
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 16 * 1024];
                    let mut held = false;
                    while let Ok(n) = client.read(&mut buffer) {
                        if n == 0 {
                            break;
                        }
                        let chunk = String::from_utf8_lossy(&buffer[..n]);
                        held |= stalled.iter().any(|s| chunk.contains(s.as_str()));
                        if !held && server.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        StallingProxy { path: path.to_path_buf() }
    }
}

impl Drop for StallingProxy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[test]
fn one_stuck_inspect_holds_up_nothing_else() {
    let fx = support::Fixture::new("stall");
    let project = fx.name("proj");
    let label = format!("com.docker.compose.project={project}");
    let service = |s: &str| format!("com.docker.compose.service={s}");
    fx.run("web", &["--label", &label, "--label", &service("web")], &["sleep", "600"]);
    fx.run("cache", &["--label", &label, "--label", &service("cache")], &["sleep", "600"]);
    let stuck =
        fx.run("stuck", &["--label", &label, "--label", &service("stuck")], &["sleep", "600"]);
    let socket = std::env::temp_dir().join(format!("{}.sock", fx.name("stall")));
    let _proxy = StallingProxy::start(&socket, &stuck);
    let host = format!("unix://{}", socket.display());

    // The snapshot answers with every other container, the stuck one as pending.
    let began = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(["-H", &host, "snapshot", "--format", "json", "--project", &project])
        .args(["--wait", "0"])
        .output()
        .expect("the binary runs");
    let took = began.elapsed();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    eprintln!("snapshot with one stuck inspect: {:.2} s", took.as_secs_f64());
    assert!(took < Duration::from_secs(20), "a stuck inspect held the snapshot {took:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let containers = json["containers"].as_array().unwrap();
    let row = |what: &str| {
        let name = fx.name(what);
        containers
            .iter()
            .find(|c| c["name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} missing: {containers:#?}"))
            .clone()
    };
    for fine in ["web", "cache"] {
        let c = row(fine);
        assert!(c["inspect_pending_since"].is_null(), "{c:#}");
        assert!(c["started_at"].is_string(), "inspected: {c:#}");
    }
    let pending = row("stuck");
    assert!(pending["inspect_pending_since"].is_string(), "{pending:#}");
    assert_eq!(pending["state"], "running", "the list's state: {pending:#}");
    assert!(pending["status"].as_str().unwrap().contains("inspect pending"), "{pending:#}");
    // The network list never answered either: the containers came without it.
    assert!(json["networks"].as_array().unwrap().is_empty(), "{:#}", json["networks"]);

    // The TUI: both others on the first screen, the stuck one pending, the header
    // saying the sync is not done.
    let args = format!("-H {host} --pane containers --project {project}");
    let tmux = Tmux::start("stall", 140, 30, &[], &args);
    // Rows of a project are named by service.
    let row = |screen: &str, service: &str| -> Option<String> {
        screen.lines().find(|l| l.contains(&format!("● {service} "))).map(String::from)
    };
    let screen = tmux.wait_for("the others and the pending one", Duration::from_secs(20), |s| {
        row(s, "web").is_some_and(|l| l.contains("0.0%") || l.contains('%'))
            && row(s, "cache").is_some()
            && row(s, "stuck").is_some_and(|l| l.contains("inspect "))
    });
    // The sync is the engine's: other tests' containers count in it too.
    assert!(screen.contains("◌ syncing "), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for("portolan to exit", Duration::from_secs(10), |s| s.contains("PORTOLAN-EXIT:0"));
}

#[test]
fn the_processes_pane_signals_a_process_after_asking() {
    let fx = support::Fixture::new("e2e-procs");
    fx.run("sleeps", &[], &["sh", "-c", "sleep 1000 & sleep 2000"]);
    let name = fx.name("sleeps");
    let tmux = Tmux::start("procs", 120, 40, &[], &format!("--pane processes --container {name}"));
    tmux.wait_for("both sleeps", Duration::from_secs(10), |s| {
        s.contains("sleep 1000") && s.contains("sleep 2000")
    });
    // Select the shorter sleep (the list is in pid order: it comes second).
    let screen = tmux.screen();
    let rows: Vec<&str> = screen.lines().filter(|l| l.contains("sleep ")).collect();
    let down = rows.iter().position(|l| l.contains("sleep 1000")).expect("row");
    for _ in 0..down {
        tmux.keys(&["j"]);
    }
    tmux.keys(&["X"]);
    tmux.wait_for("the question", Duration::from_secs(5), |s| {
        s.contains("Send TERM to process") && s.contains("(sleep 1000)")
    });
    tmux.keys(&["k"]);
    tmux.wait_for("KILL picked", Duration::from_secs(5), |s| s.contains("Send KILL to process"));
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("the process gone", Duration::from_secs(10), |s| {
        !s.contains("sleep 1000") && s.contains("sleep 2000")
    });
    assert!(screen.contains("sent KILL to process"), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for("portolan to exit", Duration::from_secs(5), |s| s.contains("PORTOLAN-EXIT:0"));
}

#[test]
fn the_files_pane_enters_a_directory_and_copies_a_file_out() {
    let fx = support::Fixture::new("e2e-files");
    let script =
        "mkdir -p /srv/site/assets && printf 'body{}' > /srv/site/assets/style.css; sleep 600";
    fx.run("site", &[], &["sh", "-c", script]);
    let name = fx.name("site");
    let out_dir = std::env::temp_dir().join(format!("portolan-e2e-files-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).unwrap();
    /// Removes the copies' directory even when the test fails.
    struct Cleanup(std::path::PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(out_dir.clone());
    let tmux = Tmux::start("files", 80, 24, &[], &format!("--pane files --container {name}"));
    tmux.wait_for("the root listed", Duration::from_secs(10), |s| {
        s.contains(&format!("Files · {name} · / ·")) && s.contains(" srv/")
    });
    // Down to srv/ (directories come first, in natural order) and into it, then site/
    // and assets/.
    let screen = tmux.screen();
    let rows: Vec<&str> = screen.lines().filter(|l| l.starts_with('│')).collect();
    let down = rows.iter().position(|l| l.contains(" srv/")).expect("srv row");
    for _ in 0..down {
        tmux.keys(&["j"]);
    }
    tmux.keys(&["Enter"]);
    tmux.wait_for("/srv", Duration::from_secs(10), |s| {
        s.contains("· /srv ·") && s.contains(" site/")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for("/srv/site", Duration::from_secs(10), |s| s.contains(" assets/"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the file's name", Duration::from_secs(10), |s| {
        s.contains("· /srv/site/assets ·") && s.contains("6B") && s.contains(" style.css")
    });
    // Its text, then a copy out to a directory of this machine.
    tmux.keys(&["Enter"]);
    tmux.wait_for("the text", Duration::from_secs(10), |s| s.contains("│body{}"));
    tmux.keys(&["Escape"]);
    tmux.wait_for("the listing again", Duration::from_secs(5), |s| s.contains(" style.css"));
    tmux.keys(&["d"]);
    tmux.wait_for("the prompt", Duration::from_secs(5), |s| {
        s.contains("copy out to (local path): style.css")
    });
    tmux.keys(&["C-u"]);
    tmux.keys(&["-l", &out_dir.display().to_string()]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the copy done", Duration::from_secs(10), |s| {
        s.contains("done, 6B of 6B (100%)")
    });
    assert_eq!(std::fs::read(out_dir.join("style.css")).unwrap(), b"body{}");
    // Back up with h, and out.
    tmux.keys(&["h"]);
    tmux.wait_for("/srv/site", Duration::from_secs(5), |s| s.contains("· /srv/site ·"));
    tmux.keys(&["q"]);
    tmux.wait_for("portolan to exit", Duration::from_secs(5), |s| s.contains("PORTOLAN-EXIT:0"));
}

#[test]
fn the_ports_key_says_which_published_port_listens() {
    let fx = support::Fixture::new("e2e-ports");
    let project = fx.name("proj");
    let label = format!("com.docker.compose.project={project}");
    let server = "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www";
    fx.run(
        "web",
        &["--label", &label, "-p", "127.0.0.1::8080", "-p", "127.0.0.1::8081"],
        &["sh", "-c", server],
    );
    let name = fx.name("web");
    // The server is up before the key is pressed: the check is of ports, not of timing.
    let started = Instant::now();
    while !support::docker(&["exec", &name, "wget", "-q", "-O-", "http://127.0.0.1:8080/"])
        .status
        .success()
    {
        assert!(started.elapsed() < Duration::from_secs(10), "httpd never answered");
        std::thread::sleep(Duration::from_millis(100));
    }
    // 80x24: no room for the detail beside the list, so the key opens it.
    let tmux = Tmux::start("ports", 80, 24, &[], &format!("--pane containers --project {project}"));
    tmux.wait_for("the container", Duration::from_secs(10), |s| s.contains("web"));
    tmux.keys(&["o"]);
    let screen = tmux.wait_for("the answers", Duration::from_secs(10), |s| {
        s.contains("listening") && s.contains("refused")
    });
    assert!(screen.contains("Ports  checked"), "{screen}");
    assert!(screen.contains("HTTP 200"), "{screen}");
    assert!(screen.contains("→8080 listening"), "{screen}");
    assert!(screen.contains("→8081 refused"), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for("portolan to exit", Duration::from_secs(5), |s| s.contains("PORTOLAN-EXIT:0"));
    assert_restored(&tmux);
}

#[test]
fn a_shell_in_a_pane_types_switches_tabs_and_keeps_hostile_bytes_in_the_pane() {
    let fx = support::Fixture::new("e2eshell");
    let id = fx.run("box", &[], &["sleep", "600"]);
    let name = fx.name("box");
    // A script that prints what a Logs pane is fed to test it (see tests/shell_live.rs).
    let script = std::env::temp_dir().join(format!("{}-evil.sh", fx.run));
    std::fs::write(
        &script,
        "printf 'x\\033[2J\\033[10;10H\\033]0;PWNED-TITLE\\007\\033]52;c;cHduZWQ=\\007\\033[?2004h\\033[?1049h\\033P+q\\033\\\\ \\033c y\\377\\376\\n'\nprintf 'hostile-%s\\n' done\n",
    )
    .unwrap();
    support::docker_ok(&["cp", &script.to_string_lossy(), &format!("{id}:/evil.sh")]);
    let _ = std::fs::remove_file(&script);

    let tmux = Tmux::start("shell", 120, 40, &[], &format!("--pane shell --container {name}"));
    let raw = std::env::temp_dir().join(format!("{}.raw", tmux.socket));
    tmux.tmux(&["pipe-pane", "-o", "-t", &tmux.session, &format!("cat >> {}", raw.display())]);
    tmux.wait_for("the shell", Duration::from_secs(15), |s| {
        s.contains("keys go to the shell") && s.contains(" # ")
    });
    tmux.keys(&["echo hi-$((6*7))", "Enter"]);
    tmux.wait_for("its answer", Duration::from_secs(10), |s| s.contains("hi-42"));

    // ctrl-] gives the keys back: `$` then opens a second shell in a tab of its own.
    tmux.keys(&["C-]"]);
    tmux.wait_for("portolan's keys", Duration::from_secs(5), |s| {
        !s.contains("keys go to the shell") && s.contains("type in the shell")
    });
    tmux.keys(&["$"]);
    tmux.wait_for("a second shell", Duration::from_secs(15), |s| {
        s.contains(" 2 pt-e2eshell") && s.contains("keys go to the shell") && !s.contains("hi-42")
    });
    // Back to portolan, to another pane and back, and to the first tab.
    tmux.keys(&["C-]"]);
    tmux.keys(&["4"]);
    tmux.wait_for("the stats pane", Duration::from_secs(5), |s| s.contains("sorted by CPU"));
    tmux.keys(&["T"]);
    tmux.keys(&["Left"]);
    tmux.wait_for("the first tab", Duration::from_secs(5), |s| s.contains("hi-42"));
    tmux.keys(&["C-]"]);
    tmux.wait_for("the first shell's keys", Duration::from_secs(5), |s| {
        s.contains("keys go to the shell") && s.contains("hi-42")
    });

    tmux.keys(&["sh /evil.sh", "Enter"]);
    tmux.wait_for("the hostile script", Duration::from_secs(10), |s| s.contains("hostile-done"));
    std::thread::sleep(Duration::from_millis(500));
    let screen = tmux.screen();
    let title = tmux.tmux(&["display-message", "-p", "-t", &tmux.session, "#{pane_title}"]);
    let buffers = tmux.tmux(&["list-buffers"]);
    let modes = tmux.modes();
    tmux.keys(&["exit 3", "Enter"]);
    tmux.wait_for("the exit code", Duration::from_secs(10), |s| s.contains("exited with code 3"));
    tmux.keys(&["q"]);
    tmux.wait_for("portolan to exit", Duration::from_secs(10), |s| s.contains("PORTOLAN-EXIT:0"));
    let bytes = std::fs::read(&raw).unwrap_or_default();
    let _ = std::fs::remove_file(&raw);
    assert!(screen.contains("Shell"), "still portolan's screen:\n{screen}");
    assert!(!title.contains("PWNED"), "window title changed: {title}");
    assert!(buffers.trim().is_empty(), "clipboard written: {buffers}");
    assert_eq!(modes, "1 0 1", "portolan's own modes: alternate screen, no cursor, mouse");
    let raw = String::from_utf8_lossy(&bytes);
    for forbidden in [
        "PWNED-TITLE",
        "\u{1b}]0;",
        "\u{1b}]52;",
        "cHduZWQ=",
        "\u{1b}[?2004h",
        "\u{1b}P+q",
        "\u{1b}c",
        "\u{1b}[10;10H",
    ] {
        assert!(!raw.contains(forbidden), "{forbidden:?} reached the terminal");
    }
    assert!(raw.matches("\u{1b}[?1049h").count() <= 1, "one alternate screen, portolan's");
    assert_restored(&tmux);
}

/// A compose v1 project of the test's own, down with its volumes on drop.
struct ComposeProject {
    name: String,
    dir: std::path::PathBuf,
}

impl ComposeProject {
    fn compose(&self, args: &[&str]) -> std::process::Output {
        Command::new("docker-compose")
            .args(["-p", &self.name, "-f"])
            .arg(self.dir.join("docker-compose.yml"))
            .args(args)
            .output()
            .expect("docker-compose runs (scripts/setup installs it)")
    }
}

impl Drop for ComposeProject {
    fn drop(&mut self) {
        let _ = self.compose(&["down", "-v", "-t", "1"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_compose_service_is_re_created_from_the_menu_and_its_output_shows() {
    let fx = support::Fixture::new("e2ecompose");
    let name: String =
        fx.name("p").to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
    let project = ComposeProject { dir: std::env::temp_dir().join(&name), name: name.clone() };
    std::fs::create_dir_all(&project.dir).unwrap();
    let text = format!(
        "version: \"2.4\"\nservices:\n  web:\n    image: {image}\n    command: [\"sleep\", \"3600\"]\n    \
         stop_signal: SIGKILL\n    labels:\n      {label}: \"{run}\"\nnetworks:\n  default:\n    \
         labels:\n      {label}: \"{run}\"\n",
        image = fx.image,
        label = support::LABEL,
        run = fx.run
    );
    std::fs::write(project.dir.join("docker-compose.yml"), text).unwrap();
    let up = project.compose(&["up", "-d"]);
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));

    let tmux = Tmux::start("compose", 120, 40, &[], &format!("--pane containers --project {name}"));
    tmux.wait_for("the service", Duration::from_secs(10), |s| s.contains("● web"));
    tmux.keys(&["a"]);
    tmux.wait_for("the compose verbs", Duration::from_secs(5), |s| s.contains("C re-create"));
    tmux.keys(&["C"]);
    tmux.wait_for("the question", Duration::from_secs(5), |s| {
        s.contains(&format!("Re-create service web of project {name}?"))
    });
    tmux.keys(&["y"]);
    let screen = tmux
        .wait_for("the run's end", Duration::from_secs(60), |s| s.contains("exit status 0 · took"));
    assert!(screen.contains("Compose · 1 run") && screen.contains("$ DOCKER_HOST="), "{screen}");
    assert!(screen.contains(&format!("Recreating {name}_web_1")), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for("portolan to exit", Duration::from_secs(10), |s| s.contains("PORTOLAN-EXIT:0"));
    assert_restored(&tmux);
}

#[test]
fn a_custom_command_runs_with_the_selections_placeholders_and_returns() {
    let fx = support::Fixture::new("e2ecmd");
    let project = fx.name("proj");
    let label = format!("com.docker.compose.project={project}");
    fx.run("box", &["--label", &label], &["sleep", "600"]);
    let name = fx.name("box");
    let dir = std::env::temp_dir().join(fx.name("config"));
    std::fs::create_dir_all(dir.join("portolan")).unwrap();
    let out = dir.join("written");
    let config = format!(
        "read_only = true\n\n[[commands]]\nname = \"write who\"\nkey = \"ctrl-e\"\n\
         command = \"echo {{container}} {{project}} > {}\"\n",
        out.display()
    );
    std::fs::write(dir.join("portolan/config.toml"), config).unwrap();
    let home = dir.display().to_string();
    let tmux = Tmux::start(
        "cmd",
        100,
        30,
        &[("XDG_CONFIG_HOME", &home)],
        &format!("--pane containers --project {project}"),
    );
    tmux.wait_for("the container list", Duration::from_secs(10), |s| s.contains("● pt-e2ecmd"));
    // Read-only does not refuse the operator's own commands.
    tmux.keys(&["C-e"]);
    tmux.wait_for("the command's end", Duration::from_secs(10), |s| {
        s.contains("write who finished. Press Enter to return")
    });
    let written = std::fs::read_to_string(&out).expect("the command wrote its file");
    assert_eq!(written.trim(), format!("{name} {project}"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("portolan again", Duration::from_secs(10), |s| {
        s.contains("● pt-e2ecmd") && s.contains("write who finished")
    });
    assert_eq!(tmux.modes(), "1 0 1", "full screen and mouse again after the command");
    // Listed in the palette, with its key.
    tmux.keys(&[":"]);
    tmux.keys(&["write"]);
    tmux.wait_for("the palette", Duration::from_secs(5), |s| s.contains("write who (ctrl-e)"));
    tmux.keys(&["Escape"]);
    tmux.keys(&["q", "q"]);
    tmux.wait_for("portolan to exit", Duration::from_secs(10), |s| s.contains("PORTOLAN-EXIT:0"));
    assert_restored(&tmux);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Removes a tag the test made, when dropped.
struct Tag(String);

impl Drop for Tag {
    fn drop(&mut self) {
        let _ = support::docker(&["rmi", &self.0]);
    }
}

#[test]
fn the_images_pane_shows_a_new_image_and_asks_before_removing_it() {
    let fx = support::Fixture::new("e2e-images");
    let repository = fx.name("img");
    let tag = Tag(format!("{repository}:e2e"));
    // An image of its own (the test image with this run's label), used by nobody: the
    // shared test image has other tests' containers on it.
    let dir = std::env::temp_dir().join(fx.name("build"));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let dockerfile = format!("FROM {}\nLABEL {}\n", fx.image, fx.label());
    std::fs::write(dir.join("Dockerfile"), dockerfile).expect("write the Dockerfile");
    support::docker_ok(&["build", "-q", "-t", &tag.0, &dir.to_string_lossy()]);
    let _ = std::fs::remove_dir_all(&dir);
    let tmux = Tmux::start("images", 120, 40, &[], "--pane containers");
    tmux.wait_for("the first frame", Duration::from_secs(10), |s| s.contains("Containers"));
    tmux.keys(&["I"]);
    tmux.wait_for("the images pane", Duration::from_secs(5), |s| s.contains("Images ·"));
    // Narrowed to ours: a busy engine lists many images.
    tmux.keys(&["/"]);
    tmux.keys(&["-l", &repository]);
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("our image", Duration::from_secs(10), |s| {
        s.contains("Images · 1") && s.contains(" e2e ") && s.contains("unused")
    });
    assert!(screen.contains(&repository[..20]), "{screen}");
    tmux.keys(&["a"]);
    tmux.wait_for("the actions menu", Duration::from_secs(5), |s| s.contains("pull its tag again"));
    tmux.keys(&["d"]);
    tmux.wait_for("the question naming it", Duration::from_secs(5), |s| {
        s.contains("Remove image") && s.contains("y yes")
    });
    tmux.keys(&["n"]);
    tmux.wait_for("the question gone", Duration::from_secs(5), |s| !s.contains("Remove image"));
    tmux.keys(&["q"]);
    tmux.wait_for("portolan to exit", Duration::from_secs(5), |s| s.contains("PORTOLAN-EXIT:0"));
    // Not removed: the operator said no.
    assert!(support::docker(&["image", "inspect", &tag.0]).status.success());
}

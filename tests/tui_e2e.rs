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
        let exports: String = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
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
    fx.run("web", &[], &["sleep", "600"]);
    let name = fx.name("web");
    let tmux = Tmux::start("quit", 120, 40, &[], "--pane containers");
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

//! Shells through the Engine API on the real engine: a session opened by the engine
//! supervisor, typed into through the app's key path, read back from the pane's
//! emulator, resized with the pane, ended with its exit code, and hostile output
//! that never leaves the emulator as anything but plain cells.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use portolan::engine::EngineCommand;
use portolan::engine::shell::{ShellEnd, ShellEvent};
use portolan::ui::keymap::Keymap;
use portolan::ui::panes::shell::SessionState;
use portolan::ui::theme::Theme;
use portolan::ui::{App, PaneId, render_buffer};
use support::{Fixture, Watch};

/// What the bytes of `/evil.sh` print: what the Logs pane's tests feed it (screen
/// clears, cursor moves, a window title, OSC 52 clipboard, bracketed paste, the
/// alternate screen, DCS), a full reset (ESC c), invalid UTF-8 and a raw C1 CSI.
pub const HOSTILE: &str = "printf 'x\\033[2J\\033[10;10H\\033]0;PWNED-TITLE\\007\\033]52;c;cHduZWQ=\\007\\033[?2004h\\033[?1049h\\033P+q\\033\\\\ \\033c y\\377\\376 \\233 31m\\n'\nprintf 'hostile-%s\\n' done\n";

/// Copies the hostile script into the container, so that typing `sh /evil.sh` shows
/// its output without the typed command holding the same words.
pub fn plant_hostile_script(fx: &Fixture, container: &str) {
    let path = std::env::temp_dir().join(format!("{}-evil.sh", fx.run));
    std::fs::write(&path, HOSTILE).unwrap();
    support::docker_ok(&["cp", &path.to_string_lossy(), &format!("{container}:/evil.sh")]);
    let _ = std::fs::remove_file(path);
}

struct Session {
    watch: Watch,
    app: App,
}

impl Session {
    /// Opens a shell in `name` through the app and the engine supervisor, and waits
    /// for it to run.
    async fn open(name: &str) -> Session {
        let mut watch = Watch::start().await;
        watch
            .wait("the container", Duration::from_secs(10), |m| m.container_named(name).is_some())
            .await;
        let mut app = App::new(
            watch.model.clone(),
            Theme::built_in("dark"),
            Keymap::default(),
            chrono::Utc::now(),
        );
        app.shell_name = Some(name.to_string());
        app.pane = PaneId::Shell;
        // The inventory names the container: the app opens its shell.
        app.open_named_shell();
        let mut session = Session { watch, app };
        session.pump();
        session
            .until("the shell to start", |s| matches!(s.state(), SessionState::Running { .. }))
            .await;
        session
    }

    fn state(&self) -> SessionState {
        self.app.panes.shell.current().map(|s| s.state.clone()).expect("a session")
    }

    fn text(&self) -> String {
        self.app.panes.shell.current().map(|s| s.text()).unwrap_or_default()
    }

    /// Hands what the app asked of the engine to it.
    fn pump(&mut self) {
        for command in self.app.pending.drain(..) {
            if let EngineCommand::OpenShell(_) = &command {
                self.watch.handle.command(command);
            }
        }
        self.app.flush_shells();
    }

    async fn until(&mut self, what: &str, done: impl Fn(&Session) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while !done(self) {
            match tokio::time::timeout_at(deadline, self.watch.handle.shells.recv()).await {
                Ok(Some(event)) => {
                    if let ShellEvent::Ended { end: ShellEnd::Failed(reason), .. } = &event {
                        panic!("the shell failed while waiting for {what}: {reason}");
                    }
                    self.app.shell_event(event);
                    self.pump();
                }
                Ok(None) => panic!("the engine stopped while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; the screen:\n{}", self.text()),
            }
        }
    }

    /// Types `text` as keys (a newline is Enter), through the app as the UI does.
    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            let key = match c {
                '\n' => KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
                c => KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
            };
            assert!(self.app.text_input_active(), "the shell has the keyboard");
            self.app.text_input(&key);
        }
        self.pump();
    }

    /// Draws the whole UI at `width`×`height`, as a frame does, and returns every
    /// cell's symbol; the pane resizes its shell to what it got.
    fn draw(&mut self, width: u16, height: u16) -> Vec<String> {
        let buffer = render_buffer(&mut self.app, width, height);
        self.pump();
        buffer.content().iter().map(|cell| cell.symbol().to_string()).collect()
    }
}

#[tokio::test]
async fn a_shell_types_resizes_defuses_hostile_output_and_reports_its_exit_code() {
    let fx = Fixture::new("shell");
    let id = fx.run("box", &[], &["sleep", "600"]);
    let name = fx.name("box");
    plant_hostile_script(&fx, &id);
    let mut session = Session::open(&name).await;
    match session.state() {
        SessionState::Running { shell } => {
            assert!(shell.ends_with("ash") || shell.ends_with("sh"), "busybox's shell: {shell}");
        }
        other => panic!("not running: {other:?}"),
    }

    // Typed commands and their output, read from the emulator's screen.
    session.type_text("echo hi-$((6*7))\n");
    session.until("the answer", |s| s.text().contains("hi-42")).await;

    // The TTY follows the pane: drawn at 100x30, `stty size` says the pane's inside.
    session.draw(100, 30);
    let (rows, cols) = session.app.panes.shell.current().map(|s| s.screen().size()).unwrap();
    let expected = format!("{rows} {cols}");
    assert!(cols.get() < 100 && rows.get() < 30, "the pane's inside: {expected}");
    session.type_text("stty size\n");
    session.until("stty's answer", |s| s.text().contains(&expected)).await;
    session.draw(120, 40);
    let (rows, cols) = session.app.panes.shell.current().map(|s| s.screen().size()).unwrap();
    let bigger = format!("{rows} {cols}");
    assert_ne!(bigger, expected);
    session.type_text("clear; stty size\n");
    session.until("stty's answer after a resize", |s| s.text().contains(&bigger)).await;

    // Hostile output stays inside the emulator: the frame holds no control character.
    session.type_text("sh /evil.sh\n");
    session.until("the hostile script", |s| s.text().contains("hostile-done")).await;
    let cells = session.draw(120, 40);
    for symbol in &cells {
        assert!(
            !symbol.chars().any(|c| c.is_control()),
            "a control character reached the frame: {symbol:?}"
        );
    }
    let frame: String = cells.concat();
    assert!(frame.contains("hostile-done"), "the script ran in the pane:\n{frame}");
    assert!(!frame.contains("PWNED-TITLE"), "a title is not text on screen");
    assert!(!frame.contains("cHduZWQ="), "a clipboard write is not text on screen");

    // Bytes that look like a multiplexed frame's header (stream 2, 2 GiB long) are
    // only bytes on a TTY: what follows them still shows.
    session.type_text("printf '\\002\\000\\000\\000\\177\\377\\377\\377'; echo after-$((6*7))\n");
    session.until("the output after a fake frame header", |s| s.text().contains("after-42")).await;

    // The shell's exit code, said in the pane.
    session.type_text("exit 3\n");
    session.until("the shell to exit", |s| matches!(s.state(), SessionState::Exited { .. })).await;
    assert!(
        matches!(session.state(), SessionState::Exited { code: Some(3), .. }),
        "{:?}",
        session.state()
    );
    let frame = session.draw(120, 40).concat();
    assert!(frame.contains("exited with code 3"), "said on screen:\n{frame}");
    session.watch.stop().await;
}

#[tokio::test]
async fn a_container_without_a_shell_is_said_so() {
    let fx = Fixture::new("noshell");
    // busybox's sh is the only shell: remove it (and its links) from a copy.
    let id = fx.run("box", &[], &["sleep", "600"]);
    let name = fx.name("box");
    support::docker_ok(&[
        "exec",
        &id,
        "/bin/busybox",
        "rm",
        "-f",
        "/bin/sh",
        "/bin/ash",
        "/bin/bash",
    ]);
    let mut watch = Watch::start().await;
    let container = watch.by_name(&name).map(|c| c.id.clone()).unwrap();
    let request = portolan::engine::shell::ShellRequest {
        host: 0,
        session: 1,
        container,
        preferred: None,
        size: portolan::engine::shell::TtySize { rows: 24, cols: 80 },
    };
    watch.handle.command(EngineCommand::OpenShell(request));
    let event = tokio::time::timeout(Duration::from_secs(15), watch.handle.shells.recv())
        .await
        .expect("an answer in time")
        .expect("the engine runs");
    match event {
        ShellEvent::Ended { end: ShellEnd::Failed(reason), .. } => {
            assert!(reason.contains("no shell in this container"), "{reason}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    watch.stop().await;
}

/// The container's processes whose command is a shell, or a sleep.
fn shells_in(id: &str) -> usize {
    let top = support::docker_ok(&["top", id, "-o", "pid,comm"]);
    top.lines().skip(1).filter(|l| l.ends_with("sh")).count()
}

fn sleeps_in(id: &str) -> usize {
    let top = support::docker_ok(&["top", id, "-o", "pid,comm"]);
    top.lines().skip(1).filter(|l| l.ends_with("sleep")).count()
}

#[tokio::test]
async fn closing_a_tab_hangs_its_shell_up_in_the_container() {
    let fx = Fixture::new("shellhup");
    let id = fx.run("box", &[], &["sleep", "600"]);
    let name = fx.name("box");
    let mut session = Session::open(&name).await;
    session.type_text("sleep 300\n");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sleeps_in(&id) < 2 {
        assert!(std::time::Instant::now() < deadline, "the shell's job never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shells_in(&id), 1, "the shell runs in the container");
    // The keys back to portolan, then close the tab.
    let ctrl_bracket = KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL);
    session.app.text_input(&ctrl_bracket);
    assert!(session.app.act(portolan::ui::keymap::Action::KillProcess));
    session.pump();
    assert!(session.app.panes.shell.sessions().is_empty(), "the tab is gone");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    // The shell and its foreground job go; the container's own sleep stays.
    while shells_in(&id) > 0 || sleeps_in(&id) > 1 {
        assert!(std::time::Instant::now() < deadline, "the shell or its job outlived its tab");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session.watch.stop().await;
}

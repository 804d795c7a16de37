//! Interactive shells in containers, through the Engine API itself: an exec with a
//! TTY, attached over the connection the engine hijacks for it, resized with the pane
//! and asked for its exit code when it ends. It works over whatever the engine's
//! client reaches (unix socket, tcp, TLS, ssh), with no docker CLI.
//!
//! Each session is one task. Keystrokes come in on the session's own channel (sent
//! back to the UI when the session starts); what the shell prints leaves as owned
//! chunks on a bounded channel, so a flood waits for the UI instead of piling up in
//! memory. What the bytes mean (the terminal's screen) is the UI's business: this
//! module never looks inside them.

use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::query_parameters::ResizeExecOptions;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::endpoint::Endpoint;
use super::error::EngineError;
use crate::model::HostId;

/// The shells tried after the configured one, preferred first.
pub const SHELLS: [&str; 3] = ["bash", "ash", "sh"];

/// How long choosing a shell may take before giving up.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The most the probe's answer is read of: one path per candidate.
const PROBE_OUTPUT: usize = 4096;

/// The largest chunk of output read at once. A flood is carried in chunks this size,
/// each waiting for room on the UI's bounded channel.
const CHUNK: usize = 32 * 1024;

/// How long a shell that closed its output is given to be reported as ended.
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// How long hanging up a shell may take when portolan is leaving.
const HANGUP_WAIT: Duration = Duration::from_millis(500);

/// The private OSC the wrapper prints the shell's pid in (`ESC ] 7777 ; pid BEL`);
/// taken out of the output before anyone sees it.
const PID_MARK: &[u8] = b"\x1b]7777;";

/// Starts the shell under `/bin/sh`, which first tells its pid: an engine does not
/// end an exec whose client went away, so hanging up is a `kill -HUP` of that pid,
/// as a terminal's hang-up would be.
const WRAPPER: &str = r#"printf '\033]7777;%s\007' "$$"; exec "$0""#;

/// A terminal's size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtySize {
    pub rows: u16,
    pub cols: u16,
}

/// What the UI asks for: a shell in a container of one engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellRequest {
    pub host: HostId,
    /// Chosen by the UI, unique among its sessions on every engine.
    pub session: u64,
    /// The container's id or name.
    pub container: String,
    /// The operator's configured shell (`exec_shell`), tried before [`SHELLS`].
    pub preferred: Option<String>,
    /// The size the terminal starts at.
    pub size: TtySize,
}

/// What the UI sends a running session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellInput {
    /// Bytes for the shell's terminal, as a terminal sends them for keys.
    Bytes(Vec<u8>),
    /// The pane's size changed.
    Resize(TtySize),
    /// The operator closed the session: hang up.
    Hangup,
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellEnd {
    /// The shell's process exited, with its code when the engine knows it.
    Exited(Option<i64>),
    /// The shell could not be started, or the connection failed; in words.
    Failed(String),
    /// The operator hung up.
    HungUp,
}

/// What a session tells the UI.
#[derive(Debug)]
pub enum ShellEvent {
    /// The shell runs; keystrokes for it go to `input`.
    Started { session: u64, shell: String, input: mpsc::UnboundedSender<ShellInput> },
    /// Bytes the shell's terminal printed, untouched: only a terminal emulator may
    /// read them.
    Output { session: u64, bytes: Vec<u8> },
    /// The session is over.
    Ended { session: u64, end: ShellEnd },
}

impl ShellEvent {
    pub fn session(&self) -> u64 {
        match self {
            ShellEvent::Started { session, .. }
            | ShellEvent::Output { session, .. }
            | ShellEvent::Ended { session, .. } => *session,
        }
    }
}

/// The candidates in the order tried: the configured shell, then [`SHELLS`].
pub fn candidates(preferred: Option<&str>) -> Vec<String> {
    let mut shells: Vec<String> = Vec::new();
    for shell in preferred.into_iter().chain(SHELLS) {
        let shell = shell.trim();
        if !shell.is_empty() && !shells.iter().any(|s| s == shell) {
            shells.push(shell.to_string());
        }
    }
    shells
}

/// The probe: one `/bin/sh` run that prints the first candidate that exists.
/// `command -v` is POSIX and a builtin of every sh (dash, busybox ash, bash), so it
/// costs one exec however many candidates there are.
pub fn probe_script(candidates: &[String]) -> String {
    let tries: Vec<String> =
        candidates.iter().map(|shell| format!("command -v {}", quote(shell))).collect();
    format!("{} || exit 127", tries.join(" || "))
}

/// Single-quotes a word for sh.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The shell the probe printed: its first line, when it names one.
pub fn probe_answer(output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    let line = text.lines().next()?.trim();
    (!line.is_empty() && !line.chars().any(char::is_control)).then(|| line.to_string())
}

/// Runs one session until its shell exits, the operator hangs up, the engine
/// connection ends (`cancel`) or nobody listens; the last event is always `Ended`
/// (unless nobody listens any more).
pub async fn run(
    docker: Docker,
    endpoint: Endpoint,
    request: ShellRequest,
    events: mpsc::Sender<ShellEvent>,
    cancel: CancellationToken,
) {
    let session = request.session;
    let mut pid = None;
    let end = tokio::select! {
        _ = cancel.cancelled() => None,
        end = attach(&docker, &endpoint, &request, &events, &mut pid) => Some(end),
    };
    let end = match end {
        Some(end) => end,
        None => {
            // portolan is leaving (or lost the engine): the shell must not outlive it.
            let _ =
                tokio::time::timeout(HANGUP_WAIT, hang_up(&docker, &request.container, pid)).await;
            ShellEnd::Failed("the connection to the engine ended".into())
        }
    };
    let _ = events.send(ShellEvent::Ended { session, end }).await;
}

/// Sends the shell SIGHUP, as closing a terminal does (its jobs get it from it).
async fn hang_up(docker: &Docker, container: &str, pid: Option<u32>) {
    let Some(pid) = pid else { return };
    let options = CreateExecOptions {
        cmd: Some(vec!["/bin/sh".to_string(), "-c".to_string(), format!("kill -HUP {pid}")]),
        ..Default::default()
    };
    if let Ok(exec) = docker.create_exec(container, options).await {
        let detached = StartExecOptions { detach: true, ..Default::default() };
        let _ = docker.start_exec(&exec.id, Some(detached)).await;
    }
}

/// Takes the wrapper's pid mark out of the first output; the pid, if it was there.
pub fn take_pid(bytes: &mut Vec<u8>) -> Option<u32> {
    let start = bytes.windows(PID_MARK.len()).position(|w| w == PID_MARK)?;
    let digits = start + PID_MARK.len();
    let end = digits + bytes[digits..].iter().position(|b| *b == 0x07)?;
    let pid = std::str::from_utf8(&bytes[digits..end]).ok()?.parse().ok()?;
    bytes.drain(start..=end);
    Some(pid)
}

async fn attach(
    docker: &Docker,
    endpoint: &Endpoint,
    request: &ShellRequest,
    events: &mpsc::Sender<ShellEvent>,
    pid: &mut Option<u32>,
) -> ShellEnd {
    let (shell, has_sh) =
        match choose(docker, &request.container, request.preferred.as_deref()).await {
            Ok(found) => found,
            Err(reason) => return ShellEnd::Failed(reason),
        };
    let cmd = if has_sh {
        vec!["/bin/sh".to_string(), "-c".to_string(), WRAPPER.to_string(), shell.clone()]
    } else {
        vec![shell.clone()]
    };
    let mut first = has_sh;
    let options = CreateExecOptions {
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(true),
        // What the pane emulates; images without terminfo for it still get colours.
        env: Some(vec!["TERM=xterm-256color".to_string()]),
        cmd: Some(cmd),
        ..Default::default()
    };
    let exec = match docker.create_exec(&request.container, options).await {
        Ok(exec) => exec.id,
        Err(error) => return ShellEnd::Failed(format!("cannot start {shell}: {}", words(error))),
    };
    let (mut output, mut input) = match super::hijack::start_exec(endpoint, &exec).await {
        Ok(attached) => attached,
        Err(reason) => return ShellEnd::Failed(format!("cannot attach to {shell}: {reason}")),
    };
    // The TTY exists once started: give it the pane's size before the prompt is drawn.
    let mut size = None;
    resize(docker, &exec, request.size, &mut size).await;
    let (input_tx, mut input_rx) = mpsc::unbounded_channel();
    let mut buffer = vec![0u8; CHUNK];
    let started = ShellEvent::Started { session: request.session, shell, input: input_tx };
    if events.send(started).await.is_err() {
        return ShellEnd::HungUp;
    }
    loop {
        tokio::select! {
            read = output.read(&mut buffer) => match read {
                Ok(0) => break,
                Ok(n) => {
                    let mut bytes = buffer[..n].to_vec();
                    if first {
                        first = false;
                        *pid = take_pid(&mut bytes);
                    }
                    if bytes.is_empty() {
                        continue;
                    }
                    let event = ShellEvent::Output { session: request.session, bytes };
                    // Waits while the UI is behind: the shell is slowed, not buffered.
                    if events.send(event).await.is_err() {
                        return ShellEnd::HungUp;
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, "shell output ended with an error");
                    break;
                }
            },
            wanted = input_rx.recv() => match wanted {
                Some(ShellInput::Bytes(bytes)) => {
                    if input.write_all(&bytes).await.is_err() || input.flush().await.is_err() {
                        // The shell is gone; its output's end says how.
                        continue;
                    }
                }
                Some(ShellInput::Resize(wanted)) => resize(docker, &exec, wanted, &mut size).await,
                Some(ShellInput::Hangup) | None => {
                    let _ = input.shutdown().await;
                    hang_up(docker, &request.container, *pid).await;
                    return ShellEnd::HungUp;
                }
            },
        }
    }
    ShellEnd::Exited(exit_code(docker, &exec).await)
}

/// The exit code of an exec whose output ended; the engine may report it a moment
/// after closing the stream.
async fn exit_code(docker: &Docker, exec: &str) -> Option<i64> {
    let deadline = tokio::time::Instant::now() + EXIT_WAIT;
    loop {
        match docker.inspect_exec(exec).await {
            Ok(inspect) if inspect.running != Some(true) => return inspect.exit_code,
            Ok(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => return None,
        }
    }
}

/// Resizes the TTY when the size changed since the last resize.
async fn resize(docker: &Docker, exec: &str, wanted: TtySize, last: &mut Option<TtySize>) {
    if *last == Some(wanted) || wanted.rows == 0 || wanted.cols == 0 {
        return;
    }
    let options = ResizeExecOptions { h: i32::from(wanted.rows), w: i32::from(wanted.cols) };
    match docker.resize_exec(exec, options).await {
        Ok(()) => *last = Some(wanted),
        Err(error) => tracing::debug!(%error, "resizing a shell failed"),
    }
}

fn bytes_of(chunk: LogOutput) -> Vec<u8> {
    match chunk {
        LogOutput::StdOut { message }
        | LogOutput::StdErr { message }
        | LogOutput::Console { message }
        | LogOutput::StdIn { message } => message.to_vec(),
    }
}

fn words(error: bollard::errors::Error) -> String {
    EngineError::from(error).to_string()
}

/// The first candidate shell that exists in the container, found with one exec of
/// `/bin/sh` (see [`probe_script`]), and whether `/bin/sh` is there. A container with
/// no `/bin/sh` gets its configured shell, or is said to have no shell.
async fn choose(
    docker: &Docker,
    container: &str,
    preferred: Option<&str>,
) -> Result<(String, bool), String> {
    let shells = candidates(preferred);
    match tokio::time::timeout(PROBE_TIMEOUT, probe(docker, container, &shells)).await {
        Ok(Ok(Some(shell))) => Ok((shell, true)),
        Ok(Ok(None)) => match preferred.map(str::trim).filter(|p| !p.is_empty()) {
            // Without a sh to ask, the operator's own choice is tried as it is.
            Some(preferred) => Ok((preferred.to_string(), false)),
            None => Err(format!("no shell in this container (tried {})", shells.join(", "))),
        },
        Ok(Err(error)) => Err(format!("cannot look for a shell: {}", words(error))),
        Err(_) => Err("the engine did not run the shell probe within 10 s".into()),
    }
}

async fn probe(
    docker: &Docker,
    container: &str,
    shells: &[String],
) -> Result<Option<String>, bollard::errors::Error> {
    let options = CreateExecOptions {
        attach_stdout: Some(true),
        attach_stderr: Some(false),
        cmd: Some(vec!["/bin/sh".to_string(), "-c".to_string(), probe_script(shells)]),
        ..Default::default()
    };
    let exec = docker.create_exec(container, options).await?.id;
    let mut said = Vec::new();
    if let StartExecResults::Attached { mut output, .. } = docker.start_exec(&exec, None).await? {
        while let Some(chunk) = output.next().await {
            let Ok(chunk) = chunk else { break };
            said.extend(bytes_of(chunk));
            if said.len() > PROBE_OUTPUT {
                break;
            }
        }
    }
    if exit_code(docker, &exec).await != Some(0) {
        return Ok(None);
    }
    Ok(probe_answer(&said))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_shell_comes_first_and_none_twice() {
        assert_eq!(candidates(None), vec!["bash", "ash", "sh"]);
        assert_eq!(candidates(Some("zsh")), vec!["zsh", "bash", "ash", "sh"]);
        assert_eq!(candidates(Some(" sh ")), vec!["sh", "bash", "ash"]);
        assert_eq!(candidates(Some("")), vec!["bash", "ash", "sh"]);
    }

    #[test]
    fn the_probe_asks_for_each_candidate_quoted() {
        let script = probe_script(&candidates(Some("it's")));
        assert_eq!(
            script,
            r"command -v 'it'\''s' || command -v 'bash' || command -v 'ash' || command -v 'sh' || exit 127"
        );
    }

    #[test]
    fn the_pid_mark_is_taken_out_of_the_output() {
        let mut bytes = b"\x1b]7777;4242\x07\r\n/ # ".to_vec();
        assert_eq!(take_pid(&mut bytes), Some(4242));
        assert_eq!(bytes, b"\r\n/ # ");
        let mut plain = b"no mark here".to_vec();
        assert_eq!(take_pid(&mut plain), None);
        assert_eq!(plain, b"no mark here");
        let mut cut = b"\x1b]7777;42".to_vec();
        assert_eq!(take_pid(&mut cut), None, "an unfinished mark is left alone");
    }

    #[test]
    fn the_probe_answer_is_its_first_line() {
        assert_eq!(probe_answer(b"/bin/bash\n"), Some("/bin/bash".to_string()));
        assert_eq!(probe_answer(b"sh\n/bin/ash\n"), Some("sh".to_string()));
        assert_eq!(probe_answer(b""), None);
        assert_eq!(probe_answer(b"\x1b[2J\n"), None, "nothing with control characters");
    }
}

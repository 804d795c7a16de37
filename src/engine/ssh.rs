//! `ssh://user@host[:port]` the way the docker CLI does it: the system `ssh` client runs
//! `docker system dial-stdio` on the remote host, so `~/.ssh/config`, `known_hosts` and
//! the agent all apply, and nothing here handles keys.
//!
//! One ssh master connection (ControlMaster, in a private 0700 directory) carries every
//! request: bollard talks to a private local unix socket, and each connection it opens
//! there becomes one `ssh -S <control> ... docker system dial-stdio` channel over that
//! master. The master, the socket and the directory go away when the last
//! [`SshTunnel`] handle is dropped; should portolan die instead, ControlPersist ends the
//! master soon after its last channel closes.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::process::Command;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::error::ConnectError;

/// How long the master outlives its last channel when portolan could not end it.
const CONTROL_PERSIST: &str = "60";

/// Where an ssh endpoint points: `ssh://[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl SshTarget {
    /// Parses what follows `ssh://`, refusing what the docker CLI refuses (a path, a query).
    pub fn parse(rest: &str) -> Result<SshTarget, String> {
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') || rest.contains('?') {
            return Err("an ssh address has no path or query: ssh://[user@]host[:port]".into());
        }
        let (user, host_port) = match rest.rsplit_once('@') {
            Some((user, rest)) if !user.is_empty() => (Some(user.to_string()), rest),
            Some(_) => return Err("the user name before @ is empty".into()),
            None => (None, rest),
        };
        let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
            let (host, after) =
                bracketed.split_once(']').ok_or("an IPv6 address needs its closing ]")?;
            match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None if after.is_empty() => (host, None),
                None => return Err(format!("unexpected `{after}` after the address")),
            }
        } else {
            match host_port.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            }
        };
        if host.is_empty() {
            return Err("the host name is empty".into());
        }
        // ssh would read a leading dash as an option.
        if host.starts_with('-') || user.as_deref().is_some_and(|u| u.starts_with('-')) {
            return Err("a host or user name cannot start with `-`".into());
        }
        let port = port
            .map(|p| p.parse::<u16>().map_err(|_| format!("`{p}` is not a port number")))
            .transpose()?;
        Ok(SshTarget { user, host: host.to_string(), port })
    }

    /// `user@host` for the ssh command line.
    fn destination(&self) -> String {
        match &self.user {
            Some(user) => format!("{user}@{}", self.host),
            None => self.host.clone(),
        }
    }

    /// An ssh invocation through the control socket `control`, with these extra `-o`
    /// options, running `remote` on the host.
    fn command(&self, control: &Path, options: &[&str], remote: &[&str]) -> Command {
        let mut command = Command::new("ssh");
        command.args(["-o", "BatchMode=yes", "-T", "-o"]);
        command.arg(format!("ControlPath={}", control.display()));
        for option in options {
            command.args(["-o", option]);
        }
        if let Some(port) = self.port {
            command.args(["-p", &port.to_string()]);
        }
        command.arg("--").arg(self.destination()).args(remote);
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        command.kill_on_drop(true);
        command
    }
}

impl fmt::Display for SshTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ssh://")?;
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// Idle connections kept for reuse: each is an ssh channel and a remote `docker system
/// dial-stdio` process, far cheaper kept than started again for every request.
const IDLE_CONNECTIONS: usize = 4;

/// A bollard client on the tunnel's socket that keeps connections alive between
/// requests (bollard's own unix client opens one per request, which here would start a
/// remote process per request).
pub fn client(socket: &Path, timeout: u64) -> Result<bollard::Docker, bollard::errors::Error> {
    let pool = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(IDLE_CONNECTIONS)
        .build(hyperlocal::UnixConnector);
    let transport = move |request: bollard::BollardRequest| {
        let pool = pool.clone();
        async move {
            pool.request(request)
                .await
                .map_err(|err| bollard::errors::Error::HyperLegacyError { err })
        }
    };
    let hex: String = socket.to_string_lossy().bytes().map(|b| format!("{b:02x}")).collect();
    bollard::Docker::connect_with_custom_transport(
        transport,
        Some(format!("unix://{hex}")),
        timeout,
        bollard::API_DEFAULT_VERSION,
    )
}

/// An ssh endpoint and its tunnel, shared by every clone: the supervisor reconnects
/// through the same master and socket the first connection made.
#[derive(Clone)]
pub struct SshTunnel {
    pub target: SshTarget,
    shared: Arc<Shared>,
}

impl PartialEq for SshTunnel {
    fn eq(&self, other: &Self) -> bool {
        self.target == other.target
    }
}

impl Eq for SshTunnel {}

impl fmt::Debug for SshTunnel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SshTunnel").field(&self.target).finish()
    }
}

struct Shared {
    target: SshTarget,
    running: tokio::sync::Mutex<Option<Running>>,
    /// One per session sshd allows this connection: request channels and the host
    /// shell take theirs from here.
    permits: Arc<Semaphore>,
    /// What the last failed channel's ssh or remote docker said on stderr.
    last_error: Arc<Mutex<Option<String>>>,
}

struct Running {
    dir: PathBuf,
    socket: PathBuf,
    control: PathBuf,
    accept: AbortHandle,
}

impl SshTunnel {
    pub fn new(target: SshTarget) -> SshTunnel {
        let shared = Arc::new(Shared {
            target: target.clone(),
            running: tokio::sync::Mutex::new(None),
            permits: Arc::new(Semaphore::new(MAX_CHANNELS)),
            last_error: Arc::new(Mutex::new(None)),
        });
        SshTunnel { target, shared }
    }

    /// Makes sure the master connection is up and returns the local socket bollard
    /// should connect to.
    pub async fn open(&self, limit: Duration, shown: &str) -> Result<PathBuf, ConnectError> {
        let mut running = self.shared.running.lock().await;
        if running.is_none() {
            *running = Some(self.start(shown)?);
        }
        let Some(state) = running.as_ref() else {
            return Err(ConnectError::Other {
                endpoint: shown.to_string(),
                detail: "the ssh tunnel did not start".into(),
            });
        };
        if UnixStream::connect(&state.control).await.is_err() {
            self.establish(&state.control, limit, shown).await?;
        }
        Ok(state.socket.clone())
    }

    /// `sh` on the remote host over the master connection, holding one of its
    /// sessions for as long as the shell lives. `None` when the master is not up, or
    /// every session stayed busy for `limit`.
    pub async fn shell(&self, limit: Duration) -> Option<(Command, OwnedSemaphorePermit)> {
        let control = self.shared.running.lock().await.as_ref()?.control.clone();
        UnixStream::connect(&control).await.ok()?;
        let permit = tokio::time::timeout(limit, self.shared.permits.clone().acquire_owned())
            .await
            .ok()?
            .ok()?;
        let command = self.target.command(&control, &["ControlMaster=no"], &["sh"]);
        Some((command, permit))
    }

    /// What the remote side last complained of, if anything.
    pub fn last_error(&self) -> Option<String> {
        self.shared.last_error.lock().ok().and_then(|e| e.clone())
    }

    fn start(&self, shown: &str) -> Result<Running, ConnectError> {
        let failed = |what: &str, e: std::io::Error| ConnectError::Other {
            endpoint: shown.to_string(),
            detail: format!("{what}: {e}"),
        };
        let dir = private_dir().map_err(|e| failed("cannot make a private directory", e))?;
        let socket = dir.join("docker.sock");
        let control = dir.join("ctl");
        let listener = UnixListener::bind(&socket).map_err(|e| {
            let _ = std::fs::remove_dir_all(&dir);
            failed("cannot listen on a private socket", e)
        })?;
        let task = tokio::spawn(accept(
            listener,
            self.target.clone(),
            control.clone(),
            self.shared.permits.clone(),
            self.shared.last_error.clone(),
        ));
        Ok(Running { dir, socket, control, accept: task.abort_handle() })
    }

    /// Starts the master connection; its first session checks that the remote host has
    /// a docker CLI (which `dial-stdio` needs).
    async fn establish(
        &self,
        control: &Path,
        limit: Duration,
        shown: &str,
    ) -> Result<(), ConnectError> {
        let timeout = format!("ConnectTimeout={}", limit.as_secs().max(1));
        let persist = format!("ControlPersist={CONTROL_PERSIST}");
        let options = ["ControlMaster=auto", persist.as_str(), timeout.as_str()];
        let mut command = self.target.command(control, &options, &["docker", "--version"]);
        command.stderr(Stdio::piped());
        let timed_out = || ConnectError::TimedOut {
            endpoint: shown.to_string(),
            seconds: limit.as_secs().max(1),
        };
        let output = match tokio::time::timeout(limit, command.output()).await {
            Err(_) => return Err(timed_out()),
            Ok(Err(e)) => {
                return Err(ConnectError::Ssh {
                    endpoint: shown.to_string(),
                    detail: format!("cannot run ssh: {e}"),
                });
            }
            Ok(Ok(output)) => output,
        };
        if output.status.success() {
            return Ok(());
        }
        let said = last_words(&output.stderr);
        let detail = match output.status.code() {
            // ssh's own failures: connection, host key, authentication.
            Some(255) => said,
            Some(127) => format!("the remote host has no `docker` command ({said})"),
            _ => format!("`docker --version` failed on the remote host: {said}"),
        };
        Err(ConnectError::Ssh { endpoint: shown.to_string(), detail })
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let Some(running) = self.running.get_mut().take() else { return };
        running.accept.abort();
        // Ends the master and with it every channel; a blocking call, but a local one.
        let _ = std::process::Command::new("ssh")
            .arg("-o")
            .arg(format!("ControlPath={}", running.control.display()))
            .args(["-O", "exit"])
            .args(
                self.target.port.map(|p| vec!["-p".to_string(), p.to_string()]).unwrap_or_default(),
            )
            .arg("--")
            .arg(self.target.destination())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&running.dir);
    }
}

/// The last meaningful lines ssh printed, without its debug chatter.
fn last_words(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("debug")).collect();
    let start = lines.len().saturating_sub(2);
    let words = lines[start..].join(" ");
    // The caller ends the sentence.
    let words = words.trim_end_matches('.').to_string();
    if words.is_empty() { "ssh exited without saying why".into() } else { words }
}

static DIRS: AtomicU32 = AtomicU32::new(0);

/// A fresh 0700 directory under $XDG_RUNTIME_DIR (else the temp dir), short enough for
/// the unix socket paths ssh puts in it.
fn private_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let n = DIRS.fetch_add(1, Ordering::Relaxed);
    let dir = base.join(format!("portolan-ssh-{}-{n}", std::process::id()));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}

/// sshd allows 10 sessions per connection by default (MaxSessions); past that, a mux
/// client would quietly open a second ssh connection. Connections beyond this wait.
pub const MAX_CHANNELS: usize = 9;
/// A waiting connection may close a channel idle this long that carries no stream:
/// bollard keeps such connections for reuse and opens a new one only when none is free.
const EVICT_IDLE: Duration = Duration::from_millis(1000);

/// What the accept loop knows of a live channel.
struct Channel {
    /// Milliseconds since `epoch` of the last byte either way.
    last: Arc<AtomicU64>,
    /// Whether its current request streams (events, followed logs, streamed stats):
    /// quiet but busy, never to be closed for another.
    streaming: Arc<AtomicBool>,
    /// Whether the last bytes went to the engine: a request is waiting for its answer.
    awaiting: Arc<AtomicBool>,
    close: CancellationToken,
}

type Channels = Arc<Mutex<HashMap<u64, Channel>>>;

/// Turns each connection to the private socket into one dial-stdio channel.
async fn accept(
    listener: UnixListener,
    target: SshTarget,
    control: PathBuf,
    permits: Arc<Semaphore>,
    last_error: Arc<Mutex<Option<String>>>,
) {
    let epoch = Instant::now();
    let channels: Channels = Arc::default();
    let mut tasks = JoinSet::new();
    let mut next_id = 0u64;
    while let Ok((stream, _)) = listener.accept().await {
        while tasks.try_join_next().is_some() {}
        // Without its master, ssh would open a connection of its own: refuse instead,
        // and let the supervisor's reconnection bring the master back. (A master that
        // was killed leaves its socket file behind, so existing is not enough.)
        if UnixStream::connect(&control).await.is_err() {
            continue;
        }
        let command =
            target.command(&control, &["ControlMaster=no"], &["docker", "system", "dial-stdio"]);
        next_id += 1;
        let (id, permits, channels, last_error) =
            (next_id, permits.clone(), channels.clone(), last_error.clone());
        tasks.spawn(async move {
            let Some(permit) = wait_for_room(&permits, &channels, epoch).await else { return };
            let entry = Channel {
                last: Arc::new(AtomicU64::new(millis(epoch))),
                streaming: Arc::new(AtomicBool::new(false)),
                awaiting: Arc::new(AtomicBool::new(false)),
                close: CancellationToken::new(),
            };
            let (last, streaming, awaiting, close) = (
                entry.last.clone(),
                entry.streaming.clone(),
                entry.awaiting.clone(),
                entry.close.clone(),
            );
            if let Ok(mut live) = channels.lock() {
                live.insert(id, entry);
            }
            let activity = Activity { epoch, last, streaming, awaiting };
            channel(stream, command, activity, close, last_error).await;
            if let Ok(mut live) = channels.lock() {
                live.remove(&id);
            }
            drop(permit);
        });
    }
}

fn millis(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A channel's permit, closing an idle pooled channel if the wait drags on.
async fn wait_for_room(
    permits: &Arc<Semaphore>,
    channels: &Channels,
    epoch: Instant,
) -> Option<OwnedSemaphorePermit> {
    loop {
        match tokio::time::timeout(EVICT_IDLE, permits.clone().acquire_owned()).await {
            Ok(permit) => return permit.ok(),
            Err(_) => {
                let now = millis(epoch);
                let idle_for = u64::try_from(EVICT_IDLE.as_millis()).unwrap_or(u64::MAX);
                if let Ok(live) = channels.lock() {
                    let idlest = live
                        .values()
                        .filter(|c| {
                            !c.streaming.load(Ordering::Relaxed)
                                && !c.awaiting.load(Ordering::Relaxed)
                        })
                        .map(|c| (c.last.load(Ordering::Relaxed), &c.close))
                        .filter(|(last, _)| now.saturating_sub(*last) >= idle_for)
                        .min_by_key(|(last, _)| *last);
                    if let Some((_, close)) = idlest {
                        close.cancel();
                    }
                }
            }
        }
    }
}

/// A channel's traffic, watched for idleness and for streaming requests.
struct Activity {
    epoch: Instant,
    last: Arc<AtomicU64>,
    streaming: Arc<AtomicBool>,
    awaiting: Arc<AtomicBool>,
}

impl Activity {
    fn touch(&self) {
        self.last.store(millis(self.epoch), Ordering::Relaxed);
    }

    /// Reads the request line when a request starts.
    fn sniff(&self, bytes: &[u8]) {
        const METHODS: [&[u8]; 5] = [b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE "];
        if METHODS.iter().any(|m| bytes.starts_with(m)) {
            let line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
            self.streaming.store(is_streaming(&String::from_utf8_lossy(line)), Ordering::Relaxed);
        }
    }
}

/// Requests whose answer keeps coming: a quiet connection carrying one is still busy.
fn is_streaming(request_line: &str) -> bool {
    let line = request_line.to_ascii_lowercase();
    line.contains("/events")
        || line.contains("follow=true")
        || line.contains("follow=1")
        || line.contains("/attach")
        || (line.contains("/stats") && !line.contains("stream=false"))
        || (line.contains("/exec/") && line.contains("/start"))
}

async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    activity: &Activity,
    sniff: bool,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        activity.touch();
        // A request sent and not yet answered: busy, however quiet.
        activity.awaiting.store(sniff, Ordering::Relaxed);
        if sniff {
            activity.sniff(&buf[..n]);
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

async fn channel(
    stream: UnixStream,
    mut command: Command,
    activity: Activity,
    close: CancellationToken,
    last_error: Arc<Mutex<Option<String>>>,
) {
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            tracing::warn!(%error, "cannot run ssh");
            return;
        }
    };
    let (Some(stdin), Some(stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return;
    };
    let (from_client, to_client) = stream.into_split();
    let upstream = pump(from_client, stdin, &activity, true);
    let downstream = pump(stdout, to_client, &activity, false);
    tokio::select! {
        // Closed to make room: the child is killed on drop, and that is no failure.
        _ = close.cancelled() => return,
        // bollard hung up: nothing more is wanted from this channel (and the engine
        // would keep a half-closed connection open).
        _ = upstream => return,
        // The far side ended: the engine closed, or ssh or docker failed.
        _ = downstream => {}
    }
    let mut said = Vec::new();
    let _ = tokio::time::timeout(Duration::from_millis(500), stderr.read_to_end(&mut said)).await;
    let status = tokio::time::timeout(Duration::from_millis(500), child.wait()).await;
    if !matches!(status, Ok(Ok(s)) if s.success()) && !said.is_empty() {
        let words = last_words(&said);
        tracing::debug!(%words, "an ssh channel failed");
        if let Ok(mut last) = last_error.lock() {
            *last = Some(words);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_the_docker_cli() {
        let t = SshTarget::parse("me@box.example:2222").expect("ok");
        assert_eq!(
            t,
            SshTarget { user: Some("me".into()), host: "box.example".into(), port: Some(2222) }
        );
        assert_eq!(t.to_string(), "ssh://me@box.example:2222");
        assert_eq!(SshTarget::parse("box").expect("ok").to_string(), "ssh://box");
        let v6 = SshTarget::parse("root@[::1]:22").expect("ok");
        assert_eq!(v6.host, "::1");
        assert_eq!(v6.to_string(), "ssh://root@[::1]:22");
        assert!(SshTarget::parse("me@box/path").is_err());
        assert!(SshTarget::parse("me@").is_err());
        assert!(SshTarget::parse("@box").is_err());
        assert!(SshTarget::parse("box:ssh").is_err());
        assert!(SshTarget::parse("-oProxyCommand=x").is_err());
    }

    #[test]
    fn streaming_requests_are_recognised() {
        assert!(is_streaming("GET /v1.41/events?filters=%7B%7D HTTP/1.1\r"));
        assert!(is_streaming("GET /v1.41/containers/x/logs?follow=true&stdout=true HTTP/1.1"));
        assert!(is_streaming("GET /v1.41/containers/x/stats?stream=true HTTP/1.1"));
        assert!(!is_streaming("GET /v1.41/containers/x/stats?stream=false&one-shot=true HTTP/1.1"));
        assert!(!is_streaming("GET /v1.41/containers/x/json HTTP/1.1"));
    }

    #[test]
    fn ssh_messages_lose_their_debug_lines() {
        let said = b"debug1: x\nroot@127.0.0.1: Permission denied (publickey).\n";
        assert_eq!(last_words(said), "root@127.0.0.1: Permission denied (publickey)");
        assert_eq!(last_words(b""), "ssh exited without saying why");
    }
}

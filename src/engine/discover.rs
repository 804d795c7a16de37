//! Where the engine is when nobody said: the root socket, then the sockets that
//! rootless Docker, Docker Desktop, Colima, OrbStack and Podman make, in that order.
//! Every one is asked `/version` at once, each within [`PROBE_LIMIT`], and the first
//! in the order that answers is used, so a slow one early in the list costs a second,
//! not a second per place. Why each of the others was passed over is kept in words,
//! for the exit message and for `--print-engines`.
//!
//! Only used when the flags, the environment and the docker config name no engine
//! (`resolve::Choice::named`): what the operator names is never second-guessed.

use std::fmt;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bollard::Docker;

pub use super::endpoint::SocketPlace;
use super::endpoint::{DEFAULT_SOCKET, Endpoint};

/// How long each place may take to answer `/version`. A local socket that has not
/// answered in a second is not one the operator is waiting for.
pub const PROBE_LIMIT: Duration = Duration::from_secs(1);

/// Moves the root socket elsewhere, so that tests can have it missing on a machine
/// where it is not. For tests only: an operator names another socket with `-H`.
pub const ROOT_SOCKET_VAR: &str = "PORTOLAN_DEFAULT_SOCKET";

/// What discovery reads of the environment, so that the list of places is a pure
/// function of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surroundings {
    /// `HOME`.
    pub home: Option<PathBuf>,
    /// `XDG_RUNTIME_DIR`: where rootless Docker and Podman put their sockets.
    pub runtime_dir: Option<PathBuf>,
    /// [`DEFAULT_SOCKET`], unless a test moved it ([`ROOT_SOCKET_VAR`]).
    pub root_socket: PathBuf,
}

impl Surroundings {
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Surroundings {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty()).map(PathBuf::from);
        Surroundings {
            home: set("HOME"),
            runtime_dir: set("XDG_RUNTIME_DIR"),
            root_socket: set(ROOT_SOCKET_VAR).unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET)),
        }
    }
}

/// Where to look for a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    At(PathBuf),
    /// Under a directory named by a variable that is not set: not looked at, because
    /// guessing the directory could find someone else's engine.
    Unset {
        var: &'static str,
        rest: &'static str,
    },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::At(path) => write!(f, "{}", path.display()),
            Place::Unset { var, rest } => write!(f, "${var}/{rest}"),
        }
    }
}

/// One place an engine may be, and what would have made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub kind: SocketPlace,
    pub place: Place,
}

impl Candidate {
    /// The address to connect to; the root socket stays a plain socket, as when it is
    /// the default, and the others say what they are.
    pub fn endpoint(&self) -> Option<Endpoint> {
        let Place::At(path) = &self.place else { return None };
        let socket = Endpoint::Unix(path.clone());
        Some(match self.kind {
            SocketPlace::Root => socket,
            kind => Endpoint::Found { kind, endpoint: Box::new(socket) },
        })
    }
}

/// The places to look, in the order they are preferred: the root socket (the docker
/// CLI's default), then rootless Docker, Docker Desktop, Colima, OrbStack, Podman.
pub fn candidates(around: &Surroundings) -> Vec<Candidate> {
    let under = |dir: &Option<PathBuf>, var: &'static str, rest: &'static str| match dir {
        Some(dir) => Place::At(dir.join(rest)),
        None => Place::Unset { var, rest },
    };
    let home = |rest| under(&around.home, "HOME", rest);
    let runtime = |rest| under(&around.runtime_dir, "XDG_RUNTIME_DIR", rest);
    [
        (SocketPlace::Root, Place::At(around.root_socket.clone())),
        (SocketPlace::Rootless, runtime("docker.sock")),
        (SocketPlace::Desktop, home(".docker/run/docker.sock")),
        (SocketPlace::Desktop, home(".docker/desktop/docker.sock")),
        (SocketPlace::Colima, home(".colima/default/docker.sock")),
        (SocketPlace::OrbStack, home(".orbstack/run/docker.sock")),
        (SocketPlace::Podman, runtime("podman/podman.sock")),
        (SocketPlace::PodmanSystem, Place::At(PathBuf::from("/run/podman/podman.sock"))),
    ]
    .into_iter()
    .map(|(kind, place)| Candidate { kind, place })
    .collect()
}

/// Why a place gave no engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unanswered {
    #[error("not looked at: {var} is not set")]
    Unset { var: &'static str },
    #[error("no such file")]
    NoSuchFile,
    #[error("no such file (a symbolic link to {target}, which does not exist)")]
    DanglingLink { target: String },
    #[error("permission denied")]
    PermissionDenied,
    #[error("not a socket ({what})")]
    NotASocket { what: &'static str },
    #[error("nothing listens on it (connection refused)")]
    Refused,
    #[error("did not answer in {seconds} s")]
    Silent { seconds: u64 },
    #[error("hung up without answering: {detail}")]
    HungUp { detail: String },
    #[error("answered but is not a Docker API: {detail}")]
    NotDocker { detail: String },
    #[error("cannot be used: {detail}")]
    Other { detail: String },
}

impl Unanswered {
    /// Whether there is a file at the place, as far as the reason tells.
    pub fn file_exists(&self) -> Option<bool> {
        match self {
            Unanswered::Unset { .. } | Unanswered::PermissionDenied | Unanswered::Other { .. } => {
                None
            }
            Unanswered::NoSuchFile | Unanswered::DanglingLink { .. } => Some(false),
            _ => Some(true),
        }
    }

    fn from_io(error: &io::Error) -> Unanswered {
        match error.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Unanswered::NoSuchFile,
            io::ErrorKind::PermissionDenied => Unanswered::PermissionDenied,
            io::ErrorKind::ConnectionRefused => Unanswered::Refused,
            _ => Unanswered::Other { detail: error.to_string() },
        }
    }
}

/// What an engine that answered says it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// `Docker Engine - Community`, `Docker Desktop 4.30.0 (149282)`, `Podman Engine`...
    pub name: Option<String>,
    pub version: Option<String>,
    pub api_version: Option<String>,
}

impl Answer {
    fn from_version(version: bollard::models::SystemVersion) -> Answer {
        let platform = version.platform.map(|p| p.name).filter(|n| !n.trim().is_empty());
        let component = || {
            let components = version.components.as_deref().unwrap_or_default();
            let name = components.first().map(|c| c.name.trim()).filter(|n| !n.is_empty())?;
            // Docker's own engine calls its component just `Engine`.
            Some(if name == "Engine" { "Docker Engine".to_string() } else { name.to_string() })
        };
        Answer {
            name: platform.or_else(component),
            version: version.version,
            api_version: version.api_version,
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name.as_deref().unwrap_or("an engine"))?;
        if let Some(version) = &self.version {
            write!(f, " {version}")?;
        }
        if let Some(api) = &self.api_version {
            write!(f, " (API {api})")?;
        }
        Ok(())
    }
}

/// One place looked at, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tried {
    pub candidate: Candidate,
    pub outcome: Result<Answer, Unanswered>,
}

/// Asks every place at once; the results keep the order of `candidates`.
pub async fn look(candidates: &[Candidate], limit: Duration) -> Vec<Tried> {
    let asks = candidates.iter().map(|candidate| async move {
        Tried { candidate: candidate.clone(), outcome: ask(&candidate.place, limit).await }
    });
    futures_util::future::join_all(asks).await
}

/// The first place, in the order of preference, where an engine answered.
pub fn chosen(tried: &[Tried]) -> Option<&Tried> {
    tried.iter().find(|t| t.outcome.is_ok())
}

/// Looks everywhere and returns the engine to use, or every place with its reason.
pub async fn discover(around: &Surroundings) -> Result<Endpoint, NothingAnswers> {
    let tried = look(&candidates(around), PROBE_LIMIT).await;
    match chosen(&tried).and_then(|t| t.candidate.endpoint()) {
        Some(endpoint) => Ok(endpoint),
        None => Err(NothingAnswers { tried }),
    }
}

/// No engine was named and none answered where engines are usually found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct NothingAnswers {
    pub tried: Vec<Tried>,
}

impl fmt::Display for NothingAnswers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no Docker engine answers here, and none is named; looked at:")?;
        for tried in &self.tried {
            let reason = match &tried.outcome {
                Ok(answer) => format!("answered ({answer})"),
                Err(why) => why.to_string(),
            };
            write!(
                f,
                "\n  {} ({}): {reason}",
                tried.candidate.place,
                tried.candidate.kind.description()
            )?;
        }
        Ok(())
    }
}

impl NothingAnswers {
    /// What the operator can do about it.
    pub fn hint(&self) -> &'static str {
        let denied = self.tried.iter().any(|t| t.outcome == Err(Unanswered::PermissionDenied));
        if denied {
            "Run portolan as a user in the `docker` group (or as root), start an engine, or name one with -H, DOCKER_HOST or --context."
        } else {
            "Start an engine (e.g. `sudo systemctl start docker`), or name one with -H, DOCKER_HOST or --context."
        }
    }
}

/// An engine the operator named, and what came of asking it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedTried {
    /// What named it: `-H/--host`, `DOCKER_HOST`, `[[hosts]] in the config`...
    pub by: String,
    pub endpoint: Endpoint,
    /// Why it did not answer, in words.
    pub outcome: Result<Answer, String>,
}

/// Asks a named engine, over whatever transport its address needs, what it is.
pub async fn ask_named(endpoint: &Endpoint) -> Result<Answer, String> {
    let (docker, _) =
        super::connect(endpoint, super::CONNECT_TIMEOUT).await.map_err(|e| e.to_string())?;
    match tokio::time::timeout(super::CONNECT_TIMEOUT, docker.version()).await {
        Ok(Ok(version)) => Ok(Answer::from_version(version)),
        Ok(Err(e)) => Err(super::describe(&e)),
        Err(_) => Err("did not say what it is in time".to_string()),
    }
}

/// `--print-engines`: the engines named, then every place looked at in order, each
/// with whether it is there and answers, and which engine portolan would use.
pub fn report(named: &[NamedTried], tried: &[Tried]) -> String {
    let mut out = String::new();
    if !named.is_empty() {
        out.push_str(
            "Named (used as named; the places below are looked at only when nothing is):\n",
        );
        for engine in named {
            out.push_str(&format!("  {}: {}\n", engine.by, engine.endpoint));
            match &engine.outcome {
                Ok(answer) => out.push_str(&format!("     answers: {answer}\n")),
                Err(why) => out.push_str(&format!("     does not answer: {why}\n")),
            }
        }
        out.push('\n');
    }
    out.push_str("Where portolan looks when no engine is named, in order:\n");
    for (n, tried) in tried.iter().enumerate() {
        let candidate = &tried.candidate;
        out.push_str(&format!(
            "  {}. {} — {}\n     {}\n",
            n + 1,
            candidate.place,
            candidate.kind.description(),
            status(&tried.outcome)
        ));
    }
    out.push('\n');
    let used = match named {
        [] => match chosen(tried) {
            Some(t) => format!("{} ({})", t.candidate.place, t.candidate.kind.label()),
            None => "nothing: no place answers, so portolan would exit with status 2".into(),
        },
        [one] => {
            let silent = if one.outcome.is_ok() { "" } else { ", though it does not answer now" };
            format!("{} (named by {}){silent}", one.endpoint, one.by)
        }
        all => format!("all {} named engines at once", all.len()),
    };
    out.push_str(&format!("portolan would use: {used}\n"));
    out
}

/// Whether a place has a file and an engine answering there, in a line.
fn status(outcome: &Result<Answer, Unanswered>) -> String {
    match outcome {
        Ok(answer) => format!("exists; answers: {answer}"),
        Err(why) => match why.file_exists() {
            Some(false) => format!("missing: {why}"),
            Some(true) => format!("exists; does not answer: {why}"),
            None => why.to_string(),
        },
    }
}

/// Whether a Docker API answers on the socket at `place`, within `limit`.
async fn ask(place: &Place, limit: Duration) -> Result<Answer, Unanswered> {
    let path = match place {
        Place::At(path) => path,
        Place::Unset { var, .. } => return Err(Unanswered::Unset { var }),
    };
    is_a_socket(path)?;
    let deadline = tokio::time::Instant::now() + limit;
    let silent = || Unanswered::Silent { seconds: limit.as_secs().max(1) };
    // A raw connection first: bollard folds refused, missing and forbidden into one error.
    match tokio::time::timeout_at(deadline, tokio::net::UnixStream::connect(path)).await {
        Err(_) => return Err(silent()),
        Ok(Err(e)) => return Err(Unanswered::from_io(&e)),
        Ok(Ok(_)) => {}
    }
    let docker = Docker::connect_with_unix(
        &path.to_string_lossy(),
        limit.as_secs().max(1),
        bollard::API_DEFAULT_VERSION,
    )
    .map_err(|e| Unanswered::Other { detail: super::describe(&e) })?;
    match tokio::time::timeout_at(deadline, docker.version()).await {
        Err(_) => Err(silent()),
        Ok(Ok(version)) => Ok(Answer::from_version(version)),
        Ok(Err(e)) => Err(why_not_docker(&e)),
    }
}

fn why_not_docker(error: &bollard::errors::Error) -> Unanswered {
    use bollard::errors::Error;
    match error {
        Error::RequestTimeoutError => Unanswered::Silent { seconds: PROBE_LIMIT.as_secs() },
        Error::HyperResponseError { .. } | Error::IOError { .. } => {
            Unanswered::HungUp { detail: super::describe(error) }
        }
        _ => Unanswered::NotDocker { detail: super::describe(error) },
    }
}

/// Checks the file before connecting, so that a missing file, a dangling link and a
/// plain file are told apart from a socket nobody listens on.
fn is_a_socket(path: &Path) -> Result<(), Unanswered> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => Ok(()),
        Ok(meta) => Err(Unanswered::NotASocket {
            what: if meta.is_dir() {
                "a directory"
            } else if meta.is_file() {
                "a regular file"
            } else {
                "another kind of file"
            },
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match std::fs::read_link(path) {
            Ok(target) => Err(Unanswered::DanglingLink { target: target.display().to_string() }),
            Err(_) => Err(Unanswered::NoSuchFile),
        },
        Err(e) => Err(Unanswered::from_io(&e)),
    }
}

#[cfg(test)]
mod tests;

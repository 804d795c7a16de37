//! Where the engine is, and why it could not be reached, in words.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::ConnectError;
use super::ssh::{SshTarget, SshTunnel};

pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// A Docker engine address, as given by `-H`/`--host`, `DOCKER_HOST` or a docker context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp {
        host: String,
        port: u16,
        /// Set when the engine is reached over TLS (always verified).
        tls: Option<TlsFiles>,
    },
    /// `ssh://[user@]host[:port]`, through the system ssh client.
    Ssh(SshTunnel),
    /// A docker context: named in the header and in errors, reached at `endpoint`.
    Context {
        name: String,
        endpoint: Box<Endpoint>,
    },
    /// A socket found where an engine of this kind files it, when nothing named one
    /// (see `discover`): shown by what it is, reached at `endpoint`.
    Found {
        kind: SocketPlace,
        endpoint: Box<Endpoint>,
    },
}

/// What made a socket, as far as where it lies tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketPlace {
    /// `/var/run/docker.sock`, the docker CLI's own default.
    Root,
    Rootless,
    Desktop,
    Colima,
    OrbStack,
    /// A user's own Podman service.
    Podman,
    /// Podman's system-wide service.
    PodmanSystem,
}

impl SocketPlace {
    /// What the header and the panes call an engine found there.
    pub fn label(self) -> &'static str {
        match self {
            SocketPlace::Root => "local",
            SocketPlace::Rootless => "rootless",
            SocketPlace::Desktop => "desktop",
            SocketPlace::Colima => "colima",
            SocketPlace::OrbStack => "orbstack",
            SocketPlace::Podman | SocketPlace::PodmanSystem => "podman",
        }
    }

    /// What it is, in a sentence's words.
    pub fn description(self) -> &'static str {
        match self {
            SocketPlace::Root => "the docker CLI's default socket",
            SocketPlace::Rootless => "rootless Docker",
            SocketPlace::Desktop => "Docker Desktop",
            SocketPlace::Colima => "Colima, default profile",
            SocketPlace::OrbStack => "OrbStack",
            SocketPlace::Podman => "rootless Podman",
            SocketPlace::PodmanSystem => "Podman's system service",
        }
    }
}

/// The files of a TLS connection the engine's certificate is verified with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    /// The client certificate and its key; both or neither (the engine may not ask).
    pub client: Option<(PathBuf, PathBuf)>,
}

impl Endpoint {
    /// How many requests the transport carries at once, when it has a limit: an ssh
    /// connection carries [`super::ssh::MAX_CHANNELS`] sessions.
    pub fn request_channels(&self) -> Option<usize> {
        match self {
            Endpoint::Ssh(_) => Some(super::ssh::MAX_CHANNELS),
            Endpoint::Context { endpoint, .. } | Endpoint::Found { endpoint, .. } => {
                endpoint.request_channels()
            }
            Endpoint::Unix(_) | Endpoint::Tcp { .. } => None,
        }
    }

    /// `-H` wins over `DOCKER_HOST`, which wins over the default local socket.
    pub fn resolve(flag: Option<&str>, env: Option<&str>) -> Result<Endpoint, ConnectError> {
        match flag.or(env.filter(|v| !v.trim().is_empty())) {
            Some(value) => Endpoint::parse(value),
            None => Ok(Endpoint::Unix(PathBuf::from(DEFAULT_SOCKET))),
        }
    }

    pub fn parse(value: &str) -> Result<Endpoint, ConnectError> {
        let value = value.trim();
        if let Some(path) = value.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(ConnectError::BadEndpoint {
                    endpoint: value.to_string(),
                    detail: "the socket path is empty".into(),
                });
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        if value.starts_with('/') {
            return Ok(Endpoint::Unix(PathBuf::from(value)));
        }
        if let Some(rest) = value.strip_prefix("ssh://") {
            let target = SshTarget::parse(rest).map_err(|detail| ConnectError::BadEndpoint {
                endpoint: value.to_string(),
                detail,
            })?;
            return Ok(Endpoint::Ssh(SshTunnel::new(target)));
        }
        let rest = value
            .strip_prefix("tcp://")
            .or_else(|| value.strip_prefix("http://"))
            .ok_or_else(|| ConnectError::BadEndpoint {
                endpoint: value.to_string(),
                detail: match value.split_once("://") {
                    Some((scheme, _)) => {
                        format!(
                            "the `{scheme}://` scheme is not supported; use unix://, tcp:// or ssh://"
                        )
                    }
                    None => "expected unix:///path/to/docker.sock, tcp://host:port or ssh://user@host".into(),
                },
            })?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
                let port = port.parse::<u16>().map_err(|_| ConnectError::BadEndpoint {
                    endpoint: value.to_string(),
                    detail: format!("`{port}` is not a port number"),
                })?;
                (host.to_string(), port)
            }
            _ => (rest.to_string(), 2375),
        };
        if host.is_empty() {
            return Err(ConnectError::BadEndpoint {
                endpoint: value.to_string(),
                detail: "the host name is empty".into(),
            });
        }
        Ok(Endpoint::Tcp { host, port, tls: None })
    }

    /// The address itself, without the context that named it.
    pub fn target(&self) -> &Endpoint {
        match self {
            Endpoint::Context { endpoint, .. } | Endpoint::Found { endpoint, .. } => {
                endpoint.target()
            }
            other => other,
        }
    }

    /// Whether the engine runs on this machine, so its containers' cgroup and /proc
    /// files can be read directly instead of asking the engine for stats.
    pub fn is_local(&self) -> bool {
        match self {
            Endpoint::Unix(_) => true,
            Endpoint::Tcp { host, .. } => {
                matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]" | "::1")
            }
            // Its containers' files are on the far side of the ssh connection.
            Endpoint::Ssh(_) => false,
            Endpoint::Context { endpoint, .. } | Endpoint::Found { endpoint, .. } => {
                endpoint.is_local()
            }
        }
    }

    /// The ssh tunnel this endpoint goes through, if it does: its host's files can be
    /// read through a shell on it.
    pub fn ssh_tunnel(&self) -> Option<&SshTunnel> {
        match self {
            Endpoint::Ssh(tunnel) => Some(tunnel),
            Endpoint::Context { endpoint, .. } | Endpoint::Found { endpoint, .. } => {
                endpoint.ssh_tunnel()
            }
            Endpoint::Unix(_) | Endpoint::Tcp { .. } => None,
        }
    }
}

impl Endpoint {
    /// A short name for panes that show several engines: the context's name, `local`
    /// for the usual socket, what a found socket is (`desktop`, `podman`...), the host
    /// of a tcp or ssh address.
    pub fn short_name(&self) -> String {
        match self {
            Endpoint::Context { name, .. } => name.clone(),
            Endpoint::Found { kind, .. } => kind.label().to_string(),
            Endpoint::Unix(path) => {
                if path == Path::new("/var/run/docker.sock")
                    || path == Path::new("/run/docker.sock")
                {
                    "local".to_string()
                } else {
                    path.display().to_string()
                }
            }
            Endpoint::Tcp { host, port, .. } => {
                if *port == 2375 || *port == 2376 {
                    host.clone()
                } else {
                    format!("{host}:{port}")
                }
            }
            Endpoint::Ssh(tunnel) => {
                let target = &tunnel.target;
                match &target.user {
                    Some(user) => format!("{user}@{}", target.host),
                    None => target.host.clone(),
                }
            }
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "unix://{}", path.display()),
            Endpoint::Tcp { host, port, .. } => write!(f, "tcp://{host}:{port}"),
            Endpoint::Ssh(tunnel) => write!(f, "{}", tunnel.target),
            Endpoint::Context { name, endpoint } => write!(f, "{name} ({endpoint})"),
            Endpoint::Found { kind, endpoint } => write!(f, "{} ({endpoint})", kind.label()),
        }
    }
}

impl ConnectError {
    /// Classifies an I/O error from opening a connection to `endpoint`.
    pub fn from_io(endpoint: &Endpoint, error: &io::Error) -> ConnectError {
        let shown = endpoint.to_string();
        let path = match endpoint {
            Endpoint::Unix(path) => path.display().to_string(),
            _ => shown.clone(),
        };
        match error.kind() {
            io::ErrorKind::NotFound => ConnectError::NoSuchSocket { path },
            io::ErrorKind::PermissionDenied => ConnectError::PermissionDenied { path },
            io::ErrorKind::ConnectionRefused => ConnectError::Refused { endpoint: shown },
            io::ErrorKind::TimedOut => ConnectError::TimedOut { endpoint: shown, seconds: 3 },
            _ => ConnectError::Other { endpoint: shown, detail: error.to_string() },
        }
    }
}

/// Opens and closes one raw connection, so that the failure can be named precisely
/// (bollard folds all of these into one error).
pub async fn probe(endpoint: &Endpoint, limit: Duration) -> Result<(), ConnectError> {
    let endpoint = endpoint.target();
    let timed_out = || ConnectError::TimedOut {
        endpoint: endpoint.to_string(),
        seconds: limit.as_secs().max(1),
    };
    match endpoint {
        Endpoint::Unix(path) => {
            match tokio::time::timeout(limit, tokio::net::UnixStream::connect(path)).await {
                Err(_) => Err(timed_out()),
                Ok(Err(e)) => Err(ConnectError::from_io(endpoint, &e)),
                Ok(Ok(_)) => Ok(()),
            }
        }
        // The tunnel's own first connection is the probe.
        Endpoint::Ssh(_) | Endpoint::Context { .. } | Endpoint::Found { .. } => Ok(()),
        Endpoint::Tcp { host, port, .. } => {
            let lookup = tokio::net::lookup_host((host.as_str(), *port));
            let addrs: Vec<_> = match tokio::time::timeout(limit, lookup).await {
                Err(_) => return Err(timed_out()),
                Ok(Err(_)) => return Err(ConnectError::UnknownHost { host: host.clone() }),
                Ok(Ok(addrs)) => addrs.collect(),
            };
            let Some(addr) = addrs.first() else {
                return Err(ConnectError::UnknownHost { host: host.clone() });
            };
            match tokio::time::timeout(limit, tokio::net::TcpStream::connect(addr)).await {
                Err(_) => Err(timed_out()),
                Ok(Err(e)) => Err(ConnectError::from_io(endpoint, &e)),
                Ok(Ok(_)) => Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_env_beats_default() {
        assert_eq!(
            Endpoint::resolve(None, None).expect("default"),
            Endpoint::Unix(PathBuf::from(DEFAULT_SOCKET))
        );
        assert_eq!(
            Endpoint::resolve(None, Some("tcp://10.0.0.2:2376")).expect("env"),
            Endpoint::Tcp { host: "10.0.0.2".into(), port: 2376, tls: None }
        );
        assert_eq!(
            Endpoint::resolve(Some("unix:///tmp/d.sock"), Some("tcp://x:1")).expect("flag"),
            Endpoint::Unix(PathBuf::from("/tmp/d.sock"))
        );
        assert_eq!(
            Endpoint::resolve(None, Some("  ")).expect("blank env"),
            Endpoint::resolve(None, None).expect("default")
        );
    }

    #[test]
    fn parses_and_prints_addresses() {
        assert_eq!(
            Endpoint::parse("tcp://dockerhost").expect("ok").to_string(),
            "tcp://dockerhost:2375"
        );
        assert_eq!(
            Endpoint::parse("/run/docker.sock").expect("ok").to_string(),
            "unix:///run/docker.sock"
        );
        assert!(matches!(
            Endpoint::parse("tcp://host:http"),
            Err(ConnectError::BadEndpoint { .. })
        ));
        assert_eq!(
            Endpoint::parse("ssh://me@box:2222").expect("ok").to_string(),
            "ssh://me@box:2222"
        );
        assert!(!Endpoint::parse("ssh://me@localhost").expect("ok").is_local());
        assert!(matches!(Endpoint::parse("ssh://me@box/x"), Err(ConnectError::BadEndpoint { .. })));
        assert!(matches!(Endpoint::parse("unix://"), Err(ConnectError::BadEndpoint { .. })));
        assert!(matches!(Endpoint::parse("tcp://:80"), Err(ConnectError::BadEndpoint { .. })));
    }

    #[test]
    fn a_context_shows_its_name_and_keeps_its_target() {
        let inner = Endpoint::parse("tcp://10.0.0.5:2376").expect("ok");
        let context = Endpoint::Context { name: "prod".into(), endpoint: Box::new(inner.clone()) };
        assert_eq!(context.to_string(), "prod (tcp://10.0.0.5:2376)");
        assert_eq!(context.target(), &inner);
        assert!(!context.is_local());
        let local = Endpoint::Context {
            name: "here".into(),
            endpoint: Box::new(Endpoint::Unix(DEFAULT_SOCKET.into())),
        };
        assert!(local.is_local());
    }

    #[test]
    fn io_errors_are_named() {
        let unix = Endpoint::Unix(PathBuf::from("/nope.sock"));
        let e = |kind| ConnectError::from_io(&unix, &io::Error::from(kind));
        assert_eq!(e(io::ErrorKind::NotFound).to_string(), "no such socket: /nope.sock");
        assert_eq!(
            e(io::ErrorKind::PermissionDenied).to_string(),
            "permission denied on /nope.sock"
        );
        assert_eq!(
            e(io::ErrorKind::ConnectionRefused).to_string(),
            "connection refused at unix:///nope.sock"
        );
    }
}

//! Whether a container's published ports answer, on the operator's request: one TCP
//! connect per port, all at once, each within [`CONNECT_TIMEOUT`], and for a port
//! that accepts, a `HEAD / HTTP/1.0` to learn whether it speaks HTTP. Nothing here
//! polls; the result leaves as one `Update::PortsChecked`.
//!
//! The dialling happens from where portolan runs, so which address to dial depends on
//! where the engine is ([`vantage`], [`dial_address`]): a local engine's ports are
//! dialled on loopback, a remote engine's on its host name, and a port published on a
//! specific address on that address. A remote answer is only true "from here": a
//! firewall between may hide a port that listens on the engine's host.

use std::io;
use std::net::IpAddr;
use std::time::Duration;

use chrono::Utc;
use futures_util::future::join_all;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::endpoint::Endpoint;
use crate::model::ports::{PortCheck, PortOutcome, PortProbe, Vantage, http_status};
use crate::model::{HostId, Port, Update};

/// How long one port has to accept a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long a port that accepted has to answer the `HEAD /`.
pub const HTTP_TIMEOUT: Duration = Duration::from_millis(1000);
/// The most ports dialled in one check; a container publishing a range of thousands
/// gets the first ones checked and the rest said so.
pub const MAX_PORTS: usize = 64;
/// How long a port that accepted is listened to before it is spoken to: long enough
/// for Docker's proxy to find nothing behind it and close (a local connect to the
/// container), short enough not to slow the check.
const FIRST_WORD: Duration = Duration::from_millis(300);
/// Bytes of an answer read at most: enough for a status line.
const ANSWER_LIMIT: usize = 64;

/// Container ports whose protocol is known not to be HTTP: they are only connected
/// to, never sent a request that a database would log as a bad handshake.
const NOT_HTTP: &[u16] = &[
    21, 22, 23, 25, 53, 110, 143, 389, 465, 587, 993, 995, 1433, 1521, 1883, 2181, 3306, 4222,
    5432, 5672, 6379, 9042, 9092, 11211, 27017,
];

/// What the UI asks: check these published ports of container `id` on engine `host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortCheckRequest {
    pub host: HostId,
    pub id: String,
    pub ports: Vec<Port>,
}

/// Where the dialling happens from, relative to the engine at `endpoint`.
pub fn vantage(endpoint: &Endpoint) -> Vantage {
    if endpoint.is_local() {
        return Vantage::Local;
    }
    if let Some(tunnel) = endpoint.ssh_tunnel() {
        return Vantage::SshHost(tunnel.target.host.clone());
    }
    match endpoint.target() {
        Endpoint::Tcp { host, .. } => Vantage::EngineHost(
            host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host).to_string(),
        ),
        // A socket path is always local; kept total for the compiler.
        other => Vantage::EngineHost(other.short_name()),
    }
}

/// The host to dial for a port published on `host_ip`, or why it is not dialled.
///
/// - A local engine: a port on every address (`0.0.0.0`, `::`, none) is dialled on
///   loopback (`127.0.0.1`, `::1`); a port on a specific address on that address.
/// - A remote engine: a port on every address is dialled on the engine's host name; a
///   port on a specific address on that address, unless it is the engine host's own
///   loopback, which nobody else can reach.
pub fn dial_address(vantage: &Vantage, host_ip: Option<&str>) -> Result<String, String> {
    let ip = host_ip.map(str::trim).filter(|ip| !ip.is_empty());
    let parsed = ip.and_then(|ip| ip.parse::<IpAddr>().ok());
    let everywhere = ip.is_none() || parsed.is_some_and(|ip| ip.is_unspecified());
    match vantage {
        Vantage::Local => match parsed {
            Some(IpAddr::V6(v6)) if v6.is_unspecified() => Ok("::1".to_string()),
            _ if everywhere => Ok("127.0.0.1".to_string()),
            _ => Ok(ip.unwrap_or_default().to_string()),
        },
        Vantage::EngineHost(host) | Vantage::SshHost(host) => {
            if everywhere {
                Ok(host.clone())
            } else if parsed.is_some_and(|ip| ip.is_loopback()) {
                Err("on the engine host's loopback only: not reachable from here".to_string())
            } else {
                Ok(ip.unwrap_or_default().to_string())
            }
        }
    }
}

/// What to do with each published port: dial this address, or say why not. A port
/// published on both `0.0.0.0` and `::` (as Docker does) is dialled once, on IPv4.
pub fn plan(vantage: &Vantage, ports: &[Port]) -> Vec<(Port, Result<String, String>)> {
    let unspecified = |p: &Port, v6: bool| {
        let ip = p.host_ip.as_deref().and_then(|ip| ip.parse::<IpAddr>().ok());
        ip.is_some_and(|ip| ip.is_unspecified() && ip.is_ipv6() == v6)
    };
    let mut out: Vec<(Port, Result<String, String>)> = Vec::new();
    for port in ports.iter().filter(|p| p.is_published()) {
        let twin = unspecified(port, true)
            && ports.iter().any(|other| {
                unspecified(other, false)
                    && other.host_port == port.host_port
                    && other.protocol == port.protocol
            });
        if twin {
            continue;
        }
        let target = if port.protocol != "tcp" {
            Err(format!("{}: not checked", port.protocol))
        } else if out.len() >= MAX_PORTS {
            Err(format!("not checked: only the first {MAX_PORTS} ports are"))
        } else {
            dial_address(vantage, port.host_ip.as_deref())
        };
        let duplicate = out.iter().any(|(p, t)| {
            p.host_port == port.host_port && p.protocol == port.protocol && t == &target
        });
        if !duplicate {
            out.push((port.clone(), target));
        }
    }
    out
}

/// Checks every published port of the request at once and sends the result.
pub async fn run(vantage: Vantage, request: PortCheckRequest, updates: mpsc::Sender<Update>) {
    let check = check(vantage, request.id, &request.ports).await;
    let _ = updates.send(Update::PortsChecked(Box::new(check))).await;
}

/// Checks every published port in `ports` at once: within [`CONNECT_TIMEOUT`],
/// [`FIRST_WORD`] and [`HTTP_TIMEOUT`] however many there are.
pub async fn check(vantage: Vantage, id: String, ports: &[Port]) -> PortCheck {
    let probes = plan(&vantage, ports).into_iter().map(|(port, target)| async move {
        match target {
            Err(why) => PortProbe { port, address: None, outcome: PortOutcome::NotChecked(why) },
            Ok(address) => {
                let outcome =
                    probe(&address, port.host_port.unwrap_or(0), port.container_port).await;
                PortProbe { port, address: Some(address), outcome }
            }
        }
    });
    let probes = join_all(probes).await;
    PortCheck { id, at: Utc::now(), vantage, probes }
}

/// Dials one port and, when it accepts, asks it `HEAD /`.
async fn probe(address: &str, port: u16, container_port: u16) -> PortOutcome {
    let connect = async {
        let mut addrs = tokio::net::lookup_host((address, port))
            .await
            .map_err(|_| PortOutcome::Failed(format!("unknown host {address}")))?;
        let addr =
            addrs.next().ok_or_else(|| PortOutcome::Failed(format!("unknown host {address}")))?;
        TcpStream::connect(addr).await.map_err(|e| connect_error(&e))
    };
    let mut stream = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Err(_) => return PortOutcome::TimedOut,
        Ok(Err(outcome)) => return outcome,
        Ok(Ok(stream)) => stream,
    };
    // Listen before speaking. Docker's userland proxy accepts on the host whatever
    // the container does, and closes at once when nothing listens inside: a close
    // before any byte is that. A server that speaks first (ssh, smtp, mysql) is
    // listening and not HTTP, and is not sent a request it would log as garbage.
    let mut first = [0u8; 1];
    match tokio::time::timeout(FIRST_WORD, stream.read(&mut first)).await {
        Ok(Ok(0)) => return PortOutcome::ClosedAtOnce,
        Ok(Err(e)) if is_reset(&e) => return PortOutcome::ClosedAtOnce,
        Ok(_) => return PortOutcome::Listening { http: None },
        Err(_) => {}
    }
    if NOT_HTTP.contains(&container_port) {
        return PortOutcome::Listening { http: None };
    }
    let http = tokio::time::timeout(HTTP_TIMEOUT, ask_http(&mut stream)).await.ok().flatten();
    PortOutcome::Listening { http }
}

fn is_reset(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted)
}

/// Sends `HEAD / HTTP/1.0` and reads at most [`ANSWER_LIMIT`] bytes, up to the first
/// line end: the status code, when the answer is HTTP.
async fn ask_http(stream: &mut TcpStream) -> Option<u16> {
    stream.write_all(b"HEAD / HTTP/1.0\r\n\r\n").await.ok()?;
    let mut answer = [0u8; ANSWER_LIMIT];
    let mut len = 0;
    while len < ANSWER_LIMIT && !answer[..len].contains(&b'\n') {
        match stream.read(&mut answer[len..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => len += n,
        }
    }
    http_status(&answer[..len])
}

/// A failed connect in words.
fn connect_error(error: &io::Error) -> PortOutcome {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => PortOutcome::Refused,
        io::ErrorKind::TimedOut => PortOutcome::TimedOut,
        io::ErrorKind::HostUnreachable => PortOutcome::Failed("no route to host".to_string()),
        io::ErrorKind::NetworkUnreachable => PortOutcome::Failed("network unreachable".to_string()),
        io::ErrorKind::AddrNotAvailable => {
            PortOutcome::Failed("address not available here".to_string())
        }
        io::ErrorKind::PermissionDenied => {
            PortOutcome::Failed("not permitted (a local firewall?)".to_string())
        }
        _ => PortOutcome::Failed(format!("failed: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(ip: Option<&str>, host_port: u16, protocol: &str) -> Port {
        Port {
            host_ip: ip.map(String::from),
            host_port: Some(host_port),
            container_port: 80,
            protocol: protocol.into(),
        }
    }

    #[test]
    fn a_local_engine_dials_loopback_for_every_address() {
        let local = Vantage::Local;
        assert_eq!(dial_address(&local, Some("0.0.0.0")).as_deref(), Ok("127.0.0.1"));
        assert_eq!(dial_address(&local, Some("::")).as_deref(), Ok("::1"));
        assert_eq!(dial_address(&local, None).as_deref(), Ok("127.0.0.1"));
        assert_eq!(dial_address(&local, Some("")).as_deref(), Ok("127.0.0.1"));
        assert_eq!(dial_address(&local, Some("127.0.0.1")).as_deref(), Ok("127.0.0.1"));
        assert_eq!(dial_address(&local, Some("192.168.1.20")).as_deref(), Ok("192.168.1.20"));
    }

    #[test]
    fn a_remote_engine_dials_its_host_or_the_address_published_on() {
        let remote = Vantage::EngineHost("docker1.example.com".into());
        assert_eq!(dial_address(&remote, Some("0.0.0.0")).as_deref(), Ok("docker1.example.com"));
        assert_eq!(dial_address(&remote, Some("::")).as_deref(), Ok("docker1.example.com"));
        assert_eq!(dial_address(&remote, Some("10.0.0.7")).as_deref(), Ok("10.0.0.7"));
        assert!(dial_address(&remote, Some("127.0.0.1")).is_err(), "its loopback is its own");
        let ssh = Vantage::SshHost("box".into());
        assert_eq!(dial_address(&ssh, None).as_deref(), Ok("box"));
        assert!(dial_address(&ssh, Some("::1")).is_err());
    }

    #[test]
    fn the_vantage_follows_the_endpoint() {
        let parse = |s: &str| Endpoint::parse(s).expect("endpoint");
        assert_eq!(vantage(&parse("unix:///var/run/docker.sock")), Vantage::Local);
        assert_eq!(vantage(&parse("tcp://localhost:2375")), Vantage::Local);
        assert_eq!(
            vantage(&parse("tcp://docker1.example.com:2376")),
            Vantage::EngineHost("docker1.example.com".into())
        );
        assert_eq!(vantage(&parse("tcp://[fd00::5]:2376")), Vantage::EngineHost("fd00::5".into()));
        assert_eq!(vantage(&parse("ssh://ops@web1:2222")), Vantage::SshHost("web1".into()));
        let context = Endpoint::Context {
            name: "prod".into(),
            endpoint: Box::new(parse("tcp://10.1.2.3:2376")),
        };
        assert_eq!(vantage(&context), Vantage::EngineHost("10.1.2.3".into()));
    }

    #[test]
    fn the_plan_dials_each_port_once_and_says_why_it_skips() {
        let ports = vec![
            port(Some("0.0.0.0"), 8080, "tcp"),
            port(Some("::"), 8080, "tcp"),
            port(Some("0.0.0.0"), 5353, "udp"),
            Port { host_ip: None, host_port: None, container_port: 9000, protocol: "tcp".into() },
            port(Some("::"), 9443, "tcp"),
        ];
        let plan = plan(&Vantage::Local, &ports);
        let shown: Vec<(u16, Result<String, String>)> =
            plan.into_iter().map(|(p, t)| (p.host_port.unwrap_or(0), t)).collect();
        assert_eq!(
            shown,
            vec![
                (8080, Ok("127.0.0.1".to_string())),
                (5353, Err("udp: not checked".to_string())),
                (9443, Ok("::1".to_string())),
            ]
        );
        let many: Vec<Port> = (1..=100).map(|n| port(None, 10_000 + n, "tcp")).collect();
        let plan = super::plan(&Vantage::Local, &many);
        assert_eq!(plan.len(), 100);
        assert_eq!(plan.iter().filter(|(_, t)| t.is_ok()).count(), MAX_PORTS);
    }

    #[tokio::test]
    async fn a_listener_answers_and_a_closed_port_refuses() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let open = listener.local_addr().expect("addr").port();
        // A port that was bound and released: nothing listens there now.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut request = [0u8; 64];
            let _ = socket.read(&mut request).await;
            let _ = socket.write_all(b"HTTP/1.0 418 I'm a teapot\r\n\r\n").await;
        });
        let ports =
            vec![port(Some("127.0.0.1"), open, "tcp"), port(Some("127.0.0.1"), closed, "tcp")];
        let check = check(Vantage::Local, "c".into(), &ports).await;
        server.await.expect("server");
        assert_eq!(check.probes[0].outcome, PortOutcome::Listening { http: Some(418) });
        assert_eq!(check.probes[1].outcome, PortOutcome::Refused);
        assert_eq!(check.probes[0].url(), Some(format!("http://127.0.0.1:{open}/")));
    }

    #[tokio::test]
    async fn a_close_before_a_word_is_a_proxy_with_nothing_behind_it_and_a_banner_is_not_http() {
        let closer = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let greeter = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let ports = vec![
            port(None, closer.local_addr().expect("addr").port(), "tcp"),
            port(None, greeter.local_addr().expect("addr").port(), "tcp"),
        ];
        let server = tokio::spawn(async move {
            let (socket, _) = closer.accept().await.expect("accept");
            drop(socket);
            let (mut socket, _) = greeter.accept().await.expect("accept");
            let _ = socket.write_all(b"SSH-2.0-OpenSSH_9.6\r\n").await;
            let mut rest = Vec::new();
            let _ = socket.read_to_end(&mut rest).await;
            assert!(rest.is_empty(), "a server that speaks first is sent nothing");
        });
        let check = check(Vantage::Local, "c".into(), &ports).await;
        server.await.expect("server");
        assert_eq!(check.probes[0].outcome, PortOutcome::ClosedAtOnce);
        assert_eq!(check.probes[1].outcome, PortOutcome::Listening { http: None });
    }

    #[tokio::test]
    async fn a_silent_listener_is_listening_without_http_within_the_bound() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let open = listener.local_addr().expect("addr").port();
        // Accepts and never answers, like a server that waits for its own handshake.
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.expect("accept");
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(socket);
        });
        let started = std::time::Instant::now();
        let check = check(Vantage::Local, "c".into(), &[port(None, open, "tcp")]).await;
        assert!(started.elapsed() < CONNECT_TIMEOUT + FIRST_WORD + HTTP_TIMEOUT);
        assert_eq!(check.probes[0].outcome, PortOutcome::Listening { http: None });
        server.abort();
    }
}

//! Whether a container's published ports answer, as last checked on the operator's
//! request: one TCP connect per port from where portolan runs, never polled. The
//! engine side dials (`engine::ports`); this module holds what it found and the words
//! for it, and the URL of the ports that answered HTTP.

use chrono::{DateTime, Utc};

use super::Port;

/// How a check of one port went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortOutcome {
    /// A connection was accepted. `http` is the status code of the answer to a
    /// `HEAD /`, when the port spoke HTTP.
    Listening { http: Option<u16> },
    /// Nothing listens: the host answered with a reset.
    Refused,
    /// Accepted, then closed before a byte was sent either way: what Docker's
    /// userland proxy does when nothing listens in the container behind it.
    ClosedAtOnce,
    /// No answer within the time allowed (a firewall that drops, a host that is down).
    TimedOut,
    /// Not dialled, and why: `udp: not checked`, a port only the engine's host can reach.
    NotChecked(String),
    /// Any other failure, in words (`no route to host`, `unknown host`).
    Failed(String),
}

impl PortOutcome {
    /// The outcome in words: `listening · HTTP 200`, `refused`, `timed out`.
    pub fn words(&self) -> String {
        match self {
            PortOutcome::Listening { http: Some(code) } => format!("listening · HTTP {code}"),
            PortOutcome::Listening { http: None } => "listening".to_string(),
            PortOutcome::Refused => "refused".to_string(),
            PortOutcome::ClosedAtOnce => {
                "refused in the container (Docker's proxy closed it)".to_string()
            }
            PortOutcome::TimedOut => "timed out".to_string(),
            PortOutcome::NotChecked(why) | PortOutcome::Failed(why) => why.clone(),
        }
    }
}

/// One published port, where it was dialled and what answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortProbe {
    pub port: Port,
    /// The host dialled (an IP address or the engine's host name); None when the
    /// port was not dialled.
    pub address: Option<String>,
    pub outcome: PortOutcome,
}

impl PortProbe {
    /// `http://HOST:PORT/` for a port that answered HTTP, when the address is one a
    /// URL can carry safely (see [`http_url`]).
    pub fn url(&self) -> Option<String> {
        match self.outcome {
            PortOutcome::Listening { http: Some(_) } => {
                http_url(self.address.as_deref()?, self.port.host_port?)
            }
            _ => None,
        }
    }

    /// Where the port was dialled, `127.0.0.1:32768` (`[::1]:32768`), else the port as
    /// published.
    pub fn dialled(&self) -> String {
        let port = self.port.host_port.unwrap_or(0);
        match self.address.as_deref() {
            Some(host) if host.contains(':') => format!("[{host}]:{port}"),
            Some(host) => format!("{host}:{port}"),
            None => match self.port.host_ip.as_deref() {
                Some(ip) if ip.contains(':') => format!("[{ip}]:{port}"),
                Some(ip) => format!("{ip}:{port}"),
                None => port.to_string(),
            },
        }
    }
}

/// Where the dialling happened, relative to the engine: it decides what a result means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vantage {
    /// The engine runs on this machine.
    Local,
    /// The engine is reached over TCP at this host.
    EngineHost(String),
    /// The engine is reached over ssh at this host: the port may listen there and still
    /// be firewalled from here.
    SshHost(String),
}

impl Vantage {
    /// What the results are measured from, in words.
    pub fn words(&self) -> String {
        match self {
            Vantage::Local => "from here".to_string(),
            Vantage::EngineHost(host) => format!("from here, at the engine's host {host}"),
            Vantage::SshHost(host) => {
                format!("from here, at the ssh host {host} (a firewall may hide what listens)")
            }
        }
    }
}

/// One check of all the published ports of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortCheck {
    pub id: String,
    /// When the answers were in.
    pub at: DateTime<Utc>,
    pub vantage: Vantage,
    pub probes: Vec<PortProbe>,
}

impl PortCheck {
    /// The results on one line, for the footer: `32768 listening · HTTP 200, 32769 refused`.
    pub fn summary(&self) -> String {
        if self.probes.is_empty() {
            return "no published ports".to_string();
        }
        let parts: Vec<String> = self
            .probes
            .iter()
            .map(|p| {
                let proto = if p.port.protocol == "tcp" {
                    String::new()
                } else {
                    format!("/{}", p.port.protocol)
                };
                format!("{}{proto} {}", p.port.host_port.unwrap_or(0), p.outcome.words())
            })
            .collect();
        parts.join(", ")
    }

    /// The URLs of the ports that answered HTTP.
    pub fn urls(&self) -> impl Iterator<Item = String> + '_ {
        self.probes.iter().filter_map(PortProbe::url)
    }
}

/// What the model knows of a container's ports: a check under way, the last one done.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortStatus {
    /// Set from the moment the operator asks until the answers are in.
    pub checking_since: Option<DateTime<Utc>>,
    pub last: Option<PortCheck>,
}

/// `http://HOST:PORT/`, or None when `host` is not a plain host name or IP address.
///
/// The URL may be written into an OSC 8 hyperlink, so it is built only from the port
/// number and a host that passes this check: ASCII letters, digits, `.`, `-`, `_`, and
/// `:` for an IPv6 address (which is bracketed). No control characters, no spaces, no
/// `/`, `@`, `?` or `#` that would change what the URL points to.
pub fn http_url(host: &str, port: u16) -> Option<String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    if host.is_empty() || host.len() > 253 || !host.chars().all(plain) || port == 0 {
        return None;
    }
    if host.contains(':') {
        // Only a real IPv6 address may carry colons.
        host.parse::<std::net::Ipv6Addr>().ok()?;
        return Some(format!("http://[{host}]:{port}/"));
    }
    Some(format!("http://{host}:{port}/"))
}

/// Parses the status code out of what a server answered to `HEAD /`: the first line
/// must be `HTTP/<version> <3 digits>` followed by a space, a line end or nothing.
/// Anything else (binary greetings, a line too long, a code out of 100..=599) is not
/// HTTP. Only the first 64 bytes are looked at, however much arrived.
pub fn http_status(answer: &[u8]) -> Option<u16> {
    let head = &answer[..answer.len().min(64)];
    let rest = head.strip_prefix(b"HTTP/")?;
    let space = rest.iter().position(|b| *b == b' ')?;
    let version = &rest[..space];
    if version.is_empty()
        || version.len() > 3
        || !version.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        || !version[0].is_ascii_digit()
    {
        return None;
    }
    let after = &rest[space + 1..];
    let digits = after.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if !matches!(after.get(3), None | Some(b' ' | b'\r' | b'\n')) {
        return None;
    }
    let code = digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    (100..=599).contains(&code).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_line_gives_its_code() {
        assert_eq!(http_status(b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n"), Some(200));
        assert_eq!(http_status(b"HTTP/1.0 404 Not Found\r\n"), Some(404));
        assert_eq!(http_status(b"HTTP/2 301\r\n"), Some(301));
        assert_eq!(http_status(b"HTTP/1.1 204"), Some(204), "a short read without a line end");
    }

    #[test]
    fn hostile_answers_are_not_http() {
        assert_eq!(http_status(b""), None);
        assert_eq!(http_status(b"SSH-2.0-OpenSSH_9.6\r\n"), None);
        assert_eq!(http_status(&[0x4a, 0, 0, 0, 0x0a, b'8', b'.', 0xff, 0xfe]), None, "binary");
        assert_eq!(http_status(b"HTTP/1.1 2000 OK\r\n"), None, "four digits");
        assert_eq!(http_status(b"HTTP/1.1 20\r\n"), None, "two digits");
        assert_eq!(http_status(b"HTTP/1.1 999 Nope\r\n"), None, "out of range");
        assert_eq!(http_status(b"HTTP/1.1 abc\r\n"), None);
        assert_eq!(http_status(b"HTTP/ 200 OK"), None, "no version");
        assert_eq!(http_status(b"HTTP/x.y 200 OK"), None);
        assert_eq!(http_status(b"http/1.1 200 OK"), None, "the protocol name is upper case");
        assert_eq!(http_status(b" HTTP/1.1 200 OK"), None);
        // A huge first line with no newline: the code is never found past 64 bytes.
        let mut huge = b"HTTP/1.1".to_vec();
        huge.extend(std::iter::repeat_n(b'1', 100_000));
        huge.extend(b" 200 OK");
        assert_eq!(http_status(&huge), None);
        let mut padded = b"HTTP/".to_vec();
        padded.extend(std::iter::repeat_n(b' ', 80));
        assert_eq!(http_status(&padded), None);
        assert_eq!(http_status(b"HTTP/1.1 200\x1b]8;;evil\x07"), None, "an escape after the code");
    }

    #[test]
    fn a_url_carries_only_a_plain_host_and_the_port() {
        assert_eq!(http_url("127.0.0.1", 8080).as_deref(), Some("http://127.0.0.1:8080/"));
        assert_eq!(http_url("::1", 32768).as_deref(), Some("http://[::1]:32768/"));
        assert_eq!(
            http_url("docker-1.example.com", 80).as_deref(),
            Some("http://docker-1.example.com:80/")
        );
        for bad in [
            "",
            "host name",
            "evil\x1b]8;;x\x07",
            "a\u{7}",
            "user@host",
            "host/path",
            "host?q",
            "hôte",
            "1:2:3",
            "[::1]",
        ] {
            assert_eq!(http_url(bad, 80), None, "{bad:?}");
        }
        assert_eq!(http_url("localhost", 0), None);
    }

    fn probe(
        host_port: u16,
        protocol: &str,
        address: Option<&str>,
        outcome: PortOutcome,
    ) -> PortProbe {
        PortProbe {
            port: Port {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(host_port),
                container_port: 8080,
                protocol: protocol.into(),
            },
            address: address.map(String::from),
            outcome,
        }
    }

    #[test]
    fn a_check_sums_up_in_words_and_links_only_http() {
        let check = PortCheck {
            id: "c1".into(),
            at: DateTime::UNIX_EPOCH,
            vantage: Vantage::Local,
            probes: vec![
                probe(32768, "tcp", Some("127.0.0.1"), PortOutcome::Listening { http: Some(200) }),
                probe(32769, "tcp", Some("127.0.0.1"), PortOutcome::Refused),
                probe(32770, "tcp", Some("127.0.0.1"), PortOutcome::Listening { http: None }),
                probe(53, "udp", None, PortOutcome::NotChecked("udp: not checked".into())),
            ],
        };
        assert_eq!(
            check.summary(),
            "32768 listening · HTTP 200, 32769 refused, 32770 listening, 53/udp udp: not checked"
        );
        assert_eq!(check.urls().collect::<Vec<_>>(), vec!["http://127.0.0.1:32768/"]);
        assert_eq!(check.probes[3].dialled(), "127.0.0.1:53");
        let v6 = probe(1, "tcp", Some("::1"), PortOutcome::TimedOut);
        assert_eq!(v6.dialled(), "[::1]:1");
        assert_eq!(v6.outcome.words(), "timed out");
    }
}

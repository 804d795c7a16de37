//! `portolan record --metrics ADDR`: the model as Prometheus' text exposition format,
//! so every host's recorder feeds the Prometheus a fleet already runs.
//!
//! The text is written from the model only when a scrape asks for it (the server
//! task sends the state owner a request and waits for the answer): an unscraped
//! recorder spends nothing on it. Container names and labels are the containers'
//! own, so every label value is escaped as the format requires.

use std::fmt::Write;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::model::{ContainerState, HealthStatus, Model};
use crate::triage;

/// A scrape waiting for the text.
pub type Scrape = oneshot::Sender<String>;

/// The longest request read: a scrape's request line and headers are far smaller.
const REQUEST_MAX: usize = 16 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Escapes a label value: backslash, double quote and line feed, as the format says.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            // Other control characters are legal but useless in a label: a space.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

struct Family<'a> {
    name: &'a str,
    kind: &'a str,
    help: &'a str,
    samples: Vec<(String, f64)>,
}

impl<'a> Family<'a> {
    fn new(name: &'a str, kind: &'a str, help: &'a str) -> Self {
        Family { name, kind, help, samples: Vec::new() }
    }

    fn add(&mut self, labels: &str, value: f64) {
        self.samples.push((labels.to_string(), value));
    }

    fn write(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind);
        for (labels, value) in &self.samples {
            if value.is_finite() {
                let _ = writeln!(out, "{}{{{labels}}} {value}", self.name);
            }
        }
    }
}

/// The exposition text of everything the model knows now.
pub fn render(model: &Model, now: DateTime<Utc>) -> String {
    let mut up =
        Family::new("portolan_engine_up", "gauge", "Whether the engine answers (1) or not (0).");
    for host in &model.hosts {
        let labels = format!("engine=\"{}\"", escape(&host.name));
        up.add(&labels, if host.connection.is_connected() { 1.0 } else { 0.0 });
    }
    let mut running = Family::new(
        "portolan_container_running",
        "gauge",
        "Whether the container runs (1) or not (0).",
    );
    let mut health = Family::new(
        "portolan_container_health",
        "gauge",
        "The container's health: 1 for its current status, one series per status it can have.",
    );
    let mut restarts = Family::new(
        "portolan_container_restarts_total",
        "counter",
        "Restarts the engine counted for the container.",
    );
    let mut cpu = Family::new(
        "portolan_container_cpu_percent",
        "gauge",
        "CPU use, in percent of one core, over the last sample.",
    );
    let mut memory = Family::new(
        "portolan_container_memory_bytes",
        "gauge",
        "Memory in use, without the page cache.",
    );
    let mut memory_limit = Family::new(
        "portolan_container_memory_limit_bytes",
        "gauge",
        "The memory limit (the host's memory when unlimited).",
    );
    let mut rx = Family::new(
        "portolan_container_network_receive_bytes_total",
        "counter",
        "Bytes received on every interface.",
    );
    let mut tx = Family::new(
        "portolan_container_network_transmit_bytes_total",
        "counter",
        "Bytes sent on every interface.",
    );
    let mut read = Family::new(
        "portolan_container_block_read_bytes_total",
        "counter",
        "Bytes read from block devices.",
    );
    let mut write = Family::new(
        "portolan_container_block_write_bytes_total",
        "counter",
        "Bytes written to block devices.",
    );
    for c in model.containers.values() {
        let engine = &model.host(c.host).name;
        let labels = format!(
            "engine=\"{}\",container=\"{}\",project=\"{}\",service=\"{}\"",
            escape(engine),
            escape(&c.name),
            escape(c.project().unwrap_or("")),
            escape(c.service().unwrap_or(""))
        );
        running.add(&labels, if c.state == ContainerState::Running { 1.0 } else { 0.0 });
        restarts.add(&labels, c.restart_count as f64);
        if c.health.is_some() {
            let status = c.health_status();
            for (word, each) in [
                ("healthy", HealthStatus::Healthy),
                ("unhealthy", HealthStatus::Unhealthy),
                ("starting", HealthStatus::Starting),
            ] {
                health.add(
                    &format!("{labels},status=\"{word}\""),
                    if status == each { 1.0 } else { 0.0 },
                );
            }
        }
        let Some(point) = model.stats.get(&c.id).and_then(|s| s.latest()) else { continue };
        if c.state != ContainerState::Running {
            continue;
        }
        let add = |family: &mut Family<'_>, value: Option<f64>| {
            if let Some(value) = value {
                family.add(&labels, value);
            }
        };
        add(&mut cpu, point.cpu_percent);
        add(&mut memory, point.memory_bytes.map(|v| v as f64));
        add(&mut memory_limit, point.memory_limit_bytes.map(|v| v as f64));
        add(&mut rx, point.net_rx_bytes.map(|v| v as f64));
        add(&mut tx, point.net_tx_bytes.map(|v| v as f64));
        add(&mut read, point.block_read_bytes.map(|v| v as f64));
        add(&mut write, point.block_write_bytes.map(|v| v as f64));
    }
    let mut problems =
        Family::new("portolan_problems_open", "gauge", "Problems open now, by engine and kind.");
    let open = triage::problems(model, now, None);
    for host in 0..model.hosts.len() {
        for kind in PROBLEM_KINDS {
            let count = open.iter().filter(|p| p.host == host && p.kind == *kind).count();
            let labels =
                format!("engine=\"{}\",kind=\"{}\"", escape(&model.host(host).name), kind.as_str());
            problems.add(&labels, count as f64);
        }
    }
    let mut out = String::new();
    for family in [
        &up,
        &running,
        &health,
        &restarts,
        &cpu,
        &memory,
        &memory_limit,
        &rx,
        &tx,
        &read,
        &write,
        &problems,
    ] {
        family.write(&mut out);
    }
    out
}

const PROBLEM_KINDS: &[triage::ProblemKind] = &[
    triage::ProblemKind::HostUnreachable,
    triage::ProblemKind::OomKilled,
    triage::ProblemKind::Crashloop,
    triage::ProblemKind::Unhealthy,
    triage::ProblemKind::Exited,
    triage::ProblemKind::DependencyDown,
    triage::ProblemKind::ServiceDegraded,
    triage::ProblemKind::TaskFailed,
    triage::ProblemKind::HealthNotRun,
];

/// Why the metrics endpoint could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot serve metrics on {address}: {detail}")]
pub struct ServeError {
    pub address: String,
    pub detail: String,
}

/// Listens on `address`; each scrape asks `scrapes` for the text.
pub async fn bind(address: &str) -> Result<TcpListener, ServeError> {
    let parsed: SocketAddr = address.parse().map_err(|_| ServeError {
        address: address.to_string(),
        detail: "not an address like 127.0.0.1:9323 or [::1]:9323".into(),
    })?;
    TcpListener::bind(parsed)
        .await
        .map_err(|e| ServeError { address: address.to_string(), detail: e.to_string() })
}

/// Serves scrapes until the listener fails or nobody answers them.
pub async fn serve(listener: TcpListener, scrapes: mpsc::Sender<Scrape>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { continue };
        let scrapes = scrapes.clone();
        tokio::spawn(async move {
            let request = tokio::time::timeout(REQUEST_TIMEOUT, read_request(&mut stream)).await;
            let response = match request {
                Ok(Some(path)) if path == "/metrics" || path == "/" => {
                    let (reply, answer) = oneshot::channel();
                    if scrapes.send(reply).await.is_err() {
                        return;
                    }
                    let Ok(body) = answer.await else { return };
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                }
                Ok(Some(_)) => "HTTP/1.1 404 Not Found\r\nContent-Length: 21\r\nConnection: close\r\n\r\nonly /metrics is here".to_string(),
                _ => "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
            };
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

/// The path of a `GET` request, once its headers have arrived; `None` for anything else.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") && !buffer.windows(2).any(|w| w == b"\n\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buffer.len() + n > REQUEST_MAX {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buffer);
    let line = text.lines().next()?;
    let mut parts = line.split_whitespace();
    (parts.next()? == "GET").then_some(())?;
    let target = parts.next()?;
    Some(target.split('?').next().unwrap_or(target).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Container, Inventory, Update};

    #[test]
    fn label_values_from_containers_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd\x1be"), "a\\\"b\\\\c\\nd e");
    }

    #[test]
    fn every_family_has_help_and_type_and_values_are_labelled() {
        let now = Utc::now();
        let mut model = Model::new("local", now);
        model.apply(Update::Connected { at: now, info: Box::default() });
        let mut c = Container::new("abc", "evil\"name\nx");
        c.state = ContainerState::Running;
        c.restart_count = 3;
        model.apply(Update::Synced(Box::new(Inventory {
            containers: vec![c],
            ..Inventory::default()
        })));
        let text = render(&model, now);
        assert!(text.contains("portolan_engine_up{engine=\"local\"} 1"), "{text}");
        assert!(text.contains("container=\"evil\\\"name\\nx\""), "{text}");
        assert!(text.contains("portolan_container_restarts_total{"), "{text}");
        assert!(
            text.contains("portolan_problems_open{engine=\"local\",kind=\"unhealthy\"} 0"),
            "{text}"
        );
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split('{').next().unwrap_or_default();
            assert!(text.contains(&format!("# TYPE {name} ")), "no TYPE for {name}");
        }
    }
}

//! Alerts from the recorder: a message when a problem begins and another when it
//! ends, to a webhook (JSON), an ntfy-style topic (text) or a command, so that
//! nobody has to keep a terminal open.
//!
//! [`AlertBook`] is the pure part: which rule hears of which problem, once per
//! incident (a problem that comes back within the rule's quiet span is the same
//! incident flapping, and is not told again), at most `per_minute` messages a rule
//! (the rest are counted and the next message says how many). [`deliver`] sends
//! them, one rule's messages in order, with a few retries.

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use tokio::sync::mpsc;

use super::ProblemRow;

/// Where a rule's messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertTarget {
    /// `POST` of the message as JSON to an `http://` URL.
    Webhook(String),
    /// `POST` of the message as text to an ntfy-style topic URL, with a title.
    Ntfy(String),
    /// A program run with the message as JSON on its standard input.
    Command(Vec<String>),
}

/// One `[[alerts]]` entry of the config.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    pub name: String,
    /// Problem kinds (`unhealthy`, `crashloop`...) the rule hears of; empty: all.
    pub kinds: Vec<String>,
    /// Only this compose project, when set.
    pub project: Option<String>,
    pub target: AlertTarget,
    /// A problem back within this long after it ended is not told again.
    pub quiet: StdDuration,
    pub per_minute: u32,
    /// Alert when a running container's CPU stays above this share of its limit (of
    /// the host's CPUs when it has none), in percent, for `hold`.
    pub cpu_percent_of_limit: Option<f64>,
    /// Alert when its memory stays above this share of its limit, in percent.
    pub memory_percent: Option<f64>,
    /// How long a threshold must be crossed before it is told; for a log pattern, how
    /// long the log must stay free of it before the incident is told resolved.
    pub hold: StdDuration,
    /// Alert when a line of a container's log matches.
    pub log_pattern: Option<LogPattern>,
    /// Only this compose service (of `project`, when set), for every kind of rule.
    pub service: Option<String>,
}

impl AlertRule {
    /// Whether the rule is about this container at all (its project and service).
    pub fn covers(&self, container: &crate::model::Container) -> bool {
        self.project.as_deref().is_none_or(|p| container.project() == Some(p))
            && self.service.as_deref().is_none_or(|s| container.service() == Some(s))
    }

    /// A rule of thresholds or a log pattern hears of triage's problems only when
    /// it names their kinds: otherwise a rule written for `ERROR` lines would also
    /// page for every stopped container.
    fn hears_problems(&self) -> bool {
        !self.kinds.is_empty()
            || (self.log_pattern.is_none()
                && self.cpu_percent_of_limit.is_none()
                && self.memory_percent.is_none())
    }
}

/// A rule's log regex, compared by its text (a compiled regex has no equality).
#[derive(Debug, Clone)]
pub struct LogPattern(pub regex::Regex);

impl PartialEq for LogPattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

/// The kinds a threshold's alerts carry (never a triage problem's).
pub const CPU_HIGH: &str = "cpu_high";
pub const MEMORY_HIGH: &str = "memory_high";
/// The kind a log pattern's alerts carry.
pub const LOG_MATCH: &str = "log_match";

/// A problem beginning or ending, as the recorder wrote it.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Opened(ProblemRow),
    Closed(ProblemRow, DateTime<Utc>),
}

/// What is sent. Keys are only ever added.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertMessage {
    /// `firing` or `resolved`.
    pub status: &'static str,
    pub rule: String,
    pub engine: String,
    pub kind: String,
    pub container: String,
    pub project: Option<String>,
    pub since: DateTime<Utc>,
    pub since_reconstructed: bool,
    pub ended_at: Option<DateTime<Utc>>,
    pub detail: String,
    /// Messages this rule did not send since the last one, over its rate limit.
    pub suppressed: u64,
    /// One line for a human.
    pub text: String,
}

/// Where an incident a rule told of stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Told as firing.
    Open,
    /// Told as resolved.
    Closed,
    /// Back within the quiet span after it was told resolved: not told again, and
    /// its end is not told either.
    Flapping,
}

#[derive(Debug, Default)]
struct RuleState {
    /// By problem (kind, container id): when it was last told of, and where it stands.
    told: HashMap<(String, String), (DateTime<Utc>, Phase)>,
    /// Messages sent in the current minute, and its start.
    window: Option<(DateTime<Utc>, u32)>,
    suppressed: u64,
}

/// Which rules hear of which transitions.
#[derive(Debug)]
pub struct AlertBook {
    rules: Vec<AlertRule>,
    states: Vec<RuleState>,
}

impl AlertBook {
    pub fn new(rules: Vec<AlertRule>) -> AlertBook {
        let states = rules.iter().map(|_| RuleState::default()).collect();
        AlertBook { rules, states }
    }

    pub fn rules(&self) -> &[AlertRule] {
        &self.rules
    }

    /// The messages `transition` on engine `engine` gives, with the index of each
    /// one's rule.
    ///
    /// `only` names the rule a threshold's transition belongs to: it goes to that rule
    /// alone. A problem's transition (`None`) goes to every rule that wants its kind.
    pub fn hear(
        &mut self,
        engine: &str,
        transition: &Transition,
        now: DateTime<Utc>,
        only: Option<usize>,
    ) -> Vec<(usize, AlertMessage)> {
        let mut out = Vec::new();
        let (row, ended) = match transition {
            Transition::Opened(row) => (row, None),
            Transition::Closed(row, at) => (row, Some(*at)),
        };
        let key = (row.kind.clone(), row.container_id.clone());
        for (index, (rule, state)) in self.rules.iter().zip(&mut self.states).enumerate() {
            if only.is_some_and(|o| o != index) {
                continue;
            }
            if only.is_none()
                && (!rule.hears_problems()
                    || (!rule.kinds.is_empty() && !rule.kinds.contains(&row.kind)))
            {
                continue;
            }
            if rule.project.as_ref().is_some_and(|p| row.project.as_ref() != Some(p)) {
                continue;
            }
            let quiet = Duration::from_std(rule.quiet).unwrap_or(Duration::minutes(5));
            match (ended, state.told.get(&key).copied()) {
                // Back soon after it was told resolved: the same incident flapping.
                (None, Some((told_at, Phase::Closed))) if now - told_at < quiet => {
                    state.told.insert(key.clone(), (told_at, Phase::Flapping));
                    continue;
                }
                (None, Some((_, Phase::Open | Phase::Flapping))) => continue,
                (None, _) => {
                    state.told.insert(key.clone(), (now, Phase::Open));
                }
                (Some(_), Some((_, Phase::Open))) => {
                    state.told.insert(key.clone(), (now, Phase::Closed));
                }
                // The receiver already holds it resolved; the quiet span starts over.
                (Some(_), Some((_, Phase::Flapping))) => {
                    state.told.insert(key.clone(), (now, Phase::Closed));
                    continue;
                }
                // Only what was told is resolved.
                (Some(_), _) => continue,
            }
            let window = state.window.get_or_insert((now, 0));
            if now - window.0 >= Duration::minutes(1) {
                *window = (now, 0);
            }
            if window.1 >= rule.per_minute {
                state.suppressed += 1;
                continue;
            }
            window.1 += 1;
            let suppressed = std::mem::take(&mut state.suppressed);
            out.push((index, message(rule, engine, row, ended, suppressed)));
        }
        // Old incidents are forgotten once every rule's quiet span is over.
        if self.states.iter().any(|s| s.told.len() > 10_000) {
            let longest = self.rules.iter().map(|r| r.quiet).max().unwrap_or_default();
            let cutoff = now - Duration::from_std(longest).unwrap_or(Duration::hours(1));
            for state in &mut self.states {
                state.told.retain(|_, (at, phase)| *phase != Phase::Closed || *at >= cutoff);
            }
        }
        out
    }
}

/// Containers above a rule's thresholds: since when, and whether that was told.
#[derive(Debug, Default)]
pub struct ThresholdWatch {
    over: HashMap<Crossing, (DateTime<Utc>, Option<ProblemRow>)>,
}

/// A rule's threshold of one kind, crossed by one container.
type Crossing = (usize, &'static str, String);

impl ThresholdWatch {
    /// Crossings held long enough (opened) and ended (closed), each with its rule.
    pub fn check(
        &mut self,
        rules: &[AlertRule],
        model: &crate::model::Model,
        now: DateTime<Utc>,
    ) -> Vec<(usize, Transition)> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            if rule.cpu_percent_of_limit.is_none() && rule.memory_percent.is_none() {
                continue;
            }
            let hold = Duration::from_std(rule.hold).unwrap_or(Duration::minutes(5));
            for c in model.containers.values() {
                if !c.state.is_running() || !rule.covers(c) {
                    continue;
                }
                let Some(point) = model.stats.get(&c.id).and_then(|s| s.latest()) else { continue };
                let cpus = c.limits.cpus.or(model.host(c.host).engine.cpus.map(f64::from));
                let cpu = point.cpu_percent.zip(cpus).filter(|(_, n)| *n > 0.0).map(|(p, n)| p / n);
                let checks = [
                    (CPU_HIGH, rule.cpu_percent_of_limit, cpu, "CPU"),
                    (MEMORY_HIGH, rule.memory_percent, point.memory_percent(), "memory"),
                ];
                for (kind, limit, value, what) in checks {
                    let (Some(limit), Some(value)) = (limit, value) else { continue };
                    if value <= limit {
                        continue;
                    }
                    let key = (index, kind, c.id.clone());
                    seen.insert(key.clone());
                    let entry = self.over.entry(key).or_insert((now, None));
                    if entry.1.is_none() && now - entry.0 >= hold {
                        let row = ProblemRow {
                            kind: kind.to_string(),
                            container_id: c.id.clone(),
                            container: c.name.clone(),
                            project: c.project().map(String::from),
                            started_at: entry.0,
                            reconstructed: false,
                            detail: format!(
                                "{what} at {value:.0}% of its limit, over {limit:.0}% for {} s",
                                (now - entry.0).num_seconds()
                            ),
                        };
                        out.push((index, Transition::Opened(row.clone())));
                        entry.1 = Some(row);
                    }
                }
            }
        }
        // What is no longer over (or gone) ends; what was told is resolved.
        let ended: Vec<_> = self.over.keys().filter(|k| !seen.contains(*k)).cloned().collect();
        for key in ended {
            if let Some((_, Some(row))) = self.over.remove(&key) {
                out.push((key.0, Transition::Closed(row, now)));
            }
        }
        out
    }
}

/// Log lines that matched a rule's pattern: one incident per rule and container,
/// open from its first matching line until the log has been free of the pattern
/// for the rule's `for`.
#[derive(Debug, Default)]
pub struct LogWatch {
    open: HashMap<(usize, String), LogIncident>,
}

#[derive(Debug)]
struct LogIncident {
    row: ProblemRow,
    last: DateTime<Utc>,
    lines: u64,
}

/// How much of a matching line an alert quotes.
const QUOTED_LINE: usize = 200;

impl LogWatch {
    /// The containers whose logs some rule reads, by id.
    pub fn followed(
        rules: &[AlertRule],
        model: &crate::model::Model,
    ) -> std::collections::BTreeSet<String> {
        model
            .containers
            .values()
            .filter(|c| rules.iter().any(|r| r.log_pattern.is_some() && r.covers(c)))
            .map(|c| c.id.clone())
            .collect()
    }

    /// One line of `container`'s log (plain text, escapes already dropped): the
    /// incidents it opens.
    pub fn hear(
        &mut self,
        rules: &[AlertRule],
        container: &crate::model::Container,
        line: &str,
        now: DateTime<Utc>,
    ) -> Vec<(usize, Transition)> {
        let mut out = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let Some(pattern) = &rule.log_pattern else { continue };
            if !rule.covers(container) || !pattern.0.is_match(line) {
                continue;
            }
            let key = (index, container.id.clone());
            if let Some(incident) = self.open.get_mut(&key) {
                incident.last = now;
                incident.lines += 1;
                continue;
            }
            let quoted: String =
                crate::model::sanitize::one_line(line).chars().take(QUOTED_LINE).collect();
            let row = ProblemRow {
                kind: LOG_MATCH.to_string(),
                container_id: container.id.clone(),
                container: container.name.clone(),
                project: container.project().map(String::from),
                started_at: now,
                reconstructed: false,
                detail: format!("log matched /{}/: {quoted}", pattern.0.as_str()),
            };
            out.push((index, Transition::Opened(row.clone())));
            self.open.insert(key, LogIncident { row, last: now, lines: 1 });
        }
        out
    }

    /// Incidents whose log has been free of the pattern for the rule's `for`, or
    /// whose container is gone: told resolved, with how many lines matched.
    pub fn check(
        &mut self,
        rules: &[AlertRule],
        model: &crate::model::Model,
        now: DateTime<Utc>,
    ) -> Vec<(usize, Transition)> {
        let mut out = Vec::new();
        self.open.retain(|(index, id), incident| {
            let hold = rules
                .get(*index)
                .and_then(|r| Duration::from_std(r.hold).ok())
                .unwrap_or(Duration::minutes(5));
            let gone = !model.containers.contains_key(id);
            if gone || now - incident.last >= hold {
                let mut row = incident.row.clone();
                let s = if incident.lines == 1 { "" } else { "s" };
                row.detail = format!("{} ({} matching line{s})", row.detail, incident.lines);
                out.push((*index, Transition::Closed(row, now)));
                false
            } else {
                true
            }
        });
        out
    }
}

fn message(
    rule: &AlertRule,
    engine: &str,
    row: &ProblemRow,
    ended: Option<DateTime<Utc>>,
    suppressed: u64,
) -> AlertMessage {
    use crate::model::sanitize::one_line;
    let container = one_line(&row.container).into_owned();
    let detail = one_line(&row.detail).into_owned();
    let mark = if row.reconstructed { "~" } else { "" };
    let since = row.started_at.format("%Y-%m-%d %H:%M:%S UTC");
    let mut text = match ended {
        None => format!("{engine}: {container} {} since {mark}{since}: {detail}", row.kind),
        Some(at) => format!(
            "{engine}: {container} no longer {} (since {mark}{since}, resolved {})",
            row.kind,
            at.format("%H:%M:%S UTC")
        ),
    };
    if suppressed > 0 {
        text.push_str(&format!(" (+{suppressed} more not sent: rate limit)"));
    }
    AlertMessage {
        status: if ended.is_none() { "firing" } else { "resolved" },
        rule: rule.name.clone(),
        engine: engine.to_string(),
        kind: row.kind.clone(),
        container,
        project: row.project.clone(),
        since: row.started_at,
        since_reconstructed: row.reconstructed,
        ended_at: ended,
        detail,
        suppressed,
        text,
    }
}

/// How long one delivery may take, and how often it is tried.
const DELIVERY_LIMIT: StdDuration = StdDuration::from_secs(10);
const TRIES: u32 = 3;

/// Sends a rule's messages in order until the channel closes; `failed` hears of a
/// message that could not be delivered after its tries.
pub async fn deliver(
    target: AlertTarget,
    mut messages: mpsc::UnboundedReceiver<AlertMessage>,
    failed: impl Fn(String),
) {
    while let Some(message) = messages.recv().await {
        let mut last_error = String::new();
        for attempt in 0..TRIES {
            if attempt > 0 {
                tokio::time::sleep(StdDuration::from_secs(1 << attempt)).await;
            }
            match tokio::time::timeout(DELIVERY_LIMIT, send(&target, &message)).await {
                Ok(Ok(())) => {
                    last_error.clear();
                    break;
                }
                Ok(Err(error)) => last_error = error,
                Err(_) => last_error = format!("no answer within {}s", DELIVERY_LIMIT.as_secs()),
            }
        }
        if !last_error.is_empty() {
            failed(format!(
                "alert \"{}\" for {} not delivered: {last_error}",
                message.rule, message.container
            ));
        }
    }
}

async fn send(target: &AlertTarget, message: &AlertMessage) -> Result<(), String> {
    let json = serde_json::to_string(message).map_err(|e| e.to_string())?;
    match target {
        AlertTarget::Webhook(url) => post(url, "application/json", &[], json).await,
        AlertTarget::Ntfy(url) => {
            let title = format!("portolan: {} {}", message.container, message.kind);
            let (priority, tags) = if message.status == "firing" {
                ("high", "warning")
            } else {
                ("default", "white_check_mark")
            };
            let headers = [("Title", title.as_str()), ("Priority", priority), ("Tags", tags)];
            post(url, "text/plain; charset=utf-8", &headers, message.text.clone()).await
        }
        AlertTarget::Command(argv) => run(argv, message, json).await,
    }
}

/// `POST` to an `http://` URL with hyper; the answer must be 2xx.
async fn post(
    url: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: String,
) -> Result<(), String> {
    use http_body_util::Full;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let mut request = hyper::Request::post(uri).header("Content-Type", content_type);
    for (name, value) in headers {
        // Header values carry container names: only what HTTP allows goes out.
        let value: String = value
            .chars()
            .map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '?' })
            .collect();
        request = request.header(*name, value);
    }
    let request = request.body(Full::new(bytes::Bytes::from(body))).map_err(|e| e.to_string())?;
    let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let response = client.request(request).await.map_err(|e| format!("{url}: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("{url} answered {}", response.status()))
    }
}

async fn run(argv: &[String], message: &AlertMessage, json: String) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    let Some((program, args)) = argv.split_first() else { return Err("empty command".into()) };
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .env("PORTOLAN_ALERT_STATUS", message.status)
        .env("PORTOLAN_ALERT_TEXT", &message.text)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(json.as_bytes()).await;
    }
    let status = child.wait().await.map_err(|e| format!("{program}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{program} exited with {status}")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).single().unwrap_or_default()
    }

    fn row(kind: &str, id: &str) -> ProblemRow {
        ProblemRow {
            kind: kind.into(),
            container_id: id.into(),
            container: format!("app-{id}"),
            project: Some("shop".into()),
            started_at: at(0),
            reconstructed: false,
            detail: "probe exit 1".into(),
        }
    }

    fn rule(kinds: &[&str], per_minute: u32) -> AlertRule {
        AlertRule {
            name: "pager".into(),
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            project: None,
            target: AlertTarget::Command(vec!["true".into()]),
            quiet: StdDuration::from_secs(300),
            per_minute,
            cpu_percent_of_limit: None,
            memory_percent: None,
            hold: StdDuration::from_secs(300),
            log_pattern: None,
            service: None,
        }
    }

    fn log_rule(pattern: &str, service: Option<&str>) -> AlertRule {
        AlertRule {
            log_pattern: Some(LogPattern(regex::Regex::new(pattern).unwrap())),
            service: service.map(String::from),
            hold: StdDuration::from_secs(60),
            ..rule(&[], 20)
        }
    }

    #[test]
    fn a_log_pattern_opens_one_incident_per_container_and_resolves_when_quiet() {
        let model = crate::topology::fixtures::seed("000-nestjs-postgres-redis").unwrap();
        let api = model.containers.values().find(|c| c.service() == Some("app")).unwrap();
        let db = model.containers.values().find(|c| c.service() == Some("postgres")).unwrap();
        let rules = vec![log_rule("(?i)error", Some("app"))];
        assert_eq!(LogWatch::followed(&rules, &model), [api.id.clone()].into());
        let mut watch = LogWatch::default();
        assert!(watch.hear(&rules, db, "ERROR in postgres", at(0)).is_empty(), "other service");
        assert!(watch.hear(&rules, api, "all fine", at(0)).is_empty());
        let opened = watch.hear(&rules, api, "Error: \x1b]0;pwned\x07 db refused", at(1));
        let [(0, Transition::Opened(row))] = opened.as_slice() else { panic!("{opened:?}") };
        assert_eq!(row.kind, LOG_MATCH);
        assert!(!row.detail.contains('\x1b') && !row.detail.contains('\x07'), "{}", row.detail);
        assert!(watch.hear(&rules, api, "error again", at(30)).is_empty(), "one incident");
        assert!(watch.check(&rules, &model, at(80)).is_empty(), "matched 50 s ago");
        let closed = watch.check(&rules, &model, at(91));
        let [(0, Transition::Closed(row, end))] = closed.as_slice() else { panic!("{closed:?}") };
        assert_eq!(*end, at(91));
        assert!(row.detail.ends_with("(2 matching lines)"), "{}", row.detail);
        assert_eq!(watch.hear(&rules, api, "error, later", at(100)).len(), 1, "a new incident");
    }

    #[test]
    fn a_log_or_threshold_rule_hears_problems_only_of_kinds_it_names() {
        let mut book = AlertBook::new(vec![log_rule("x", None)]);
        assert!(
            book.hear("local", &Transition::Opened(row("exited", "a")), at(0), None).is_empty()
        );
        let mut named = log_rule("x", None);
        named.kinds = vec!["exited".into()];
        let mut book = AlertBook::new(vec![named]);
        assert_eq!(
            book.hear("local", &Transition::Opened(row("exited", "a")), at(0), None).len(),
            1
        );
    }

    #[test]
    fn one_alert_and_one_resolve_per_incident() {
        let mut book = AlertBook::new(vec![rule(&[], 20)]);
        let sent = book.hear("local", &Transition::Opened(row("unhealthy", "a")), at(10), None);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].1.status, "firing");
        assert!(sent[0].1.text.contains("app-a unhealthy since"), "{}", sent[0].1.text);
        assert!(
            book.hear("local", &Transition::Opened(row("unhealthy", "a")), at(11), None).is_empty()
        );
        let resolved =
            book.hear("local", &Transition::Closed(row("unhealthy", "a"), at(20)), at(20), None);
        assert_eq!(resolved[0].1.status, "resolved");
        // Flapping back within the quiet span: the same incident.
        assert!(
            book.hear("local", &Transition::Opened(row("unhealthy", "a")), at(60), None).is_empty()
        );
        // ... and its end is not told twice either.
        assert!(
            book.hear("local", &Transition::Closed(row("unhealthy", "a"), at(70)), at(70), None)
                .is_empty()
        );
        // Back long after: a new incident.
        assert_eq!(
            book.hear("local", &Transition::Opened(row("unhealthy", "a")), at(1000), None).len(),
            1
        );
    }

    #[test]
    fn rules_choose_kinds_and_projects_and_a_rate_limit_counts_the_rest() {
        let mut other = rule(&["oom_killed"], 20);
        other.project = Some("billing".into());
        let mut book = AlertBook::new(vec![rule(&["unhealthy"], 2), other]);
        let mut told = 0;
        for i in 0..5 {
            let sent = book.hear(
                "local",
                &Transition::Opened(row("unhealthy", &i.to_string())),
                at(i),
                None,
            );
            told += sent.len();
            assert!(sent.iter().all(|(index, _)| *index == 0));
        }
        assert_eq!(told, 2, "two a minute");
        let later = book.hear("local", &Transition::Opened(row("unhealthy", "z")), at(70), None);
        assert_eq!(later[0].1.suppressed, 3, "the next message counts what was held back");
        assert!(
            book.hear("local", &Transition::Opened(row("oom_killed", "q")), at(71), None)
                .is_empty()
        );
    }
}

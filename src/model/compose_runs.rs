//! Compose commands and image updates the operator ran, and what they printed: the
//! words and rules (which verbs exist, which ask first, what they name), the target a
//! container's compose labels describe, and the last few runs with their output and
//! exit status, as the Compose pane shows them. Pure: the engine side
//! (`engine/compose_cli.rs`, `engine/updates.rs`) runs the commands and reports each
//! line as an owned [`RunUpdate`]; output stays untrusted text until it is a
//! [`LogText`] (colours kept as styles, every other escape dropped).

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use super::logs::line::{LineOptions, LineParser, LogText};
use super::{Container, HostId};

/// `com.docker.compose.version`: which compose made the project (1.x: the Python
/// `docker-compose`; 2.x: the `docker compose` plugin).
pub const COMPOSE_VERSION: &str = "com.docker.compose.version";

/// What the operator can ask compose to do to a project or one of its services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComposeVerb {
    Up,
    Down,
    Restart,
    Stop,
    Pull,
    Build,
    /// `up -d --no-deps --force-recreate SERVICE`: after an edit of the compose file.
    Recreate,
}

impl ComposeVerb {
    pub const ALL: [ComposeVerb; 7] = [
        ComposeVerb::Up,
        ComposeVerb::Down,
        ComposeVerb::Restart,
        ComposeVerb::Stop,
        ComposeVerb::Pull,
        ComposeVerb::Build,
        ComposeVerb::Recreate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ComposeVerb::Up => "up",
            ComposeVerb::Down => "down",
            ComposeVerb::Restart => "restart",
            ComposeVerb::Stop => "stop",
            ComposeVerb::Pull => "pull",
            ComposeVerb::Build => "build",
            ComposeVerb::Recreate => "re-create",
        }
    }

    /// The key that picks it in the actions menu (upper case: the lower-case keys
    /// are the container verbs).
    pub fn menu_key(self) -> char {
        match self {
            ComposeVerb::Up => 'U',
            ComposeVerb::Down => 'D',
            ComposeVerb::Restart => 'R',
            ComposeVerb::Stop => 'T',
            ComposeVerb::Pull => 'L',
            ComposeVerb::Build => 'B',
            ComposeVerb::Recreate => 'C',
        }
    }

    /// Down removes the project's containers and networks; re-create replaces a
    /// service's container; stop interrupts them: these ask first.
    pub fn is_destructive(self) -> bool {
        matches!(self, ComposeVerb::Down | ComposeVerb::Recreate | ComposeVerb::Stop)
    }

    /// Whether the verb means something for the whole project (`for_service` false)
    /// or for one service.
    pub fn applies(self, for_service: bool) -> bool {
        match self {
            ComposeVerb::Down => !for_service,
            ComposeVerb::Recreate => for_service,
            _ => true,
        }
    }

    /// The compose arguments after the global flags.
    pub fn args(self, service: Option<&str>) -> Vec<String> {
        let mut args: Vec<String> = match self {
            ComposeVerb::Up => vec!["up".into(), "-d".into()],
            ComposeVerb::Down => vec!["down".into()],
            ComposeVerb::Restart => vec!["restart".into()],
            ComposeVerb::Stop => vec!["stop".into()],
            ComposeVerb::Pull => vec!["pull".into()],
            ComposeVerb::Build => vec!["build".into()],
            ComposeVerb::Recreate => {
                vec!["up".into(), "-d".into(), "--no-deps".into(), "--force-recreate".into()]
            }
        };
        if self == ComposeVerb::Up && service.is_some() {
            args.push("--no-deps".into());
        }
        if self != ComposeVerb::Down
            && let Some(service) = service
        {
            args.push(service.to_string());
        }
        args
    }
}

/// A compose project, or one service of it, as its containers' labels describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeTarget {
    pub host: HostId,
    pub project: String,
    /// One service, or the whole project.
    pub service: Option<String>,
    pub working_dir: Option<String>,
    pub config_files: Vec<String>,
    /// The `com.docker.compose.version` label, when there is one.
    pub compose_version: Option<String>,
}

impl ComposeTarget {
    /// The target a container's labels give: its service, or with `whole` its project.
    pub fn of(c: &Container, whole: bool) -> Option<ComposeTarget> {
        let info = c.compose.as_ref()?;
        if info.project.is_empty() {
            return None;
        }
        let service = (!whole && !info.service.is_empty()).then(|| info.service.clone());
        if !whole && service.is_none() {
            return None;
        }
        Some(ComposeTarget {
            host: c.host,
            project: info.project.clone(),
            service,
            working_dir: info.working_dir.clone(),
            config_files: info.config_files.clone(),
            compose_version: c.labels.get(COMPOSE_VERSION).cloned(),
        })
    }

    /// `service web of project shop`, or `project shop`.
    pub fn describe(&self) -> String {
        match &self.service {
            Some(service) => format!("service {service} of project {}", self.project),
            None => format!("project {}", self.project),
        }
    }
}

/// The question asked before a destructive compose verb, naming what it affects.
pub fn question(verb: ComposeVerb, target: &ComposeTarget, containers: &[&str]) -> String {
    let listed = match containers.len() {
        0 => "no containers yet".to_string(),
        1..=4 => containers.join(", "),
        n => format!("{} and {} more", containers[..3].join(", "), n - 3),
    };
    match verb {
        ComposeVerb::Down => format!(
            "Down {}? It stops and removes its containers ({listed}) and its networks; \
             volumes are kept.",
            target.describe()
        ),
        ComposeVerb::Recreate => format!(
            "Re-create {}? Its container ({listed}) is stopped, removed and made anew \
             from the compose file as it reads now.",
            target.describe()
        ),
        ComposeVerb::Stop => format!("Stop {}? It stops {listed}.", target.describe()),
        other => format!("{} {}?", other.as_str(), target.describe()),
    }
}

/// What kind of line a run printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// The command's own output (stdout or stderr).
    Output,
    /// A step portolan took (an update's pull, stop, start, wait).
    Step,
    /// Something went wrong, in portolan's words.
    Problem,
}

/// What the engine side says about a run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunUpdate {
    /// A run began; `command` is the command line, when it runs one.
    Started { id: u64, host: HostId, title: String, command: Option<String>, at: DateTime<Utc> },
    /// Lines it printed, raw (untrusted) as they came.
    Lines { id: u64, lines: Vec<(LineKind, String)> },
    /// It ended: `ok`, and its status in words (`exit status 0`, `refused: …`).
    Ended { id: u64, at: DateTime<Utc>, ok: bool, status: String },
}

/// One line of a run, safe to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLine {
    pub kind: LineKind,
    pub text: LogText,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEnd {
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub status: String,
}

/// One compose command or update, with what it printed.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: u64,
    pub host: HostId,
    pub title: String,
    pub command: Option<String>,
    pub started: DateTime<Utc>,
    pub lines: VecDeque<RunLine>,
    /// Lines dropped from the start to keep the newest [`MAX_LINES`].
    pub dropped: usize,
    pub end: Option<RunEnd>,
}

/// Runs kept: the last few.
pub const MAX_RUNS: usize = 8;
/// Lines kept per run (a build prints many).
pub const MAX_LINES: usize = 4000;
/// Bytes of one line drawn.
const LINE_CAP: usize = 4096;

/// The last few runs, newest last.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Runs {
    pub runs: VecDeque<Run>,
    next_id: u64,
    /// Bumped by every change, for the pane.
    pub revision: u64,
}

impl Runs {
    /// A fresh id for a run the UI is about to ask for.
    pub fn reserve(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn get(&self, id: u64) -> Option<&Run> {
        self.runs.iter().find(|r| r.id == id)
    }

    pub fn latest(&self) -> Option<&Run> {
        self.runs.back()
    }

    /// Folds in what the engine side said; whether anything changed.
    pub fn apply(&mut self, update: RunUpdate) -> bool {
        match update {
            RunUpdate::Started { id, host, title, command, at } => {
                if self.get(id).is_some() {
                    return false;
                }
                self.next_id = self.next_id.max(id);
                self.runs.push_back(Run {
                    id,
                    host,
                    title,
                    command,
                    started: at,
                    lines: VecDeque::new(),
                    dropped: 0,
                    end: None,
                });
                while self.runs.len() > MAX_RUNS {
                    self.runs.pop_front();
                }
            }
            RunUpdate::Lines { id, lines } => {
                let Some(run) = self.runs.iter_mut().find(|r| r.id == id) else { return false };
                let mut parser =
                    LineParser::new(LineOptions::default().with_caps(LINE_CAP, LINE_CAP));
                for (kind, raw) in lines {
                    run.lines.push_back(RunLine { kind, text: parser.parse(raw.as_bytes()) });
                }
                while run.lines.len() > MAX_LINES {
                    run.lines.pop_front();
                    run.dropped += 1;
                }
            }
            RunUpdate::Ended { id, at, ok, status } => {
                let Some(run) = self.runs.iter_mut().find(|r| r.id == id) else { return false };
                run.end = Some(RunEnd { at, ok, status });
            }
        }
        self.revision += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(service: Option<&str>) -> ComposeTarget {
        ComposeTarget {
            host: 0,
            project: "shop".into(),
            service: service.map(String::from),
            working_dir: Some("/srv/shop".into()),
            config_files: vec!["/srv/shop/compose.yml".into()],
            compose_version: Some("1.29.2".into()),
        }
    }

    #[test]
    fn verbs_build_compose_arguments() {
        assert_eq!(ComposeVerb::Up.args(None), ["up", "-d"]);
        assert_eq!(ComposeVerb::Up.args(Some("web")), ["up", "-d", "--no-deps", "web"]);
        assert_eq!(
            ComposeVerb::Recreate.args(Some("web")),
            ["up", "-d", "--no-deps", "--force-recreate", "web"]
        );
        assert_eq!(ComposeVerb::Pull.args(Some("web")), ["pull", "web"]);
        assert!(!ComposeVerb::Down.applies(true) && ComposeVerb::Down.applies(false));
        assert!(ComposeVerb::Recreate.applies(true) && !ComposeVerb::Recreate.applies(false));
        let keys: std::collections::BTreeSet<char> =
            ComposeVerb::ALL.iter().map(|v| v.menu_key()).collect();
        assert_eq!(keys.len(), ComposeVerb::ALL.len(), "menu keys are distinct");
    }

    #[test]
    fn questions_name_what_they_affect() {
        let q = question(ComposeVerb::Down, &target(None), &["shop-web-1", "shop-db-1"]);
        assert!(q.contains("project shop") && q.contains("shop-web-1, shop-db-1"), "{q}");
        let q = question(ComposeVerb::Recreate, &target(Some("web")), &["shop-web-1"]);
        assert!(q.starts_with("Re-create service web of project shop?"), "{q}");
        assert!(ComposeVerb::Stop.is_destructive() && !ComposeVerb::Pull.is_destructive());
    }

    #[test]
    fn runs_keep_output_safe_and_only_the_last_few() {
        let mut runs = Runs::default();
        let at = chrono::DateTime::UNIX_EPOCH;
        let id = runs.reserve();
        let started = RunUpdate::Started { id, host: 0, title: "t".into(), command: None, at };
        assert!(runs.apply(started));
        let raw = "\u{1b}[32mCreating\u{1b}[0m web \u{1b}]0;evil\u{7} done".to_string();
        runs.apply(RunUpdate::Lines { id, lines: vec![(LineKind::Output, raw)] });
        let line = &runs.get(id).map(|r| r.lines[0].text.plain().to_string());
        assert_eq!(line.as_deref(), Some("Creating web  done"));
        assert!(runs.get(id).is_some_and(|r| r.lines[0].text.has_styles()));
        runs.apply(RunUpdate::Ended { id, at, ok: true, status: "exit status 0".into() });
        assert!(runs.latest().and_then(|r| r.end.as_ref()).is_some_and(|e| e.ok));
        for _ in 0..MAX_RUNS + 2 {
            let id = runs.reserve();
            runs.apply(RunUpdate::Started { id, host: 0, title: "t".into(), command: None, at });
        }
        assert_eq!(runs.runs.len(), MAX_RUNS);
        assert!(runs.get(id).is_none(), "the oldest went");
        assert!(!runs.apply(RunUpdate::Lines { id: 999, lines: vec![] }), "unknown run");
    }
}

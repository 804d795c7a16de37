//! The processes inside one container, as the engine's `/top` lists them, and the
//! rules for signalling one: which signals the operator may pick, what the question
//! says, how a key moves the confirmation along. Pure: the engine reads and kills,
//! the UI asks; both meet here.
//!
//! Everything in a row came from inside the container and is untrusted: a command
//! line can carry escape sequences. It is kept as the engine sent it and made safe
//! where it is drawn ([`super::sanitize::one_line`]).

use chrono::{DateTime, Utc};

use super::HostId;

/// One process. `pid` is the engine host's pid (what `/top` reports), not the pid
/// inside the container's namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessRow {
    pub pid: u32,
    pub ppid: Option<u32>,
    pub user: Option<String>,
    /// Percent of one CPU: measured between two reads of `/proc` where it can be read,
    /// else `ps`'s average over the process's life.
    pub cpu_percent: Option<f64>,
    /// Resident memory in bytes.
    pub rss_bytes: Option<u64>,
    /// How long it has run, as `ps` writes it (`01:02:03`).
    pub elapsed: Option<String>,
    pub command: String,
}

/// What a read of `/top` found for one container.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessTable {
    pub id: String,
    pub rows: Vec<ProcessRow>,
    /// The figures came from this machine's `/proc` (a local engine): a kill is possible.
    pub host_proc: bool,
    /// Why the list could not be read, in words; the rows are then empty.
    pub error: Option<String>,
}

/// The `ps` arguments asked for first. Docker runs the host's `ps` with them and keeps
/// the lines whose PID belongs to the container; engines that refuse them (Podman
/// takes descriptors, not options) are asked again with none.
pub const PS_ARGS: &str = "-eo pid,ppid,user,pcpu,rss,etime,args";

/// Rows from `/top`'s titles and lines. Titles differ with the `ps` arguments and the
/// engine (`PID`/`pid`, `CMD`/`COMMAND`/`ARGS`, `%CPU`/`C`), so columns are found by
/// name; a line without a numeric PID is dropped.
pub fn parse_top(titles: &[String], processes: &[Vec<String>]) -> Vec<ProcessRow> {
    let find = |names: &[&str]| {
        titles.iter().position(|t| names.iter().any(|n| t.trim().eq_ignore_ascii_case(n)))
    };
    let Some(pid_at) = find(&["PID"]) else { return Vec::new() };
    let ppid_at = find(&["PPID"]);
    let user_at = find(&["USER", "UID", "RUSER"]);
    let cpu_at = find(&["%CPU", "PCPU"]);
    let rss_at = find(&["RSS", "RSZ"]);
    let elapsed_at = find(&["ELAPSED", "ETIME"]);
    let command_at = find(&["COMMAND", "CMD", "ARGS"]);
    processes
        .iter()
        .filter_map(|line| {
            let cell = |at: Option<usize>| at.and_then(|i| line.get(i)).map(|s| s.trim());
            let pid = cell(Some(pid_at))?.parse().ok()?;
            Some(ProcessRow {
                pid,
                ppid: cell(ppid_at).and_then(|s| s.parse().ok()),
                user: cell(user_at).filter(|s| !s.is_empty()).map(String::from),
                cpu_percent: cell(cpu_at).and_then(|s| s.parse().ok()),
                // ps counts RSS in KiB.
                rss_bytes: cell(rss_at).and_then(|s| s.parse::<u64>().ok()).map(|k| k * 1024),
                elapsed: cell(elapsed_at).filter(|s| !s.is_empty()).map(String::from),
                command: cell(command_at).unwrap_or_default().to_string(),
            })
        })
        .collect()
}

/// `12.5%`, `0.0%`, or `–` when unknown.
pub fn cpu(percent: Option<f64>) -> String {
    match percent {
        Some(p) if p.is_finite() && p >= 0.0 => super::format::percent(p),
        _ => "–".to_string(),
    }
}

/// `1.2 MiB`, or `–` when unknown.
pub fn memory(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "–".to_string(), super::format::bytes)
}

/// The signals the operator can send from the processes pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Signal {
    /// Ask it to end: the default, what a stop sends.
    #[default]
    Term,
    /// End it now; it cannot clean up.
    Kill,
    /// Hang up: many daemons reload their configuration.
    Hup,
    /// As ctrl-c would.
    Int,
}

impl Signal {
    pub const ALL: [Signal; 4] = [Signal::Term, Signal::Kill, Signal::Hup, Signal::Int];

    /// The name `kill -s` takes.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Term => "TERM",
            Signal::Kill => "KILL",
            Signal::Hup => "HUP",
            Signal::Int => "INT",
        }
    }

    /// The key that picks it in the confirmation.
    pub fn key(self) -> char {
        match self {
            Signal::Term => 't',
            Signal::Kill => 'k',
            Signal::Hup => 'h',
            Signal::Int => 'i',
        }
    }
}

/// A signal the operator is about to send, named for the question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillAsk {
    pub host: HostId,
    /// The container's full id: the engine side checks the pid still belongs to it.
    pub id: String,
    pub container: String,
    pub pid: u32,
    pub command: String,
    pub signal: Signal,
}

/// What a key does to an open confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillStep {
    /// Another signal was picked; still asking.
    Picked,
    /// Nothing changed; still asking.
    Ignored,
    /// Send it.
    Send,
    /// Not sending.
    Cancel,
}

impl KillAsk {
    /// The question, naming the process by pid and command line.
    pub fn question(&self) -> String {
        let command: String = self.command.chars().take(60).collect();
        let more = if self.command.chars().count() > 60 { "…" } else { "" };
        format!(
            "Send {} to process {} ({command}{more}) in {}?",
            self.signal.name(),
            self.pid,
            self.container
        )
    }

    /// A key while asking: a signal's key picks it, `y` or enter sends, esc or `n`
    /// cancels; other keys are ignored, so a stray key does not send a signal.
    pub fn key(&mut self, key: char) -> KillStep {
        if let Some(signal) = Signal::ALL.into_iter().find(|s| s.key() == key) {
            self.signal = signal;
            return KillStep::Picked;
        }
        match key {
            'y' | 'Y' | '\n' => KillStep::Send,
            'n' | 'N' | '\u{1b}' => KillStep::Cancel,
            _ => KillStep::Ignored,
        }
    }
}

/// How a signal went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillResult {
    pub at: DateTime<Utc>,
    pub container: String,
    pub pid: u32,
    pub signal: Signal,
    /// `None` when it was delivered; why not, in words.
    pub error: Option<String>,
}

impl KillResult {
    pub fn describe(&self) -> String {
        match &self.error {
            None => {
                format!("sent {} to process {} in {}", self.signal.name(), self.pid, self.container)
            }
            Some(error) => format!(
                "could not send {} to process {} in {}: {error}",
                self.signal.name(),
                self.pid,
                self.container
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rows_are_read_by_column_name_whatever_the_ps_arguments() {
        let titles = strings(&["PID", "PPID", "USER", "%CPU", "RSS", "ELAPSED", "COMMAND"]);
        let lines = vec![
            strings(&["22953", "22932", "root", "1.3", "1192", "00:01", "sleep 2000"]),
            strings(&["23001", "22953", "root", "0.0", "1196", "00:01", "sleep 1000"]),
            strings(&["not-a-pid", "", "", "", "", "", "junk"]),
        ];
        let rows = parse_top(&titles, &lines);
        assert_eq!(rows.len(), 2, "a line without a pid is dropped");
        assert_eq!(rows[0].pid, 22953);
        assert_eq!(rows[0].ppid, Some(22932));
        assert_eq!(rows[0].cpu_percent, Some(1.3));
        assert_eq!(rows[0].rss_bytes, Some(1192 * 1024));
        assert_eq!(rows[1].command, "sleep 1000");

        // Docker's default `-ef`: no CPU percentage, no memory.
        let titles = strings(&["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]);
        let lines =
            vec![strings(&["root", "22953", "22932", "1", "18:19", "?", "00:00:00", "sleep 2000"])];
        let rows = parse_top(&titles, &lines);
        assert_eq!(rows[0].user.as_deref(), Some("root"));
        assert_eq!(rows[0].cpu_percent, None, "`C` is not a percentage");
        assert_eq!(rows[0].rss_bytes, None);
        assert_eq!(rows[0].command, "sleep 2000");

        assert!(parse_top(&strings(&["CMD"]), &[strings(&["x"])]).is_empty(), "no PID column");
    }

    #[test]
    fn figures_read_in_words() {
        assert_eq!(cpu(Some(12.345)), "12.3%");
        assert_eq!(cpu(None), "–");
        assert_eq!(cpu(Some(f64::NAN)), "–");
        assert_eq!(memory(None), "–");
        assert!(
            memory(Some(1192 * 1024)).contains("KiB") || memory(Some(1192 * 1024)).contains("MiB")
        );
    }

    #[test]
    fn the_confirmation_picks_a_signal_then_sends_or_cancels() {
        let mut ask = KillAsk {
            host: 0,
            id: "abc".into(),
            container: "web".into(),
            pid: 42,
            command: "sleep 1000".into(),
            signal: Signal::default(),
        };
        assert_eq!(ask.signal, Signal::Term, "TERM unless another is picked");
        assert_eq!(ask.question(), "Send TERM to process 42 (sleep 1000) in web?");
        assert_eq!(ask.key('k'), KillStep::Picked);
        assert_eq!(ask.signal, Signal::Kill);
        assert!(ask.question().starts_with("Send KILL to process 42"));
        assert_eq!(ask.key('q'), KillStep::Ignored, "a stray key neither sends nor cancels");
        assert_eq!(ask.key('y'), KillStep::Send);
        assert_eq!(ask.key('\u{1b}'), KillStep::Cancel);
        assert_eq!(ask.key('h'), KillStep::Picked);
        assert_eq!(ask.signal, Signal::Hup);
        assert_eq!(ask.key('i'), KillStep::Picked);
        assert_eq!(ask.signal, Signal::Int);
    }
}

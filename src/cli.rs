//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "portolan",
    version,
    about = "A live chart of a Docker host: containers, health, stats and networks, in the terminal.",
    after_help = "Without a command, portolan opens its full-screen UI. Press ? in it for the keys.\n\
                  Settings and keys can also live in ~/.config/portolan/config.toml: see --print-config."
)]
pub struct Cli {
    /// Read settings from this file instead of $XDG_CONFIG_HOME/portolan/config.toml (else ~/.config/portolan/config.toml). Flags override it.
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<std::path::PathBuf>,

    /// Print every config key with its default, commented out, and exit.
    #[arg(long)]
    pub print_config: bool,

    /// List where portolan looks for an engine, in order, whether each is there and answers, and which it would use; then exit.
    #[arg(long)]
    pub print_engines: bool,

    /// Engine to watch: unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]; repeat to watch several [default: [[hosts]] in the config, else DOCKER_HOST, else the first local engine that answers: see --print-engines]
    #[arg(short = 'H', long = "host", value_name = "URL", global = true)]
    pub host: Vec<String>,

    /// Docker context to use (see `docker context ls`); repeat, or add to -H, to watch several [default: DOCKER_CONTEXT, else currentContext in $DOCKER_CONFIG/config.json; -H or DOCKER_HOST mean the default context]
    #[arg(short = 'c', long, value_name = "NAME", global = true)]
    pub context: Vec<String>,

    /// Use TLS and verify the engine's certificate (also DOCKER_TLS_VERIFY); files from DOCKER_CERT_PATH, else ~/.docker.
    #[arg(long, global = true)]
    pub tlsverify: bool,

    /// Trust certificates signed by this CA only [default: DOCKER_CERT_PATH/ca.pem]
    #[arg(long, value_name = "PATH", global = true)]
    pub tlscacert: Option<std::path::PathBuf>,

    /// Client certificate [default: DOCKER_CERT_PATH/cert.pem, if there]
    #[arg(long, value_name = "PATH", global = true)]
    pub tlscert: Option<std::path::PathBuf>,

    /// Client key [default: DOCKER_CERT_PATH/key.pem, if there]
    #[arg(long, value_name = "PATH", global = true)]
    pub tlskey: Option<std::path::PathBuf>,

    /// Show only this compose project.
    #[arg(long, value_name = "NAME", global = true)]
    pub project: Option<String>,

    /// Pane to open on (or to render, with `snapshot --format text|svg`) [default: triage, or default_pane in the config]
    #[arg(long, value_name = "NAME", global = true)]
    pub pane: Option<String>,

    /// Theme: dark, light, high-contrast, mono, a user theme in <config dir>/themes/NAME.toml, or a path to a theme .toml file [default: the config's theme, else dark; mono when NO_COLOR is set]
    #[arg(long, value_name = "NAME|PATH", global = true)]
    pub theme: Option<String>,

    /// How container stats are gathered: auto reads the cgroup files of the engine's host (this machine's, or over ssh the remote host's) and asks the engine only for the rest; api always asks the engine.
    #[arg(long, value_enum, default_value_t = StatsMode::Auto, global = true)]
    pub stats: StatsMode,

    /// The container (by name) the logs, processes, changes or files pane shows, or the shell pane opens a shell in: `--pane logs --container web-1`, `--pane shell --container web-1`.
    #[arg(long, value_name = "NAME", global = true)]
    pub container: Option<String>,

    /// Lines of history each container's log starts with.
    #[arg(long, value_name = "LINES", default_value_t = 300, global = true)]
    pub tail: u32,

    /// Logs since this long ago (`10m`, `2h`, `30s`) or this moment (RFC 3339), instead of --tail.
    #[arg(long, value_name = "WHEN", global = true)]
    pub since: Option<String>,

    /// Memory all followed logs may use together, in MiB [default: 64, or log_budget_mib in the config]
    #[arg(long, value_name = "MIB", global = true)]
    pub log_budget: Option<usize>,

    /// How often container stats are sampled: 500ms, 1s, 2s... [default: 1s, or refresh in the config]
    #[arg(long, value_name = "DURATION", global = true)]
    pub refresh: Option<String>,

    /// Leave the mouse to the terminal (its own text selection), whatever the config says.
    #[arg(long, global = true)]
    pub no_mouse: bool,

    /// Write the URLs of published HTTP ports as terminal hyperlinks (OSC 8): auto does where the terminal announces support, never inside tmux [default: auto, or hyperlinks in the config]
    #[arg(long, value_enum, value_name = "WHEN", global = true)]
    pub hyperlinks: Option<crate::ui::hyperlink::HyperlinkMode>,

    /// Refuse every action on containers (start, stop, remove, exec...): look, don't touch.
    #[arg(long, global = true)]
    pub read_only: bool,

    /// Write diagnostics to this file (never to the screen). Also PORTOLAN_LOG.
    #[arg(long, value_name = "PATH", global = true)]
    pub log_file: Option<std::path::PathBuf>,
    /// Do not record what this session sees (see `portolan record`).
    #[arg(long, global = true)]
    pub no_record: bool,
    /// The record file, instead of one per engine under $XDG_STATE_HOME/portolan/
    /// (with one engine only).
    #[arg(long, value_name = "PATH", global = true)]
    pub db: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsMode {
    Auto,
    Api,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the current state once, without a terminal, and exit.
    Snapshot(SnapshotArgs),
    /// Sample stacks modelled on the seed architecture documents: up, down, list.
    Demo(DemoArgs),
    /// Record what the engine does to a file, without a terminal, until stopped
    /// (for a systemd unit or a container with the socket mounted).
    Record(RecordArgs),
    /// What the record holds: incidents with their start, end and cause, and events.
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Disk budget of each engine's record, in MiB (default 256, or the config's
    /// record_budget_mib): the oldest records go first.
    #[arg(long, value_name = "MIB")]
    pub budget: Option<u64>,
    /// Also serve Prometheus metrics (text format) at http://ADDR/metrics, e.g.
    /// 127.0.0.1:9323.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    // How far back is the global --since (`30m`, `24h`, `7d`, an RFC 3339 time);
    // 24 hours when it is not given.
    #[arg(long, value_enum, default_value_t = HistoryFormat::Text)]
    pub format: HistoryFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The model: containers, networks, volumes, stats, findings.
    Json,
    /// A pane as plain text, as the terminal would show it.
    Text,
    /// The text rendering as a picture in the theme's colours.
    Svg,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Seconds to wait for one stats sample of every running container.
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
    pub wait: f64,
    /// Show environment values unmasked.
    #[arg(long)]
    pub show_secrets: bool,
    /// Width of a text or SVG rendering, in cells.
    #[arg(long, default_value_t = 120)]
    pub width: u16,
    /// Height of a text or SVG rendering, in cells.
    #[arg(long, default_value_t = 40)]
    pub height: u16,
    /// The state at a past moment, from the record: 03:10, -15m, "2026-12-05 03:10:00"
    /// (local time). Needs no engine with --db.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(subcommand)]
    pub action: DemoAction,
}

#[derive(Debug, Subcommand)]
pub enum DemoAction {
    /// Create and start stacks (without names: one per seed document) and wait until
    /// every service is healthy.
    Up {
        /// Stacks to start (see `portolan demo list`).
        #[arg(value_name = "NAME")]
        names: Vec<String>,
        /// The one image every stand-in container runs; it needs busybox's sh, httpd, nc
        /// and wget. Each container's label org.portolan.demo.image names the seed's image.
        #[arg(long, value_name = "IMAGE", default_value = "busybox:latest")]
        image: String,
        /// Seconds one stack may take to become healthy.
        #[arg(long, value_name = "SECONDS", default_value_t = 120)]
        timeout: u64,
    },
    /// Remove the containers, networks, volumes and files of stacks (without names: of
    /// every demo stack).
    Down {
        /// Stacks to remove (see `portolan demo list`).
        #[arg(value_name = "NAME")]
        names: Vec<String>,
    },
    /// List the stacks, whether each is up, its subnets and published ports.
    List,
}

/// Parses `--since`: `90s`, `10m`, `2h`, `1d`, or an RFC 3339 moment.
pub fn parse_since(
    text: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| {
        format!("`{text}` is not a duration like 10m or a time like 2024-05-01T10:00:00Z")
    })?;
    let seconds = match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        other => return Err(format!("unknown unit `{other}` in --since (use s, m, h or d)")),
    };
    Ok(now - chrono::Duration::seconds(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn since_accepts_durations_and_times() {
        let now = chrono::Utc.timestamp_opt(1_000_000, 0).single().expect("time");
        assert_eq!(parse_since("90s", now).expect("ok"), now - chrono::Duration::seconds(90));
        assert_eq!(parse_since("2h", now).expect("ok"), now - chrono::Duration::hours(2));
        assert!(parse_since("2024-05-01T10:00:00Z", now).is_ok());
        assert!(parse_since("soon", now).is_err());
        assert!(parse_since("5y", now).is_err());
    }
}

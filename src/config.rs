//! The config file: `--config PATH`, else `$XDG_CONFIG_HOME/portolan/config.toml`,
//! else `~/.config/portolan/config.toml`. Every key is optional; command-line flags
//! override it.
//!
//! This module owns reading and checking the file and `--print-config`. It does not
//! apply anything: `main` hands the values to the engine options and the [`crate::ui::App`].
//! A bad file is never skipped in silence: every error names the file, the line and
//! the key, and the binary exits with status 2.

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::record::alerts::{AlertRule, AlertTarget};
use crate::ui::PaneId;
use crate::ui::keymap::{Action, Clash, DEFAULT_BINDINGS, Key, Keymap};
use crate::ui::theme::{Theme, ThemeError};

/// Stats are sampled this often unless `refresh` says otherwise.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(1);
/// The bounds of `refresh`: faster costs the engine work for no visible gain, slower
/// makes the CPU figures meaningless as "now".
const REFRESH_RANGE: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(60));
pub const DEFAULT_LOG_BUDGET_MIB: usize = 64;
const LOG_BUDGET_RANGE: (i64, i64) = (1, 64 * 1024);
/// The shell offered first, in a pane or through the docker CLI (see `ui::exec`).
pub use crate::ui::exec::DEFAULT_EXEC_SHELL;

/// What the config file says. `None` is "not set": the built-in default applies,
/// unless a command-line flag says otherwise.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file this came from; None when no file exists at the default location.
    pub file: Option<PathBuf>,
    pub theme: Option<String>,
    /// The line of `theme`, so an unknown theme is reported where it was written.
    theme_line: usize,
    /// How often container stats are sampled (the only thing portolan polls).
    pub refresh: Option<Duration>,
    pub default_pane: Option<PaneId>,
    pub read_only: Option<bool>,
    pub log_budget_mib: Option<usize>,
    pub exec_shell: Option<String>,
    pub mouse: Option<bool>,
    /// Whether the UI records what it sees (`--no-record` turns it off once).
    pub record: Option<bool>,
    /// The disk budget of each engine's record, in MiB.
    pub record_budget_mib: Option<u64>,
    /// Whether port URLs are written as OSC 8 hyperlinks.
    pub hyperlinks: Option<crate::ui::hyperlink::HyperlinkMode>,
    /// The defaults with the `[keys]` table applied.
    pub keymap: Keymap,
    /// `[[hosts]]`: the engines to follow when the command line names none.
    pub hosts: Vec<HostEntry>,
    /// `[[alerts]]`: where `portolan record` tells of problems.
    pub alerts: Vec<AlertRule>,
}

/// One `[[hosts]]` entry: an engine by address (`host`) or by Docker context.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostEntry {
    /// What panes call it; derived from the address or context when unset.
    pub name: Option<String>,
    pub host: Option<String>,
    pub context: Option<String>,
    pub tlsverify: bool,
    pub tlscacert: Option<PathBuf>,
    pub tlscert: Option<PathBuf>,
    pub tlskey: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}:{line}: {reason}")]
    Syntax { file: String, line: usize, reason: String },
    #[error("{file}:{line}: key `{key}`: {reason}")]
    Key { file: String, line: usize, key: String, reason: String },
    #[error("{0}")]
    Theme(#[from] ThemeError),
}

/// Where the config lives when `--config` is not given.
pub fn default_path(xdg_config_home: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    config_dir(xdg_config_home, home).map(|dir| dir.join("config.toml"))
}

/// `$XDG_CONFIG_HOME/portolan`, else `~/.config/portolan`. An empty or relative
/// XDG_CONFIG_HOME is ignored, as the XDG spec asks.
pub fn config_dir(xdg_config_home: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    match xdg_config_home {
        Some(xdg) if Path::new(xdg).is_absolute() => Some(Path::new(xdg).join("portolan")),
        _ => home.filter(|h| !h.is_empty()).map(|h| Path::new(h).join(".config/portolan")),
    }
}

impl Config {
    /// Reads the config: `explicit` (from `--config`) must exist; the default file
    /// may be missing, which is the same as an empty one.
    pub fn load(explicit: Option<&Path>, default: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, required) = match (explicit, default) {
            (Some(path), _) => (path, true),
            (None, Some(path)) => (path, false),
            (None, None) => return Ok(Config::default()),
        };
        let file = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config::default());
            }
            // The default place under a home this user may not enter (another user's
            // HOME under sudo): there is no config of theirs to read.
            Err(e)
                if !required
                    && e.kind() == std::io::ErrorKind::PermissionDenied
                    && !path.exists() =>
            {
                return Ok(Config::default());
            }
            Err(e) => return Err(ConfigError::Read { file, reason: e.to_string() }),
        };
        let mut config = Config::parse(&text, &file)?;
        config.file = Some(path.to_path_buf());
        Ok(config)
    }

    /// Parses and checks a config file's text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let line = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let table = DeTable::parse(text).map_err(|e| ConfigError::Syntax {
            file: file.to_string(),
            line: e.span().map_or(1, |span| line(span.start)),
            reason: e.message().trim().to_string(),
        })?;
        let key_error = |key: &str, offset: usize, reason: String| ConfigError::Key {
            file: file.to_string(),
            line: line(offset),
            key: key.to_string(),
            reason,
        };
        let mut config = Config::default();
        let mut keys: Option<&Spanned<DeValue>> = None;
        let mut commands = Vec::new();
        for (name, value) in table.get_ref() {
            let key: &str = name.get_ref();
            let at = name.span().start;
            let wrong = |expected: &str| {
                key_error(
                    key,
                    at,
                    format!("expected {expected}, found {}", value.get_ref().type_str()),
                )
            };
            // A whole number of MiB within `(min, max)`.
            let mib_in = |(min, max): (i64, i64)| -> Result<i64, ConfigError> {
                let mib = value
                    .get_ref()
                    .as_integer()
                    .and_then(|i| i64::from_str_radix(i.as_str(), i.radix()).ok())
                    .ok_or_else(|| wrong("a whole number of MiB"))?;
                if !(min..=max).contains(&mib) {
                    return Err(key_error(
                        key,
                        at,
                        format!("{mib} is out of range ({min} to {max})"),
                    ));
                }
                Ok(mib)
            };
            match key {
                "theme" => {
                    let theme = value.get_ref().as_str().ok_or_else(|| wrong("a theme name"))?;
                    if theme.trim().is_empty() {
                        return Err(key_error(key, at, "is empty".to_string()));
                    }
                    config.theme = Some(theme.to_string());
                    config.theme_line = line(at);
                }
                "refresh" => {
                    let refresh = match value.get_ref() {
                        DeValue::String(s) => parse_duration(s).ok_or_else(|| {
                            key_error(
                                key,
                                at,
                                format!("`{s}` is not a duration like \"1s\" or \"500ms\""),
                            )
                        })?,
                        DeValue::Integer(_) | DeValue::Float(_) => {
                            let seconds =
                                number(value.get_ref()).ok_or_else(|| wrong("a duration"))?;
                            Duration::try_from_secs_f64(seconds).map_err(|_| {
                                key_error(key, at, format!("{seconds} is not a duration"))
                            })?
                        }
                        _ => return Err(wrong("a duration like \"1s\"")),
                    };
                    let (min, max) = REFRESH_RANGE;
                    if refresh < min || refresh > max {
                        return Err(key_error(
                            key,
                            at,
                            format!("{refresh:?} is out of range ({min:?} to {max:?})"),
                        ));
                    }
                    config.refresh = Some(refresh);
                }
                "default_pane" => {
                    let name = value.get_ref().as_str().ok_or_else(|| wrong("a pane name"))?;
                    let pane = PaneId::parse(name).ok_or_else(|| {
                        key_error(
                            key,
                            at,
                            format!(
                                "there is no pane `{name}`; panes: {}",
                                PaneId::names().join(", ")
                            ),
                        )
                    })?;
                    config.default_pane = Some(pane);
                }
                "read_only" => {
                    config.read_only =
                        Some(value.get_ref().as_bool().ok_or_else(|| wrong("true or false"))?);
                }
                "mouse" => {
                    config.mouse =
                        Some(value.get_ref().as_bool().ok_or_else(|| wrong("true or false"))?);
                }
                "record" => {
                    config.record =
                        Some(value.get_ref().as_bool().ok_or_else(|| wrong("true or false"))?);
                }
                "record_budget_mib" => {
                    let mib = mib_in(RECORD_BUDGET_RANGE)?;
                    config.record_budget_mib = u64::try_from(mib).ok();
                }
                "hyperlinks" => {
                    let text = value
                        .get_ref()
                        .as_str()
                        .ok_or_else(|| wrong("\"auto\", \"always\" or \"never\""))?;
                    config.hyperlinks = Some(
                        crate::ui::hyperlink::HyperlinkMode::parse(text).ok_or_else(|| {
                            key_error(
                                key,
                                at,
                                format!("`{text}` is not one of auto, always, never"),
                            )
                        })?,
                    );
                }
                "log_budget_mib" => {
                    let mib = mib_in(LOG_BUDGET_RANGE)?;
                    config.log_budget_mib = usize::try_from(mib).ok();
                }
                "exec_shell" => {
                    let shell = value.get_ref().as_str().ok_or_else(|| wrong("a command"))?;
                    if shell.trim().is_empty() {
                        return Err(key_error(key, at, "is empty".to_string()));
                    }
                    config.exec_shell = Some(shell.to_string());
                }
                "keys" => keys = Some(value),
                "hosts" => config.hosts = parse_hosts(value, &key_error)?,
                "alerts" => config.alerts = parse_alerts(value, &key_error)?,
                "commands" => commands = commands::parse_commands(value, &key_error)?,
                _ => {
                    return Err(key_error(
                        key,
                        at,
                        format!("unknown key (known: {})", TOP_LEVEL_KEYS.join(", ")),
                    ));
                }
            }
        }
        if let Some(keys) = keys {
            config.keymap = parse_keys(keys, &key_error)?;
        }
        if !commands.is_empty() {
            // After `[keys]`, wherever it is in the file: a command's key must not
            // take one an action has.
            let keymap = std::mem::take(&mut config.keymap);
            config.keymap = commands::bind(keymap, commands, &key_error)?;
        }
        Ok(config)
    }

    /// The theme to use: `--theme`, else the config's `theme`, else mono when
    /// NO_COLOR is set, else dark. The config outranks NO_COLOR, as no-color.org
    /// asks of user-level configuration. `user_dir` holds user themes.
    pub fn theme(
        &self,
        flag: Option<&str>,
        no_color: bool,
        user_dir: Option<&Path>,
    ) -> Result<Theme, ConfigError> {
        if let Some(name) = flag {
            return Ok(Theme::resolve(name, user_dir)?);
        }
        match &self.theme {
            Some(name) => Theme::resolve(name, user_dir).map_err(|error| match error {
                ThemeError::Unknown(_) | ThemeError::Read { .. } => ConfigError::Key {
                    file: self.file_name(),
                    line: self.theme_line,
                    key: "theme".to_string(),
                    reason: error.to_string(),
                },
                other => ConfigError::Theme(other),
            }),
            None => Ok(Theme::built_in(if no_color { "mono" } else { "dark" })),
        }
    }

    fn file_name(&self) -> String {
        self.file.as_ref().map_or_else(|| "config".to_string(), |f| f.display().to_string())
    }
}

const TOP_LEVEL_KEYS: &[&str] = &[
    "theme",
    "refresh",
    "default_pane",
    "read_only",
    "log_budget_mib",
    "exec_shell",
    "mouse",
    "record",
    "record_budget_mib",
    "hyperlinks",
    "hosts",
    "alerts",
    "keys",
    "commands",
];

const ALERT_KEYS: &[&str] = &[
    "name",
    "kinds",
    "project",
    "webhook",
    "ntfy",
    "command",
    "quiet",
    "per_minute",
    "cpu_percent_of_limit",
    "memory_percent",
    "for",
    "service",
    "log_regex",
];

/// What `kinds` of an alert may name: triage's problem kinds.
const PROBLEM_KINDS: &[&str] = &[
    "host_unreachable",
    "oom_killed",
    "crashloop",
    "unhealthy",
    "exited",
    "dependency_down",
    "service_degraded",
    "task_failed",
    "health_not_run",
];

/// What `record_budget_mib` accepts: a record smaller than 1 MiB keeps nothing useful.
pub const RECORD_BUDGET_RANGE: (i64, i64) = (1, 1024 * 1024);
/// The default disk budget of one engine's record.
pub const DEFAULT_RECORD_BUDGET_MIB: u64 = 256;

const HOST_KEYS: &[&str] =
    &["name", "host", "context", "tlsverify", "tlscacert", "tlscert", "tlskey"];

fn parse_hosts(
    value: &Spanned<DeValue>,
    key_error: &KeyErrorFn,
) -> Result<Vec<HostEntry>, ConfigError> {
    let DeValue::Array(items) = value.get_ref() else {
        return Err(key_error(
            "hosts",
            value.span().start,
            format!(
                "expected [[hosts]] tables with host = \"URL\" or context = \"NAME\", found {}",
                value.get_ref().type_str()
            ),
        ));
    };
    let mut hosts = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("hosts[{}]", index + 1);
        let DeValue::Table(table) = item.get_ref() else {
            return Err(key_error(
                &path,
                item.span().start,
                format!("expected a table, found {}", item.get_ref().type_str()),
            ));
        };
        let mut entry = HostEntry::default();
        for (name, value) in table.iter() {
            let key: &str = name.get_ref();
            let at = name.span().start;
            let field = format!("{path}.{key}");
            let text = || -> Result<String, ConfigError> {
                match value.get_ref().as_str() {
                    Some(text) if !text.trim().is_empty() => Ok(text.to_string()),
                    Some(_) => Err(key_error(&field, at, "is empty".to_string())),
                    None => Err(key_error(
                        &field,
                        at,
                        format!("expected a string, found {}", value.get_ref().type_str()),
                    )),
                }
            };
            match key {
                "name" => entry.name = Some(text()?),
                "host" => entry.host = Some(text()?),
                "context" => entry.context = Some(text()?),
                "tlscacert" => entry.tlscacert = Some(PathBuf::from(text()?)),
                "tlscert" => entry.tlscert = Some(PathBuf::from(text()?)),
                "tlskey" => entry.tlskey = Some(PathBuf::from(text()?)),
                "tlsverify" => {
                    entry.tlsverify = value.get_ref().as_bool().ok_or_else(|| {
                        key_error(
                            &field,
                            at,
                            format!("expected true or false, found {}", value.get_ref().type_str()),
                        )
                    })?;
                }
                _ => {
                    return Err(key_error(
                        &field,
                        at,
                        format!("unknown key (known: {})", HOST_KEYS.join(", ")),
                    ));
                }
            }
        }
        match (&entry.host, &entry.context) {
            (Some(_), Some(_)) => {
                return Err(key_error(
                    &path,
                    item.span().start,
                    "give host or context, not both".to_string(),
                ));
            }
            (None, None) => {
                return Err(key_error(
                    &path,
                    item.span().start,
                    "needs host = \"URL\" or context = \"NAME\"".to_string(),
                ));
            }
            _ => {}
        }
        hosts.push(entry);
    }
    Ok(hosts)
}

fn number(value: &DeValue) -> Option<f64> {
    match value {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok().map(|n| n as f64),
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        _ => None,
    }
}

/// `"500ms"`, `"1s"`, `"2.5s"`, `"1m"`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
}

/// Formats a duration the way `refresh` is written.
fn format_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

type KeyErrorFn<'a> = dyn Fn(&str, usize, String) -> ConfigError + 'a;

fn parse_alerts(
    value: &Spanned<DeValue>,
    key_error: &KeyErrorFn,
) -> Result<Vec<AlertRule>, ConfigError> {
    let DeValue::Array(items) = value.get_ref() else {
        return Err(key_error(
            "alerts",
            value.span().start,
            format!("expected [[alerts]] tables, found {}", value.get_ref().type_str()),
        ));
    };
    let mut rules = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("alerts[{}]", index + 1);
        let DeValue::Table(table) = item.get_ref() else {
            return Err(key_error(
                &path,
                item.span().start,
                format!("expected a table, found {}", item.get_ref().type_str()),
            ));
        };
        let mut rule = AlertRule {
            name: format!("alert {}", index + 1),
            kinds: Vec::new(),
            project: None,
            target: AlertTarget::Command(Vec::new()),
            quiet: Duration::from_secs(300),
            per_minute: 20,
            cpu_percent_of_limit: None,
            memory_percent: None,
            hold: Duration::from_secs(300),
            log_pattern: None,
            service: None,
        };
        let mut targets = 0;
        for (name, value) in table.iter() {
            let key: &str = name.get_ref();
            let at = name.span().start;
            let field = format!("{path}.{key}");
            let fail = |reason: String| key_error(&field, at, reason);
            let text = || -> Result<String, ConfigError> {
                match value.get_ref().as_str() {
                    Some(text) if !text.trim().is_empty() => Ok(text.trim().to_string()),
                    Some(_) => Err(fail("is empty".into())),
                    None => Err(fail(format!(
                        "expected a string, found {}",
                        value.get_ref().type_str()
                    ))),
                }
            };
            let strings = || -> Result<Vec<String>, ConfigError> {
                let DeValue::Array(list) = value.get_ref() else {
                    return Err(fail(format!(
                        "expected a list of strings, found {}",
                        value.get_ref().type_str()
                    )));
                };
                list.iter()
                    .map(|v| v.get_ref().as_str().map(str::to_string))
                    .collect::<Option<Vec<String>>>()
                    .ok_or_else(|| fail("expected a list of strings".into()))
            };
            let url = || -> Result<String, ConfigError> {
                let url = text()?;
                if url.starts_with("http://") && url.parse::<hyper::Uri>().is_ok() {
                    Ok(url)
                } else if url.starts_with("https://") {
                    Err(fail(
                        "https is not sent directly: use command = [\"curl\", \"-fsS\", \"-d@-\", \"URL\"]"
                            .into(),
                    ))
                } else {
                    Err(fail(format!("`{url}` is not an http:// URL")))
                }
            };
            match key {
                "name" => rule.name = text()?,
                "project" => rule.project = Some(text()?),
                "service" => rule.service = Some(text()?),
                "log_regex" => {
                    let pattern = text()?;
                    let regex = regex::RegexBuilder::new(&pattern)
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|e| fail(format!("is not a valid regex: {e}")))?;
                    rule.log_pattern = Some(crate::record::alerts::LogPattern(regex));
                }
                "kinds" => {
                    let kinds = strings()?;
                    if let Some(unknown) =
                        kinds.iter().find(|k| !PROBLEM_KINDS.contains(&k.as_str()))
                    {
                        return Err(fail(format!(
                            "unknown kind `{unknown}` (known: {})",
                            PROBLEM_KINDS.join(", ")
                        )));
                    }
                    rule.kinds = kinds;
                }
                "webhook" => {
                    rule.target = AlertTarget::Webhook(url()?);
                    targets += 1;
                }
                "ntfy" => {
                    rule.target = AlertTarget::Ntfy(url()?);
                    targets += 1;
                }
                "command" => {
                    let argv = strings()?;
                    if argv.is_empty() || argv[0].trim().is_empty() {
                        return Err(fail("is empty".into()));
                    }
                    rule.target = AlertTarget::Command(argv);
                    targets += 1;
                }
                "quiet" => {
                    rule.quiet = parse_duration(&text()?)
                        .ok_or_else(|| fail("expected a duration like 30s, 5m or 1h".into()))?;
                }
                "cpu_percent_of_limit" | "memory_percent" => {
                    let percent = value
                        .get_ref()
                        .as_float()
                        .and_then(|f| f.as_str().parse::<f64>().ok())
                        .or_else(|| {
                            value
                                .get_ref()
                                .as_integer()
                                .and_then(|i| i64::from_str_radix(i.as_str(), i.radix()).ok())
                                .map(|i| i as f64)
                        })
                        .filter(|p| *p > 0.0 && *p <= 10_000.0)
                        .ok_or_else(|| fail("expected a percentage, like 90".into()))?;
                    if key == "memory_percent" {
                        rule.memory_percent = Some(percent);
                    } else {
                        rule.cpu_percent_of_limit = Some(percent);
                    }
                }
                "for" => {
                    rule.hold = parse_duration(&text()?)
                        .ok_or_else(|| fail("expected a duration like 30s, 5m or 1h".into()))?;
                }
                "per_minute" => {
                    let n = value
                        .get_ref()
                        .as_integer()
                        .and_then(|i| i64::from_str_radix(i.as_str(), i.radix()).ok())
                        .filter(|n| (1..=10_000).contains(n))
                        .ok_or_else(|| fail("expected a whole number from 1 to 10000".into()))?;
                    rule.per_minute = u32::try_from(n).unwrap_or(20);
                }
                _ => {
                    return Err(fail(format!("unknown key (known: {})", ALERT_KEYS.join(", "))));
                }
            }
        }
        if targets != 1 {
            return Err(key_error(
                &path,
                item.span().start,
                "needs exactly one of webhook = \"http://…\", ntfy = \"http://…/topic\" or command = [\"…\"]"
                    .to_string(),
            ));
        }
        rules.push(rule);
    }
    Ok(rules)
}

fn parse_keys(value: &Spanned<DeValue>, key_error: &KeyErrorFn) -> Result<Keymap, ConfigError> {
    let DeValue::Table(table) = value.get_ref() else {
        return Err(key_error(
            "keys",
            value.span().start,
            format!("expected a table of action = key, found {}", value.get_ref().type_str()),
        ));
    };
    // The table iterates by name; clashes are reported at the later line, so sort
    // by position in the file.
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(name, _)| name.span().start);
    let mut overrides: Vec<(Action, Vec<Key>)> = Vec::new();
    let mut lines: Vec<(String, usize)> = Vec::new();
    for (name, value) in entries {
        let name_text: &str = name.get_ref();
        let path = format!("keys.{name_text}");
        let at = name.span().start;
        let action = Action::from_name(name_text).ok_or_else(|| {
            key_error(
                &path,
                at,
                "unknown action (`portolan --print-config` lists them)".to_string(),
            )
        })?;
        let texts: Vec<(&str, usize)> = match value.get_ref() {
            DeValue::String(s) => vec![(s.as_ref(), at)],
            DeValue::Array(items) => items
                .iter()
                .map(|item| match item.get_ref() {
                    DeValue::String(s) => Ok((s.as_ref(), item.span().start)),
                    other => Err(key_error(
                        &path,
                        item.span().start,
                        format!("expected a key like \"ctrl-r\", found {}", other.type_str()),
                    )),
                })
                .collect::<Result<_, _>>()?,
            other => {
                return Err(key_error(
                    &path,
                    at,
                    format!(
                        "expected a key like \"ctrl-r\" or a list of keys, found {}",
                        other.type_str()
                    ),
                ));
            }
        };
        let mut keys = Vec::new();
        for (text, offset) in texts {
            let key = Key::parse(text).map_err(|e| key_error(&path, offset, e.to_string()))?;
            keys.push(key);
        }
        overrides.push((action, keys));
        lines.push((path, at));
    }
    Keymap::with_overrides(&overrides).map_err(|clash| {
        let culprit = match &clash {
            Clash::Twice { second, .. } => *second,
            Clash::Orphans { action, .. } => *action,
        };
        let (path, at) = lines
            .iter()
            .find(|(path, _)| path.strip_prefix("keys.") == Some(culprit.name()))
            .cloned()
            .unwrap_or_else(|| (format!("keys.{}", culprit.name()), 0));
        key_error(&path, at, clash.to_string())
    })
}

/// Every key at its default, commented out: what `portolan --print-config` prints.
/// Uncommented, it parses back to the defaults.
pub fn default_config_text() -> String {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = String::new();
    let mut say = |line: &str| {
        out.push_str(line);
        out.push('\n');
    };
    say("# portolan configuration.");
    say("# Read from --config PATH, else $XDG_CONFIG_HOME/portolan/config.toml, else");
    say("# ~/.config/portolan/config.toml. Every key is optional; each line below shows");
    say("# the default. Command-line flags override this file. A mistake here stops");
    say("# portolan with the file, line and key at fault (exit status 2).");
    say("");
    say("# Colours: dark, light, high-contrast, mono; or NAME for a user theme in");
    say("# <config dir>/themes/NAME.toml; or a path to a theme file. When unset: dark, or");
    say("# mono if NO_COLOR is set. Setting it here wins over NO_COLOR; --theme wins over both.");
    say(&format!("# theme = {}", quote("dark")));
    say("");
    say("# How often container stats (CPU, memory, network, disk) are sampled. Everything");
    say("# else follows the engine's events and is shown as it happens. Charts keep a");
    say("# fixed number of samples, so a slower refresh shows a longer stretch of time.");
    say("# From 250ms to 60s.");
    say(&format!("# refresh = {}", quote(&format_duration(DEFAULT_REFRESH))));
    say("");
    say(&format!("# The pane portolan opens on: {}.", PaneId::names().join(", ")));
    say(&format!("# default_pane = {}", quote(PaneId::Triage.name())));
    say("");
    say("# Refuse every action on containers (start, stop, remove, exec...).");
    say("# read_only = false");
    say("");
    say("# Memory all followed logs may use together, in MiB (1 to 65536).");
    say(&format!("# log_budget_mib = {DEFAULT_LOG_BUDGET_MIB}"));
    say("");
    say("# The shell opened in a container by the exec key.");
    say(&format!("# exec_shell = {}", quote(DEFAULT_EXEC_SHELL)));
    say("");
    say("# Record what portolan sees of each engine (events, problems with their true");
    say("# start, probes, stats) to $XDG_STATE_HOME/portolan/, for \"since\" across restarts");
    say("# and `portolan history`. Off here or with --no-record. `portolan record` records");
    say("# without a terminal; while one runs, the UI only reads its file.");
    say("# record = true");
    say(&format!("# record_budget_mib = {DEFAULT_RECORD_BUDGET_MIB}"));
    say("");
    say("# Mouse: click to select, wheel to scroll. Off leaves the terminal's own");
    say("# selection working.");
    say("# mouse = true");
    say("");
    say("# Port URLs as terminal hyperlinks (OSC 8): auto where the terminal announces");
    say("# support (never inside tmux or screen), always, or never.");
    say(&format!("# hyperlinks = {}", quote("auto")));
    say("");
    say("# Engines to follow at once, when the command line names none (-H and --context");
    say("# may also be repeated). Each needs host = URL or context = NAME; name is what");
    say("# the panes call it (default: the context, or the address). TLS keys as the flags.");
    say("# [[hosts]]");
    say(&format!("# name = {}", quote("local")));
    say(&format!("# host = {}", quote("unix:///var/run/docker.sock")));
    say("# [[hosts]]");
    say(&format!("# name = {}", quote("web1")));
    say(&format!("# host = {}", quote("ssh://ops@web1.example.com")));
    say("# [[hosts]]");
    say(&format!("# context = {}", quote("staging")));
    say("");
    say("# Alerts from `portolan record`: one message when a problem begins, one when it");
    say("# ends. kinds: host_unreachable, oom_killed, crashloop, unhealthy, exited,");
    say("# dependency_down, service_degraded, task_failed, health_not_run (default: all).");
    say("# One target each: webhook (JSON POST), ntfy (text POST with a title) or command");
    say("# (the JSON on its stdin). http:// only; for https use a command with curl. A");
    say("# problem back within `quiet` of its end is not told again; at most per_minute");
    say("# messages a rule, the rest counted in the next. Thresholds: cpu_percent_of_limit");
    say("# (of the container's CPU limit, else of the host's CPUs) and memory_percent (of its");
    say("# memory limit), crossed for `for`, are told as cpu_high / memory_high. log_regex:");
    say("# a line of a container's log that matches is told as log_match, resolved once the");
    say("# log has been free of it for `for`. `project` and `service` narrow any rule. A rule");
    say("# with thresholds or log_regex hears triage's problems only of the kinds it names.");
    say("# [[alerts]]");
    say(&format!("# name = {}", quote("pager")));
    say(&format!(
        "# kinds = [{}, {}, {}]",
        quote("unhealthy"),
        quote("crashloop"),
        quote("oom_killed")
    ));
    say(&format!("# webhook = {}", quote("http://127.0.0.1:9000/portolan")));
    say(&format!("# quiet = {}", quote("5m")));
    say("# per_minute = 20");
    say("# cpu_percent_of_limit = 90");
    say("# memory_percent = 95");
    say(&format!("# for = {}", quote("5m")));
    say("# [[alerts]]");
    say(&format!("# name = {}", quote("api errors")));
    say(&format!("# service = {}", quote("api")));
    say(&format!("# log_regex = {}", quote("(?i)\\b(error|panic)\\b")));
    say(&format!("# ntfy = {}", quote("http://127.0.0.1:8080/ops")));
    say("");
    say("# Custom commands: your own shell lines, run with `sh -c` on the selected");
    say("# container (the terminal is theirs until they end; Enter returns). Placeholders,");
    say("# shell-quoted: {container} {container_id} {service} {project} {engine} {image};");
    say("# {{ and }} are braces. key (optional) must not be an action's key; confirm asks");
    say("# first. They are listed in the palette (:) and the help (?). --read-only does not");
    say("# turn them off: they are yours, run with your rights.");
    say("# [[commands]]");
    say(&format!("# name = {}", quote("tail nginx errors")));
    say(&format!("# key = {}", quote("ctrl-e")));
    say(&format!(
        "# command = {}",
        quote("docker exec {container} tail -n 50 /var/log/nginx/error.log")
    ));
    say("# confirm = false");
    say("");
    say("# Keys: action = \"key\" or [\"key\", \"key\"]. Keys are written like q, G, ?, ctrl-r,");
    say("# alt-x, enter, esc, tab, shift-tab, space, backspace, up, pageup, pagedown, home,");
    say("# end, f5. Naming an action replaces all of its default keys ([] unbinds it).");
    say("# A key taken from another action's defaults moves to the new action; taking an");
    say("# action's only key, or giving one key to two actions, is an error.");
    say("# [keys]");
    for action in Action::ALL {
        let keys: Vec<String> = DEFAULT_BINDINGS
            .iter()
            .filter(|(_, a)| a == action)
            .filter_map(|(text, _)| Key::parse(text).ok())
            .map(|key| quote(&key.config_string()))
            .collect();
        let value = match keys.as_slice() {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        say(&format!("# {} = {value}  # {}", action.name(), action.describe()));
    }
    out
}

mod commands;

#[cfg(test)]
mod tests;

//! The `portolan` binary: arguments, connection, and the choice between the UI and a
//! one-shot snapshot. Errors reach the operator as words on stderr.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use portolan::cli::{Cli, Command, DemoAction, DemoArgs, HistoryArgs, HistoryFormat, StatsMode};
use portolan::config::{self, Config, ConfigError, HostEntry};
use portolan::engine::discover::{self, NamedTried, NothingAnswers, Surroundings};
use portolan::engine::endpoint::DEFAULT_SOCKET;
use portolan::engine::fleet::{Fleet, Member};
use portolan::engine::resolve::Choice;
use portolan::engine::{self, ConnectError, Endpoint, EngineOptions, Start, StatsSource};
use portolan::model::logs::LogTarget;
use portolan::model::{Host, Model, Update};
use portolan::record::{self, Retention, session::Recording};
use portolan::snapshot::collect::{self, LogsView, Outcome, TextView};
use portolan::ui::theme::announces_more_than_16;
use portolan::ui::{self, App, PaneId};

/// Exit status when the engine cannot be reached, or the command line or the config
/// file is unusable.
const EXIT_UNREACHABLE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.print_config {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(portolan::config::default_config_text().as_bytes());
        let _ = stdout.flush();
        return ExitCode::SUCCESS;
    }
    init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("portolan: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        // A reader that stopped reading (`portolan snapshot | head`) is not an error.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("portolan: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        let io = cause.downcast_ref::<std::io::Error>().map(std::io::Error::kind);
        io == Some(std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<portolan::snapshot::collect::WriteError>()
                .is_some_and(|e| e.is_broken_pipe())
    })
}

fn init_logging(cli: &Cli) {
    let path = cli.log_file.clone().or_else(|| std::env::var_os("PORTOLAN_LOG").map(Into::into));
    let Some(path) = path else { return };
    match std::fs::OpenOptions::new().create(true).append(true).open(&path) {
        Ok(file) => {
            let filter = tracing_subscriber::EnvFilter::try_from_env("PORTOLAN_LOG_LEVEL")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("portolan=debug"));
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::sync::Mutex::new(file))
                .with_ansi(false)
                .init();
        }
        Err(error) => eprintln!("portolan: cannot open log file {}: {error}", path.display()),
    }
}

fn unreachable(endpoint: &str, error: &ConnectError) -> ExitCode {
    let mut stderr = std::io::stderr();
    let _ = writeln!(stderr, "portolan: cannot reach the Docker engine at {endpoint}: {error}.");
    let _ = writeln!(stderr, "  {}", error.hint());
    ExitCode::from(EXIT_UNREACHABLE)
}

/// The engine named cannot even be tried: a bad address, context or TLS setting.
fn unusable(error: &ConnectError) -> ExitCode {
    let mut stderr = std::io::stderr();
    let _ = writeln!(stderr, "portolan: {error}.");
    let _ = writeln!(stderr, "  {}", error.hint());
    ExitCode::from(EXIT_UNREACHABLE)
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("portolan: {message}");
    ExitCode::from(EXIT_UNREACHABLE)
}

/// Nothing named an engine and none answers where engines usually are.
fn nothing_answers(error: &NothingAnswers) -> ExitCode {
    let mut stderr = std::io::stderr();
    let _ = writeln!(stderr, "portolan: {error}");
    let _ = writeln!(stderr, "  {}", error.hint());
    ExitCode::from(EXIT_UNREACHABLE)
}

/// Why the engines named cannot even be tried.
enum Unusable {
    Endpoint(ConnectError),
    Usage(String),
}

/// The engines to follow, as the operator named them.
enum Engines {
    Named(Vec<NamedEngine>),
    /// Nothing names one: it is looked for where engines usually are (`discover`).
    Unnamed,
}

struct NamedEngine {
    /// What the panes call it.
    name: String,
    endpoint: Endpoint,
    /// What named it, for `--print-engines`.
    by: String,
}

/// The engines to follow, with the names panes call them: each -H and --context in
/// the order given (the TLS flags apply to every -H), else the config's `[[hosts]]`,
/// else the one engine the environment means, as the docker CLI picks it, else none.
fn engines(cli: &Cli, config: &Config) -> Result<Engines, Unusable> {
    // The command line is read as `[[hosts]]` entries with its TLS flags on each.
    let from_flags = |host: Option<String>, context: Option<String>| HostEntry {
        name: None,
        host,
        context,
        tlsverify: cli.tlsverify,
        tlscacert: cli.tlscacert.clone(),
        tlscert: cli.tlscert.clone(),
        tlskey: cli.tlskey.clone(),
    };
    let named = cli.host.len() + cli.context.len();
    let from_config = named == 0 && !config.hosts.is_empty();
    let entries: Vec<HostEntry> = if from_config {
        config.hosts.clone()
    } else if named <= 1 {
        vec![from_flags(cli.host.first().cloned(), cli.context.first().cloned())]
    } else {
        let hosts = cli.host.iter().map(|h| from_flags(Some(h.clone()), None));
        hosts.chain(cli.context.iter().map(|c| from_flags(None, Some(c.clone())))).collect()
    };
    let only_one = entries.len() == 1;
    let choices = entries.into_iter().map(|entry| {
        let choice = Choice {
            host: entry.host,
            context: entry.context,
            tls_verify: entry.tlsverify,
            ca: entry.tlscacert,
            cert: entry.tlscert,
            key: entry.tlskey,
            ..Choice::default()
        }
        .with_env(|name| std::env::var(name).ok());
        (entry.name, choice)
    });
    let mut engines: Vec<NamedEngine> = Vec::new();
    for (name, choice) in choices {
        let (endpoint, by) = match choice.named().map_err(Unusable::Endpoint)? {
            Some(named) if from_config => (named.endpoint, "[[hosts]] in the config".to_string()),
            Some(named) => (named.endpoint, named.by.to_string()),
            None if only_one && !from_config => return Ok(Engines::Unnamed),
            // `default` among several: the root socket, as the docker CLI means it.
            None => (Endpoint::Unix(DEFAULT_SOCKET.into()), "the default context".to_string()),
        };
        // A context and the address it points at are the same engine.
        let target = endpoint.target().to_string();
        if let Some(other) = engines.iter().find(|e| e.endpoint.target().to_string() == target) {
            return Err(Unusable::Usage(format!(
                "{endpoint} is named twice (already as `{}`): each engine once, please",
                other.name
            )));
        }
        let base = name.unwrap_or_else(|| endpoint.short_name());
        // Two engines may look alike by name (two `local` sockets): number the later.
        let mut unique = base.clone();
        let mut n = 2;
        while engines.iter().any(|taken| taken.name == unique) {
            unique = format!("{base}#{n}");
            n += 1;
        }
        engines.push(NamedEngine { name: unique, endpoint, by });
    }
    Ok(Engines::Named(engines))
}

fn surroundings() -> Surroundings {
    Surroundings::from_env(|name| std::env::var(name).ok())
}

/// `--print-engines`: what is named, asked as it would be used, then every place
/// discovery looks at, whether or not it would be needed.
async fn print_engines(engines: &Engines) -> anyhow::Result<ExitCode> {
    let named = match engines {
        Engines::Named(list) => {
            let asks = list.iter().map(|engine| async {
                NamedTried {
                    by: engine.by.clone(),
                    endpoint: engine.endpoint.clone(),
                    outcome: discover::ask_named(&engine.endpoint).await,
                }
            });
            futures_util::future::join_all(asks).await
        }
        Engines::Unnamed => Vec::new(),
    };
    let tried = discover::look(&discover::candidates(&surroundings()), discover::PROBE_LIMIT).await;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(discover::report(&named, &tried).as_bytes())?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The config file and the directory its user themes live in: beside the file in
/// use, so `--config` brings its own themes along.
fn load_config(cli: &Cli) -> Result<(Config, Option<PathBuf>), ConfigError> {
    let xdg = std::env::var("XDG_CONFIG_HOME").ok();
    let home = std::env::var("HOME").ok();
    let default = config::default_path(xdg.as_deref(), home.as_deref());
    let config = Config::load(cli.config.as_deref(), default.as_deref())?;
    let dir = match &cli.config {
        Some(path) => path.parent().map(|p| p.to_path_buf()),
        None => config::config_dir(xdg.as_deref(), home.as_deref()),
    };
    Ok((config, dir.map(|d| d.join("themes"))))
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let (config, themes_dir) = match load_config(&cli) {
        Ok(loaded) => loaded,
        Err(error) => return Ok(usage_error(&error.to_string())),
    };
    let engines = match engines(&cli, &config) {
        Ok(engines) => engines,
        Err(Unusable::Endpoint(error)) => return Ok(unusable(&error)),
        Err(Unusable::Usage(message)) => return Ok(usage_error(&message)),
    };
    if cli.print_engines {
        return print_engines(&engines).await;
    }
    // History reads files and asks no engine: with none named, every record there is.
    if let (Some(Command::History(args)), Engines::Unnamed) = (&cli.command, &engines) {
        let records = match &cli.db {
            Some(db) => vec![(db.display().to_string(), db.clone())],
            None => match every_record() {
                Ok(records) => records,
                Err(message) => return Ok(usage_error(&message)),
            },
        };
        return history(&cli, args, &records);
    }
    let engines: Vec<(String, Endpoint)> = match engines {
        Engines::Named(list) => list.into_iter().map(|e| (e.name, e.endpoint)).collect(),
        // A moment of a named record needs no engine at all.
        Engines::Unnamed if snapshot_at_db(&cli).is_some() => {
            let db = snapshot_at_db(&cli).unwrap_or_default();
            vec![(db.display().to_string(), Endpoint::Unix(db))]
        }
        Engines::Unnamed => match discover::discover(&surroundings()).await {
            Ok(endpoint) => vec![(endpoint.short_name(), endpoint)],
            Err(error) => return Ok(nothing_answers(&error)),
        },
    };
    let record_paths = match record_paths(&cli, &engines) {
        Ok(paths) => paths,
        Err(message) => return Ok(usage_error(&message)),
    };
    if let Some(Command::History(args)) = &cli.command {
        let records: Vec<(String, PathBuf)> =
            engines.iter().map(|(name, _)| name.clone()).zip(record_paths).collect();
        return history(&cli, args, &records);
    }
    if let Some(Command::Demo(args)) = &cli.command {
        let [(_, endpoint)] = engines.as_slice() else {
            return Ok(usage_error("`demo` works on one engine: name one with -H or --context"));
        };
        return demo(args, endpoint).await;
    }
    let pane = match cli.pane.as_deref() {
        None => config.default_pane.unwrap_or(PaneId::Triage),
        Some(name) => match PaneId::parse(name) {
            Some(pane) => pane,
            None => {
                return Ok(usage_error(&format!(
                    "there is no pane `{name}`; panes: {}",
                    PaneId::names().join(", ")
                )));
            }
        },
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = match config.theme(cli.theme.as_deref(), no_color, themes_dir.as_deref()) {
        Ok(theme) => theme,
        Err(error) => return Ok(usage_error(&error.to_string())),
    };
    let colorterm = std::env::var("COLORTERM").ok();
    let term = std::env::var("TERM").ok();
    // Colours a terminal does not announce come out as whatever it makes of them:
    // move them to the nearest of the 16 it certainly has.
    let theme = if announces_more_than_16(colorterm.as_deref(), term.as_deref()) {
        theme
    } else {
        theme.to_ansi16()
    };
    let refresh = match cli.refresh.as_deref().map(config::parse_duration) {
        None => config.refresh.unwrap_or(config::DEFAULT_REFRESH),
        Some(Some(refresh)) if (0.25..=60.0).contains(&refresh.as_secs_f64()) => refresh,
        Some(_) => {
            return Ok(usage_error(
                "--refresh takes a duration from 250ms to 60s, like 500ms, 1s or 2s",
            ));
        }
    };
    if no_color {
        // crossterm answers NO_COLOR by writing `ESC[m` for every colour change, which
        // also resets bold and reverse: the mono theme uses no colours, so let crossterm
        // write attributes normally and the selection stays visible.
        crossterm::style::force_color_output(true);
    }

    if let Some(Command::Snapshot(args)) = &cli.command
        && let Some(at) = &args.at
    {
        let view =
            TextView { pane, theme, keymap: config.keymap, container: cli.container.clone() };
        return snapshot_at(args, at, cli.project.clone(), view, &engines, &record_paths);
    }
    // Every engine at once: start-up takes as long as the slowest, not the sum.
    let attempts = futures_util::future::join_all(
        engines.iter().map(|(_, endpoint)| engine::connect(endpoint, engine::CONNECT_TIMEOUT)),
    )
    .await;
    if attempts.iter().all(Result::is_err) {
        // Nothing to show: say why for each, as for one.
        let mut code = ExitCode::from(EXIT_UNREACHABLE);
        for ((_, endpoint), attempt) in engines.iter().zip(&attempts) {
            if let Err(error) = attempt {
                code = unreachable(&endpoint.to_string(), error);
            }
        }
        return Ok(code);
    }
    let options = EngineOptions {
        stats_source: match cli.stats {
            StatsMode::Auto => StatsSource::Auto,
            StatsMode::Api => StatsSource::Api,
        },
        stats_interval: refresh,
        // Only a session that writes a record keeps excerpts around incidents.
        incident_excerpts: match cli.command {
            Some(Command::Record(_)) => true,
            None => !cli.no_record && config.record.unwrap_or(true),
            _ => false,
        },
        ..EngineOptions::default()
    };
    let since =
        match cli.since.as_deref().map(|s| portolan::cli::parse_since(s, chrono::Utc::now())) {
            None => None,
            Some(Ok(since)) => Some(since),
            Some(Err(message)) => return Ok(usage_error(&message)),
        };
    let now = chrono::Utc::now();
    let hosts: Vec<Host> = engines
        .iter()
        .map(|(name, endpoint)| {
            let mut host = Host::new(name.clone(), endpoint.to_string(), now);
            if let Endpoint::Context { name, .. } = endpoint {
                host.context = Some(name.clone());
            }
            host
        })
        .collect();
    let members = engines
        .into_iter()
        .zip(attempts)
        .map(|((_, endpoint), attempt)| Member {
            endpoint,
            start: match attempt {
                Ok(session) => Start::Connected(Box::new(session)),
                Err(error) => Start::Failed(error.to_string()),
            },
        })
        .collect();
    let handle = Fleet::spawn(members, &options);
    let mut model = Model::with_hosts(hosts, now);
    let log_budget =
        cli.log_budget.or(config.log_budget_mib).unwrap_or(config::DEFAULT_LOG_BUDGET_MIB);
    model.logs.set_budget(log_budget.clamp(1, 64 * 1024) * 1024 * 1024);
    let log_target = match (&cli.container, &cli.project) {
        (Some(name), _) => Some((LogTarget::Names([name.clone()].into()), name.clone())),
        (None, Some(project)) if pane == PaneId::Logs => {
            Some((LogTarget::project(project), format!("project {project}")))
        }
        _ => None,
    };

    if matches!(cli.command, Some(Command::Snapshot(_))) {
        // A snapshot only reads: the record's open problems give their true "since".
        let paths = record_paths.iter().cloned().map(Some).collect();
        let (_, updates, _) =
            Recording::start(paths, false, &Retention::default(), "snapshot", |_, _| {});
        for (host, update) in updates {
            model.apply_from(host, update);
        }
    }
    match cli.command {
        Some(Command::Snapshot(args)) if pane == PaneId::Logs => {
            let Some((target, label)) = log_target else {
                return Ok(usage_error(
                    "`snapshot --pane logs` needs --container NAME or --project NAME",
                ));
            };
            let view = LogsView {
                target,
                label,
                project: cli.project,
                since,
                theme,
                report_rates: std::env::var_os("PORTOLAN_LOG_STATS").is_some(),
            };
            collect::logs(args, view, model, handle).await?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Snapshot(_)) if pane == PaneId::Shell => {
            Ok(usage_error("a shell is interactive: `--pane shell` is for the terminal UI only"))
        }
        Some(Command::Snapshot(_)) if pane == PaneId::Changes && cli.container.is_none() => Ok(
            usage_error("`snapshot --pane changes` needs --container NAME: whose changes to list"),
        ),
        Some(Command::Snapshot(_)) if pane == PaneId::Files && cli.container.is_none() => {
            Ok(usage_error("`snapshot --pane files` needs --container NAME: whose files to list"))
        }
        Some(Command::Snapshot(args)) => {
            if pane == PaneId::Processes && cli.container.is_none() {
                return Ok(usage_error("`snapshot --pane processes` needs --container NAME"));
            }
            let view = TextView { pane, theme, keymap: config.keymap, container: cli.container };
            match collect::snapshot(args, cli.project, view, model, handle).await? {
                Outcome::Written => Ok(ExitCode::SUCCESS),
                Outcome::NotListed => {
                    eprintln!("portolan: the engine did not list its containers in time");
                    Ok(ExitCode::from(EXIT_UNREACHABLE))
                }
            }
        }
        // Handled before the engine is followed.
        Some(Command::Demo(_) | Command::History(_)) => Ok(ExitCode::SUCCESS),
        Some(Command::Record(args)) => {
            let retention = Retention::with_budget_mib(
                args.budget
                    .or(config.record_budget_mib)
                    .unwrap_or(config::DEFAULT_RECORD_BUDGET_MIB),
            );
            match portolan::record::run::record(
                record_paths,
                retention,
                args.metrics.clone(),
                config.alerts.clone(),
                // Nothing is drawn: a few points a container are all the recorder reads.
                model.with_history_len(4),
                handle,
            )
            .await
            {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(error) => {
                    eprintln!("portolan: {error}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        None => {
            let mut app = App::new(model, theme, config.keymap, chrono::Utc::now());
            app.read_only = cli.read_only || config.read_only.unwrap_or(false);
            app.exec_shell =
                config.exec_shell.unwrap_or_else(|| config::DEFAULT_EXEC_SHELL.to_string());
            app.mouse = !cli.no_mouse && config.mouse.unwrap_or(true);
            let hyperlinks = cli.hyperlinks.or(config.hyperlinks).unwrap_or_default();
            app.hyperlinks = hyperlinks.enabled(|name| std::env::var(name).ok());
            app.log_target = log_target;
            app.log_tail = cli.tail;
            app.log_since = since;
            if let Some(project) = cli.project {
                app.set_project(Some(project));
            }
            // `--container` names whose processes or changes the opening pane shows; the
            // other pane's tab stays hidden until it is asked for.
            app.pane = pane;
            match pane {
                PaneId::Changes => app.panes.changes.target = cli.container,
                PaneId::Files => app.panes.files.target = cli.container,
                PaneId::Processes => app.processes_name = cli.container,
                // A shell is opened once the inventory lists the container.
                PaneId::Shell => app.shell_name = cli.container,
                _ => {}
            }
            if pane == PaneId::Logs {
                app.open_logs();
            }
            app.watch_processes();
            let write = options.incident_excerpts;
            let retention = Retention::with_budget_mib(
                config.record_budget_mib.unwrap_or(config::DEFAULT_RECORD_BUDGET_MIB),
            );
            let (news_tx, news) = tokio::sync::mpsc::unbounded_channel();
            let paths = record_paths.iter().cloned().map(Some).collect();
            let (recording, updates, openings) =
                Recording::start(paths, write, &retention, "ui", move |host, n| {
                    let _ = news_tx.send((host, n));
                });
            for (host, update) in updates {
                app.model.apply_from(host, update);
            }
            let now = chrono::Utc::now();
            for opening in openings {
                if let Some(problem) = opening.problem {
                    let message = format!("record: {problem}");
                    app.model.apply_from(opening.host, Update::Warning { at: now, message });
                }
            }
            let names: Vec<String> = app.model.hosts.iter().map(|h| h.name.clone()).collect();
            let away = while_away(&record_paths, &names, app.project.as_deref(), now);
            if !away.is_empty() {
                app.overlay = Some(ui::overlay::Overlay::Away(away));
            }
            let paths = record_paths.iter().cloned().map(Some).collect();
            ui::run(app, handle, ui::Recorded { recording, news, paths }).await?;
            let now = chrono::Utc::now();
            for path in record_paths.iter().filter(|p| p.exists()) {
                if let Err(error) = record::read::note_looked(path, now) {
                    eprintln!("portolan: cannot note when you last looked: {error}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What each engine's record says happened since the operator last looked (a day
/// back when never), for the popup the UI opens with.
fn while_away(
    paths: &[PathBuf],
    names: &[String],
    project: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<record::read::Away> {
    let offset = *chrono::Local::now().offset();
    let several = paths.len() > 1;
    paths
        .iter()
        .zip(names)
        .filter_map(|(path, name)| {
            let store = record::store::Store::open_for_reading(path).ok().flatten()?;
            let looked = record::read::last_looked(path);
            let from = looked
                .unwrap_or(now - chrono::Duration::days(1))
                .max(now - chrono::Duration::days(7));
            let mut history = record::read::history(&store, from, now).ok()?;
            if let Some(project) = project {
                history = history.of_project(project);
            }
            let engine = several.then_some(name.as_str());
            record::read::away(&history, engine, looked.is_some(), now, offset)
        })
        .collect()
}

/// Each engine's record file: `--db` for the one engine, else one per engine under
/// the state directory. An engine without a home to put it in is not recorded.
/// The record of `snapshot --at … --db PATH`, which reads no engine.
fn snapshot_at_db(cli: &Cli) -> Option<PathBuf> {
    match &cli.command {
        Some(Command::Snapshot(args)) if args.at.is_some() => cli.db.clone(),
        _ => None,
    }
}

/// `snapshot --at TIME`: the state the records hold for that moment, drawn or
/// written as JSON like a live snapshot; no engine is asked.
fn snapshot_at(
    args: &portolan::cli::SnapshotArgs,
    at: &str,
    project: Option<String>,
    view: TextView,
    engines: &[(String, Endpoint)],
    record_paths: &[PathBuf],
) -> anyhow::Result<ExitCode> {
    use portolan::ui::history::{HISTORY_PANES, HistoryMode};
    let now = chrono::Utc::now();
    let offset = *chrono::Local::now().offset();
    let at = match record::when::parse(at, now, offset) {
        Ok(at) => at,
        Err(error) => return Ok(usage_error(&format!("--at: {error}"))),
    };
    if args.format != portolan::cli::Format::Json && !HISTORY_PANES.contains(&view.pane) {
        let panes: Vec<&str> = HISTORY_PANES.iter().map(|p| p.name()).collect();
        return Ok(usage_error(&format!(
            "the {} pane shows only the live state; --at draws {}",
            view.pane.name(),
            panes.join(", ")
        )));
    }
    let hosts: Vec<Host> = engines
        .iter()
        .map(|(name, endpoint)| Host::new(name.clone(), endpoint.to_string(), at))
        .collect();
    let paths: Vec<Option<PathBuf>> = record_paths.iter().cloned().map(Some).collect();
    let (model, caveat) = match record::read::rewind(&paths, &hosts, at, offset) {
        Ok(found) => found,
        Err(words) => {
            eprintln!("portolan: {words}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let history = HistoryMode { at, caveat, live: None };
    match collect::write(args, project, view, model, at, Some(history)) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) if error.is_broken_pipe() => Ok(ExitCode::SUCCESS),
        Err(error) => Err(error.into()),
    }
}

fn record_paths(cli: &Cli, engines: &[(String, Endpoint)]) -> Result<Vec<PathBuf>, String> {
    if let Some(db) = &cli.db {
        return match engines {
            [_] => Ok(vec![db.clone()]),
            _ => {
                Err("--db names one record: use it with one engine (each engine has its own file)"
                    .into())
            }
        };
    }
    let state = std::env::var("XDG_STATE_HOME").ok();
    let home = std::env::var("HOME").ok();
    engines
        .iter()
        .map(|(name, endpoint)| {
            record::default_path(&endpoint.target().to_string(), state.as_deref(), home.as_deref())
                .ok_or_else(|| format!("no place for {name}'s record: set HOME or XDG_STATE_HOME, or give --db PATH"))
        })
        .collect()
}

/// Every record in the state directory, named by its file: what `portolan history`
/// reads when no engine is named.
fn every_record() -> Result<Vec<(String, PathBuf)>, String> {
    let state = std::env::var("XDG_STATE_HOME").ok();
    let home = std::env::var("HOME").ok();
    let Some(dir) = record::default_path("", state.as_deref(), home.as_deref())
        .and_then(|p| p.parent().map(Path::to_path_buf))
    else {
        return Err("no state directory: set HOME or XDG_STATE_HOME, or give --db PATH".into());
    };
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "nothing recorded yet: {} does not exist (`portolan record` or the UI records)",
                dir.display()
            ));
        }
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut records: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "db"))
        .map(|path| {
            let name =
                path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            (name, path)
        })
        .collect();
    records.sort();
    Ok(records)
}

/// `portolan history`: what the records hold, without asking the engines anything.
fn history(
    cli: &Cli,
    args: &HistoryArgs,
    records: &[(String, PathBuf)],
) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now();
    let from = match portolan::cli::parse_since(cli.since.as_deref().unwrap_or("24h"), now) {
        Ok(from) => from,
        Err(message) => return Ok(usage_error(&message)),
    };
    let offset = *chrono::Local::now().offset();
    let mut json = Vec::new();
    let mut stdout = std::io::stdout().lock();
    for (name, path) in records {
        let store = match record::store::Store::open_for_reading(path) {
            Ok(Some(store)) => store,
            Ok(None) => {
                eprintln!(
                    "portolan: {name}: nothing recorded yet ({} does not exist); `portolan record` or the UI records",
                    path.display()
                );
                continue;
            }
            Err(error) => {
                eprintln!("portolan: {name}: {error}");
                return Ok(ExitCode::from(EXIT_UNREACHABLE));
            }
        };
        let found = match record::read::history(&store, from, now) {
            Ok(found) => found,
            Err(error) => {
                eprintln!("portolan: {name}: {error}");
                return Ok(ExitCode::FAILURE);
            }
        };
        match args.format {
            HistoryFormat::Text => {
                if records.len() > 1 {
                    writeln!(stdout, "== {name} ({})", path.display())?;
                }
                stdout.write_all(record::read::text(&found, offset).as_bytes())?;
            }
            HistoryFormat::Json => json.push(serde_json::json!({
                "engine": name,
                "record": path.display().to_string(),
                "history": found,
            })),
        }
    }
    if args.format == HistoryFormat::Json {
        serde_json::to_writer_pretty(&mut stdout, &serde_json::json!({ "engines": json }))?;
        writeln!(stdout)?;
    }
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `portolan demo up|down|list`: the sample stacks of `portolan::demo`. Progress goes
/// to stderr, summaries and the list to stdout.
async fn demo(args: &DemoArgs, endpoint: &Endpoint) -> anyhow::Result<ExitCode> {
    use portolan::demo::report::Progress;
    use portolan::engine::demo::{self, UpOptions};
    let shown = endpoint.to_string();
    let (docker, info) = match engine::connect(endpoint, engine::CONNECT_TIMEOUT).await {
        Ok(connected) => connected,
        Err(error) => return Ok(unreachable(&shown, &error)),
    };
    let state_root = demo::default_state_root();
    // Summaries and the list on stdout, progress on stderr.
    let progress = |step: Progress| match step {
        Progress::Summary(text) => {
            let mut stdout = std::io::stdout().lock();
            let _ = write!(stdout, "{text}").and_then(|()| stdout.flush());
        }
        step => eprintln!("{step}"),
    };
    let result = match &args.action {
        DemoAction::Up { names, image, timeout } => {
            let options = UpOptions {
                image: image.clone(),
                timeout: Duration::from_secs(*timeout),
                state_root,
                local: endpoint.is_local(),
            };
            demo::up(&docker, &info, names, &options, &progress).await
        }
        DemoAction::Down { names } => {
            demo::down(&docker, names, &state_root, &progress).await.map(|_| ())
        }
        DemoAction::List => {
            let result = demo::status(&docker).await;
            if let Ok(stacks) = &result {
                let mut stdout = std::io::stdout().lock();
                write!(stdout, "{}", portolan::demo::report::list(stacks))?;
                stdout.flush()?;
            }
            result.map(|_| ())
        }
    };
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) if error.is_usage() => Ok(usage_error(&error.to_string())),
        Err(error) => {
            eprintln!("portolan: {error}");
            if let Some(stack) = error.stack() {
                eprintln!(
                    "  What was created is left for a look; `portolan demo down {stack}` removes it."
                );
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

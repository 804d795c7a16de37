//! `portolan snapshot`: follows the engines until the view is complete, then writes
//! it once to stdout, as JSON, as the text of a pane, or as its SVG picture.
//!
//! This module owns when a snapshot is complete enough to write; the drawing is the
//! UI's and the document's shape is `json`'s. Arguments and exit codes stay with the
//! binary.

use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::json::{JsonOptions, document};
use super::svg::buffer_to_svg;
use crate::cli::{Format, SnapshotArgs};
use crate::engine::fleet::Fleet;
use crate::engine::logs::LogRequest;
use crate::engine::processes::ProcessRequest;
use crate::engine::{self, EngineCommand};
use crate::model::changes::{ChangeKind, tree_rows};
use crate::model::logs::LogTarget;
use crate::model::{Model, Update};
use crate::ui::keymap::Keymap;
use crate::ui::theme::Theme;
use crate::ui::{self, App, PaneId};

/// What a `snapshot --format text` draws with, as the UI would.
pub struct TextView {
    pub pane: PaneId,
    pub theme: Theme,
    pub keymap: Keymap,
    /// The container the Processes or Changes pane shows (`--container`).
    pub container: Option<String>,
}

/// The logs a `snapshot --pane logs` follows, and how the pane names them.
pub struct LogsView {
    pub target: LogTarget,
    pub label: String,
    pub project: Option<String>,
    /// Lines since this moment, instead of the last screenful.
    pub since: Option<DateTime<Utc>>,
    pub theme: Theme,
    /// Say on stderr how fast the lines came in (for `scripts/perf-logs.sh`).
    pub report_rates: bool,
}

/// How a snapshot ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Written,
    /// No engine listed its containers in time: there is nothing true to write.
    NotListed,
}

/// Why a snapshot could not be written out.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("could not write the snapshot: {0}")]
    Io(#[from] std::io::Error),
    #[error("could not write the snapshot: {0}")]
    Json(#[from] serde_json::Error),
}

impl WriteError {
    /// The reader went away (`portolan snapshot | head`): nothing is wrong.
    pub fn is_broken_pipe(&self) -> bool {
        let kind = match self {
            WriteError::Io(error) => Some(error.kind()),
            WriteError::Json(error) => error.io_error_kind(),
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    }
}

/// `snapshot` of any pane but logs: waits for every engine's inventory and, as long
/// as `--wait` allows, a stats point of every running container.
pub async fn snapshot(
    args: SnapshotArgs,
    project: Option<String>,
    view: TextView,
    mut model: Model,
    mut handle: Fleet,
) -> Result<Outcome, WriteError> {
    let wait = Duration::from_secs_f64(args.wait.clamp(0.0, 600.0));
    let started = tokio::time::Instant::now();
    // Each engine is done once it has listed its containers or is known unreachable.
    let mut settled = vec![false; handle.len()];
    // The image list follows the inventory at once (or a warning says why not).
    let mut images_due = vec![false; handle.len()];
    let mut synced = false;
    // The inventory must arrive whatever --wait says; stats only as long as it allows.
    let sync_deadline = started + engine::CONNECT_TIMEOUT + engine::INVENTORY_DEADLINE + wait;
    // The processes pane needs one read of the container's list, asked for once the
    // inventory says which container the name is.
    let processes = view.container.as_deref().filter(|_| view.pane == PaneId::Processes);
    let mut asked: Option<String> = None;
    loop {
        let all_settled = settled.iter().all(|s| *s) && !images_due.iter().any(|d| *d);
        if let Some(name) = processes
            && all_settled
            && asked.is_none()
        {
            match model.container_named(name) {
                Some(c) if c.state.is_running() => {
                    let request = ProcessRequest { host: c.host, container: c.id.clone() };
                    handle.command(EngineCommand::Processes(Some(request)));
                    asked = Some(c.id.clone());
                }
                // Nothing to read: the pane says why.
                _ => asked = Some(String::new()),
            }
        }
        let processes_read = match asked.as_deref() {
            _ if processes.is_none() => true,
            Some("") => true,
            Some(id) => model.processes.as_ref().is_some_and(|t| t.id == id),
            None => false,
        };
        if processes.is_some() && all_settled && processes_read {
            break;
        }
        if processes.is_none()
            && all_settled
            && (started.elapsed() >= wait || stats_complete(&model, project.as_deref()))
        {
            break;
        }
        let deadline = if processes.is_some() {
            sync_deadline
        } else {
            deadline_for(all_settled, started, wait, sync_deadline)
        };
        match tokio::time::timeout_at(deadline, handle.updates.recv()).await {
            Ok(Some((host, update))) => {
                match &update {
                    Update::Synced(_) => {
                        synced = true;
                        settled[host] = true;
                        images_due[host] = true;
                    }
                    Update::Images(_) | Update::Warning { .. } => images_due[host] = false,
                    Update::Disconnected { .. } => {
                        settled[host] = true;
                        images_due[host] = false;
                    }
                    _ => {}
                }
                model.apply_from(host, update);
            }
            Ok(None) => break,
            Err(_) => break,
        }
    }
    if synced && view.pane == PaneId::Changes {
        changes(&mut model, &mut handle, view.container.as_deref()).await;
    }
    if synced && view.pane == PaneId::Files {
        files(&mut model, &mut handle, view.container.as_deref()).await;
    }
    if synced && view.pane == PaneId::Disk {
        disk(&mut model, &mut handle).await;
    }
    handle.stop().await;
    if !synced {
        return Ok(Outcome::NotListed);
    }
    write(&args, project, view, model, Utc::now(), None)?;
    Ok(Outcome::Written)
}

/// Writes the snapshot of `model` at `now` to stdout; `history` marks a moment of
/// the record (`snapshot --at`).
pub fn write(
    args: &SnapshotArgs,
    project: Option<String>,
    view: TextView,
    model: Model,
    now: DateTime<Utc>,
    history: Option<crate::ui::history::HistoryMode>,
) -> Result<(), WriteError> {
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let options = JsonOptions { project: project.clone(), show_secrets: args.show_secrets };
            let mut document = document(&model, now, &options);
            document.history = history.map(|h| super::json::HistoryJson {
                at: h.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                caveat: h.caveat,
            });
            serde_json::to_writer_pretty(&mut stdout, &document)?;
            writeln!(stdout)?;
        }
        Format::Text | Format::Svg => {
            let TextView { pane, theme, keymap, container } = view;
            let mut app = App::new(model, theme, keymap, now);
            app.history = history;
            app.pane = pane;
            match pane {
                // Asked above, with the snapshot's own wait; drawing asks nothing.
                PaneId::Changes => app.panes.changes.target = container,
                PaneId::Files => app.panes.files.target = container,
                PaneId::Processes => app.processes_name = container,
                _ => {}
            }
            app.set_project(project);
            if pane == PaneId::Processes {
                // Keep the list read above: the watch would clear it as a new one.
                let table = app.model.processes.take();
                app.watch_processes();
                app.model.processes = table;
            }
            let (width, height) = (args.width.clamp(20, 1000), args.height.clamp(5, 1000));
            // The map is a diagram: printed alone at the full size, without the chrome.
            let buffer = if pane == PaneId::Map {
                ui::render_map_buffer(&mut app, width, height)
            } else {
                ui::render_buffer(&mut app, width, height)
            };
            if args.format == Format::Svg {
                write!(stdout, "{}", buffer_to_svg(&buffer, &app.theme))?;
            } else {
                write!(stdout, "{}", ui::buffer_to_text(&buffer))?;
            }
        }
    }
    stdout.flush()?;
    Ok(())
}

/// How long to wait for the next update: the stats wait once every engine is listed.
fn deadline_for(
    all_settled: bool,
    started: tokio::time::Instant,
    wait: Duration,
    sync_deadline: tokio::time::Instant,
) -> tokio::time::Instant {
    if all_settled { started + wait } else { sync_deadline }
}

/// How long `snapshot --pane changes` waits for the engine to list the changes.
const CHANGES_WAIT: Duration = Duration::from_secs(60);

/// Asks for the changes of the container `target` names and waits for the answer;
/// a container not listed is left for the pane to say so.
async fn changes(model: &mut Model, handle: &mut Fleet, target: Option<&str>) {
    let Some(c) = target.and_then(|t| ui::panes::changes::resolve(model, t)) else { return };
    let (host, id) = (c.host, c.id.clone());
    handle.command(EngineCommand::Changes { host, id: id.clone() });
    let deadline = tokio::time::Instant::now() + CHANGES_WAIT;
    let answered = |update: &Update| matches!(update, Update::Changes(ch) if ch.id == id);
    if !wait_for(model, handle, deadline, answered).await {
        return;
    }
    // The pane opens on its first row: its size is read as the pane would read it.
    let first = model
        .changes
        .get(&id)
        .and_then(|ch| ch.result.as_ref().ok())
        .and_then(|list| tree_rows(list, &|_| false).into_iter().next());
    let Some(row) = first.filter(|r| !r.is_dir() && r.kind != Some(ChangeKind::Deleted)) else {
        return;
    };
    handle.command(EngineCommand::PathStat { host, id: id.clone(), path: row.path.clone() });
    let described = |update: &Update| matches!(update, Update::PathStat(stat) if stat.id == id && stat.path == row.path);
    wait_for(model, handle, deadline, described).await;
}

/// How long `snapshot --pane files` waits for the listing (its own budget stops it
/// sooner on a big tree).
const FILES_WAIT: Duration = Duration::from_secs(30);

/// Asks for the listing of the root of the container `target` names, as the pane
/// would on opening, and waits for it.
async fn files(model: &mut Model, handle: &mut Fleet, target: Option<&str>) {
    use crate::engine::files::FilesRequest;
    let Some(c) = target.and_then(|t| model.container_named(t)) else { return };
    let (host, id) = (c.host, c.id.clone());
    let request = FilesRequest::List { id: id.clone(), path: "/".into() };
    handle.command(EngineCommand::Files { host, request });
    let deadline = tokio::time::Instant::now() + FILES_WAIT;
    let listed = |update: &Update| matches!(update, Update::Files(f) if matches!(&**f, crate::model::files::FilesUpdate::Listing(l) if l.id == id));
    wait_for(model, handle, deadline, listed).await;
}

/// How long `snapshot --pane disk` waits for `/system/df`.
const DISK_WAIT: Duration = Duration::from_secs(120);

/// Reads the first engine's disk usage once, as the pane does on opening (the JSON
/// document gains `disk` from it).
async fn disk(model: &mut Model, handle: &mut Fleet) {
    model.ask_disk(0);
    handle.command(EngineCommand::DiskUsage { host: 0 });
    let deadline = tokio::time::Instant::now() + DISK_WAIT;
    wait_for(model, handle, deadline, |update| matches!(update, Update::DiskUsage(_))).await;
}

/// Applies updates until one passes `done` (true) or the deadline passes (false).
async fn wait_for(
    model: &mut Model,
    handle: &mut Fleet,
    deadline: tokio::time::Instant,
    done: impl Fn(&Update) -> bool,
) -> bool {
    while let Ok(Some((host, update))) =
        tokio::time::timeout_at(deadline, handle.updates.recv()).await
    {
        let found = done(&update);
        model.apply_from(host, update);
        if found {
            return true;
        }
    }
    false
}

/// Whether every running container has a stats point with a CPU figure.
fn stats_complete(model: &Model, project: Option<&str>) -> bool {
    model
        .containers
        .values()
        .filter(|c| c.state.is_running() && c.in_project(project))
        .all(|c| model.stats.get(&c.id).is_some_and(|s| s.latest_with_cpu().is_some()))
}

/// `snapshot --pane logs`: the last lines of the merged view, plain; or with
/// `--format svg`, the logs pane as the terminal would show it.
pub async fn logs(
    args: SnapshotArgs,
    view: LogsView,
    model: Model,
    mut handle: Fleet,
) -> Result<(), WriteError> {
    let LogsView { target, label, project, since, theme, report_rates } = view;
    let request = LogRequest {
        target: target.clone(),
        tail: u32::from(args.height.max(1)),
        since,
        hosts: None,
    };
    let mut app = App::new(model, theme, Keymap::default(), Utc::now());
    app.pane = PaneId::Logs;
    app.log_target = Some((target, label));
    app.set_project(project);
    app.open_logs();
    // This snapshot follows the logs itself, with its own tail.
    app.pending.clear();

    handle.command(EngineCommand::FollowLogs(Some(request)));
    let started = tokio::time::Instant::now();
    let deadline = started
        + engine::CONNECT_TIMEOUT
        + engine::INVENTORY_DEADLINE
        + Duration::from_secs_f64(args.wait.clamp(0.0, 600.0));
    let mut synced = false;
    // Lines come in batches; the view is complete once none arrives for a moment.
    let quiet = Duration::from_millis(400);
    let (mut received, mut first, mut last) = (0usize, None, None);
    loop {
        let wait = if synced {
            quiet
        } else {
            deadline.saturating_duration_since(tokio::time::Instant::now())
        };
        match tokio::time::timeout(wait, handle.updates.recv()).await {
            Ok(Some((host, update))) => {
                synced |= matches!(update, Update::Synced(_));
                if let Update::Logs(batch) = &update {
                    received += batch.lines.len();
                    first.get_or_insert_with(std::time::Instant::now);
                    last = Some(std::time::Instant::now());
                }
                app.apply_from(host, update);
            }
            Ok(None) | Err(_) => break,
        }
        if tokio::time::Instant::now() >= deadline {
            break;
        }
    }
    handle.stop().await;
    if report_rates {
        let seconds = match (first, last) {
            (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
            _ => 0.0,
        };
        let drops = app.model.logs.total_drops();
        eprintln!(
            "portolan: received {received} lines in {seconds:.3} s ({:.0} lines/s); kept {}, dropped {} (budget {}, rate {})",
            received as f64 / seconds.max(1e-9),
            app.model.logs.len(),
            drops.total(),
            drops.budget,
            drops.rate
        );
    }
    let mut stdout = std::io::stdout().lock();
    if args.format == Format::Svg {
        app.now = Utc::now();
        let (width, height) = (args.width.clamp(20, 1000), args.height.clamp(5, 1000));
        let buffer = ui::render_buffer(&mut app, width, height);
        write!(stdout, "{}", buffer_to_svg(&buffer, &app.theme))?;
        stdout.flush()?;
        return Ok(());
    }
    let model = &app.model;
    let lines: Vec<_> = model.logs.merged(None).collect();
    let start = lines.len().saturating_sub(usize::from(args.height.max(1)));
    let names = ui::panes::logs::source_names(model, usize::MAX);
    for line in &lines[start..] {
        let name = names.get(&line.source).map_or_else(|| line.source.short(), String::as_str);
        writeln!(stdout, "{name} | {}", line.plain())?;
    }
    stdout.flush()?;
    Ok(())
}

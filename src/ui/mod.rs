//! The terminal front end: the event loop, layout and drawing. It reads the model
//! and never talks to Docker itself.

pub mod app;
pub mod chrome;
pub mod commands;
pub mod exec;
pub mod history;
pub mod hyperlink;
pub mod input;
pub mod keymap;
pub mod layout;
pub mod overlay;
pub mod pane;
pub mod panes;
pub mod terminal;
pub mod theme;

use std::io::Write;
use std::time::{Duration, Instant};

use chrono::Utc;
use crossterm::event::{Event, KeyEventKind};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

pub use app::{App, PaneId, Redraw};

use crate::engine::fleet::Fleet;
use layout::Screen;
use pane::{Pane, PaneView};

/// Redraws are coalesced to at most this often.
const FRAME_INTERVAL: Duration = Duration::from_millis(33);

/// Draws one frame of the whole UI.
pub fn draw(frame: &mut Frame, app: &mut App) {
    let area = frame.area();
    // A theme with a background (high-contrast) owns the whole screen; the others
    // leave base at the terminal's default, so this changes nothing for them.
    frame.buffer_mut().set_style(area, app.theme.style(theme::Slot::Base));
    let mut screen = Screen::new(area, &app.model);
    if screen.too_small {
        chrome::too_small(frame, area, app);
        app.screen = screen;
        return;
    }
    chrome::header(frame, screen.header, app);
    screen.tab_columns = chrome::tabs(frame, screen.tabs, app);
    chrome::outage(frame, screen.outage, app);
    draw_body(frame, screen.body, app);
    chrome::footer(frame, screen.footer, app);
    if app.show_help {
        chrome::help(frame, screen.body, app);
    }
    if let Some(overlay) = &app.overlay {
        overlay.render(frame, screen.body, &app.theme);
    }
    app.screen = screen;
}

/// The pane on screen, or the view over it.
fn draw_body(frame: &mut Frame, area: Rect, app: &mut App) {
    app.sync();
    if let Some(inspect) = app.inspect.as_mut() {
        let view = app::view_of!(app, "Inspect");
        inspect.render(frame, area, &view);
        return;
    }
    let title = match &app.project {
        Some(project) => {
            format!("{} · project {}", app.pane.title(), crate::model::sanitize::one_line(project))
        }
        None => app.pane.title().to_string(),
    };
    let view = app::view_of!(app, &title);
    app.panes.get_mut(app.pane).render(frame, area, &view);
}

/// Renders the UI into a buffer of the given size, with no terminal.
pub fn render_buffer(app: &mut App, width: u16, height: u16) -> Buffer {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let mut terminal = ratatui::Terminal::new(backend).unwrap_or_else(|never| match never {});
    let _ = terminal.draw(|frame| draw(frame, app));
    terminal.backend().buffer().clone()
}

/// Renders the map alone at the full size, no header or footer: what
/// `portolan snapshot --format text --pane map` prints.
pub fn render_map_buffer(app: &mut App, width: u16, height: u16) -> Buffer {
    let area = Rect::new(0, 0, width, height);
    let mut buffer = Buffer::empty(area);
    buffer.set_style(area, app.theme.style(theme::Slot::Base));
    let title = match &app.project {
        Some(project) => format!("Map · project {}", crate::model::sanitize::one_line(project)),
        None => "Map".to_string(),
    };
    let view = app::view_of!(app, &title);
    app.panes.map.render_buffer(&mut buffer, area, &view);
    buffer
}

/// The buffer as plain UTF-8 lines, trailing blanks trimmed: no escape codes.
pub fn buffer_to_text(buffer: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let mut line = String::new();
        let mut skip = 0;
        for x in 0..buffer.area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buffer[(x, y)].symbol();
            line.push_str(symbol);
            skip = unicode_width(symbol).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn unicode_width(symbol: &str) -> usize {
    ratatui::text::Span::raw(symbol).width()
}

/// How often the spinner of a running action turns.
const SPINNER: Duration = Duration::from_millis(100);

/// How often a shell that prints is drawn: at the frame rate while it has the keys
/// (its echo is what the operator waits for), at half of it otherwise, so that a
/// flooding shell leaves the terminal and the keys room (a key's frame is then often
/// drawn at once instead of waiting for the next slot).
fn shell_pace(app: &App) -> Duration {
    if app.pane == PaneId::Shell && app.panes.shell.focused() {
        FRAME_INTERVAL
    } else {
        FRAME_INTERVAL * 2
    }
}

/// The most shell output taken between two looks at the keyboard and the clock.
const SHELL_HELPING: usize = 64 * 1024;

/// Events read from the record each time the Timeline scrolls up past its oldest.
const OLDER_EVENTS: usize = 200;

/// Soft changes (stats, probe results) reach the screen at most this often.
const TICK: Duration = Duration::from_secs(1);

/// Why the full-screen UI stopped before the operator quit.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error("the terminal failed: {0}")]
    Terminal(#[from] std::io::Error),
}

/// The session's record: written while the UI runs (or only read), and what its
/// writers' threads have to say.
pub struct Recorded {
    pub recording: crate::record::session::Recording,
    /// Each engine's record file, where there is one: the Stats pane reads longer
    /// spans from it.
    pub paths: Vec<Option<std::path::PathBuf>>,
    pub news: tokio::sync::mpsc::UnboundedReceiver<(
        crate::model::HostId,
        crate::record::writer::WriterNews,
    )>,
}

/// Runs the full-screen UI until the operator quits.
pub async fn run(mut app: App, mut engine: Fleet, recorded: Recorded) -> Result<(), UiError> {
    let Recorded { mut recording, mut news, paths } = recorded;
    // Reads of the record run on blocking threads and answer here.
    let (series_tx, mut series_rx) = tokio::sync::mpsc::unbounded_channel();
    // The time cursor's moments, read the same way.
    let (history_tx, mut history_rx) = tokio::sync::mpsc::unbounded_channel();
    // Older events for the Timeline, the same way.
    let (older_tx, mut older_rx) = tokio::sync::mpsc::unbounded_channel();
    app.has_record = paths.iter().any(Option::is_some);
    let mut record_tick = tokio::time::interval(TICK);
    record_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let writing = recording.is_writing();
    let mut guard = terminal::TerminalGuard::enter(app.mouse)?;
    let mut input = input::InputReader::spawn();
    let mut dirty = true;
    let mut soft = false;
    // A shell on screen printed: drawn at its own pace (see [`shell_pace`]).
    let mut shell_printed = false;
    let mut last_draw = Instant::now() - FRAME_INTERVAL;
    let mut engine_open = true;
    let mut links = hyperlink::Hyperlinks::new(app.hyperlinks);
    for command in app.pending.drain(..) {
        engine.command(command);
    }
    loop {
        // What the last key or update made due (the Changes pane's request) goes out
        // before the loop waits again.
        app.ask_changes();
        app.ask_files();
        app.ask_resources();
        app.now = Utc::now();
        app.ask_disk();
        app.ask_series();
        for ask in app.series_asks.drain(..) {
            let path = paths.get(ask.host).cloned().flatten();
            let answers = series_tx.clone();
            tokio::task::spawn_blocking(move || {
                let series = crate::record::read::recorded_series(
                    path.as_deref(),
                    ask.host,
                    &ask.container_id,
                    &ask.project_ids,
                    ask.span,
                    Utc::now(),
                );
                let _ = answers.send((ask.host, series));
            });
        }
        app.ask_older();
        for before in std::mem::take(&mut app.older_asks) {
            for (host, path) in paths.iter().enumerate() {
                let (path, answers) = (path.clone(), older_tx.clone());
                tokio::task::spawn_blocking(move || {
                    if let Some(update) =
                        crate::record::read::recorded_events(path.as_deref(), before, OLDER_EVENTS)
                    {
                        let _ = answers.send((host, update));
                    }
                });
            }
        }
        for at in std::mem::take(&mut app.history_asks) {
            let paths = paths.clone();
            let hosts = app.live_model().hosts.clone();
            let (offset, answers) = (app.offset, history_tx.clone());
            tokio::task::spawn_blocking(move || {
                let result = crate::record::read::rewind(&paths, &hosts, at, offset);
                let _ = answers.send(history::HistoryRead { at, result });
            });
        }
        for command in app.pending.drain(..) {
            engine.command(command);
        }
        if soft && last_draw.elapsed() >= TICK {
            dirty = true;
        }
        if shell_printed && last_draw.elapsed() >= shell_pace(&app) {
            dirty = true;
        }
        if dirty {
            let wait = FRAME_INTERVAL.saturating_sub(last_draw.elapsed());
            if wait.is_zero() {
                app.now = Utc::now();
                // Terminals that support it show the frame at once, never half drawn.
                let _ = crossterm::queue!(
                    guard.terminal.backend_mut(),
                    crossterm::terminal::BeginSynchronizedUpdate
                );
                let completed = guard.terminal.draw(|frame| draw(frame, &mut app))?;
                let links = links.plan(completed.buffer, &app.link_urls());
                if let Some(links) = links {
                    // Inside the synchronized update: the link appears with the frame.
                    let _ = hyperlink::Hyperlinks::write(links, guard.terminal.backend_mut());
                }
                let _ = crossterm::queue!(
                    guard.terminal.backend_mut(),
                    crossterm::terminal::EndSynchronizedUpdate
                );
                let _ = guard.terminal.backend_mut().flush();
                // The shell pane's size is known once drawn: a resize goes out now.
                app.flush_shells();
                last_draw = Instant::now();
                dirty = false;
                soft = false;
                shell_printed = false;
                // A test hook: proves the terminal is restored when the UI panics.
                if std::env::var_os("PORTOLAN_DEBUG_PANIC").is_some() {
                    panic!("PORTOLAN_DEBUG_PANIC is set: panicking after the first frame");
                }
            }
        }
        // The next moment something is due: a frame, a soft change, or the clock that
        // moves relative times ("Up 5 minutes") when nothing else redraws.
        let next = if dirty {
            FRAME_INTERVAL.saturating_sub(last_draw.elapsed())
        } else if shell_printed {
            shell_pace(&app).saturating_sub(last_draw.elapsed())
        } else if !app.model.busy.is_empty() {
            // Actions under way: the spinner turns.
            SPINNER.saturating_sub(last_draw.elapsed())
        } else if soft {
            TICK.saturating_sub(last_draw.elapsed())
        } else {
            (TICK * 2).saturating_sub(last_draw.elapsed())
        };
        tokio::select! {
            update = engine.updates.recv(), if engine_open => match update {
                Some((host, update)) => {
                    let mut mark = |redraw| match redraw {
                        Redraw::Now => dirty = true,
                        Redraw::Soon => soft = true,
                        Redraw::No => {}
                    };
                    // The recorder reads the live state, even while the past is shown.
                    recording.observe(host, &update, app.live_model(), Utc::now());
                    mark(app.apply_from(host, update));
                    recording.after_apply(host, app.live_model());
                    // Drain a burst before drawing once.
                    while let Ok((host, update)) = engine.updates.try_recv() {
                        recording.observe(host, &update, app.live_model(), Utc::now());
                        mark(app.apply_from(host, update));
                        recording.after_apply(host, app.live_model());
                    }
                }
                None => engine_open = false,
            },
            event = engine.shells.recv(), if engine_open => if let Some(event) = event {
                shell_printed |= app.shell_event(event);
                // A flood is taken a bounded helping at a time: keys and frames get
                // their turn between helpings, and the shell waits meanwhile.
                let mut budget = SHELL_HELPING;
                while budget > 0 && let Ok(event) = engine.shells.try_recv() {
                    if let crate::engine::shell::ShellEvent::Output { bytes, .. } = &event {
                        budget = budget.saturating_sub(bytes.len());
                    }
                    shell_printed |= app.shell_event(event);
                }
            },
            event = input.events.recv() => match event {
                Some(Event::Key(key)) if key.kind != KeyEventKind::Release => {
                    if app.overlay_open() {
                        // A popup takes keys raw: `y` confirms, typed letters search.
                        dirty |= app.overlay_key(&key);
                    } else if app.text_input_active() {
                        // An open text field takes keys raw (see keymap's module doc).
                        dirty |= app.text_input(&key);
                    } else if let Some(action) = app.keymap.action(&key) {
                        dirty |= app.act(action);
                    } else if let Some(index) = app.keymap.command(&key) {
                        dirty |= app.run_command(index);
                    }
                }
                Some(Event::Mouse(mouse)) => dirty |= app.mouse(&mouse),
                Some(Event::Resize(width, height)) => {
                    let area = ratatui::layout::Rect::new(0, 0, width, height);
                    let _ = guard.terminal.resize(area);
                    dirty = true;
                }
                Some(_) => {}
                None => break,
            },
            _ = record_tick.tick(), if writing => recording.tick(app.live_model(), Utc::now()),
            Some(read) = history_rx.recv() => dirty |= app.history_read(read),
            Some((host, update)) = older_rx.recv() => {
                if app.apply_from(host, update) != Redraw::No {
                    dirty = true;
                }
            }
            Some((host, series)) = series_rx.recv() => {
                let update = crate::model::Update::RecordedSeries(Box::new(series));
                if app.apply_from(host, update) != Redraw::No {
                    dirty = true;
                }
            }
            Some((host, news)) = news.recv() => {
                use crate::record::writer::WriterNews;
                let message = match news {
                    WriterNews::Failed(words) => format!("record: {words}; portolan goes on without recording and retries"),
                    WriterNews::Resumed => "record: recording again".to_string(),
                    WriterNews::Dropped(words) => format!("record: {words}"),
                };
                let at = Utc::now();
                let update = crate::model::Update::Warning { at, message };
                if app.apply_from(host, update) != Redraw::No {
                    dirty = true;
                }
            }
            _ = tokio::time::sleep(next) => {
                if !dirty && (!soft || !app.model.busy.is_empty()) {
                    dirty = true;
                }
            }
        }
        // Keys ask for things, and so can an update (the processes pane's container,
        // named on the command line, is known once the inventory lists it).
        for command in app.pending.drain(..) {
            engine.command(command);
        }
        app.flush_shells();
        if let Some(text) = app.clipboard.take() {
            // The terminal (and tmux, and SSH) carry it to the operator's clipboard.
            let _ = guard.terminal.backend_mut().write_all(panes::inspect::osc52(&text).as_bytes());
            let _ = guard.terminal.backend_mut().flush();
        }
        if let Some(id) = app.exec_request.take() {
            let name = app.model.containers.get(&id).map(|c| c.name.clone()).unwrap_or_default();
            let host = app.model.containers.get(&id).map_or(0, |c| c.host);
            let host = app.model.host(host).clone();
            let outcome = exec::shell(&mut guard, &input, &host, &id, &name, &app.exec_shell).await;
            app.now = Utc::now();
            app.notice = Some(match outcome {
                Ok(text) => app::Notice { text, error: false, at: app.now },
                Err(text) => app::Notice { text, error: true, at: app.now },
            });
            dirty = true;
        }
        if let Some(run) = app.command_request.take() {
            let host = app.model.host(run.host).clone();
            let outcome = commands::run(&mut guard, &input, &host, &run).await;
            app.now = Utc::now();
            app.notice = Some(match outcome {
                Ok(text) => app::Notice { text, error: false, at: app.now },
                Err(text) => app::Notice { text, error: true, at: app.now },
            });
            dirty = true;
        }
        if app.quit {
            break;
        }
    }
    drop(guard);
    recording.stop();
    engine.stop().await;
    Ok(())
}

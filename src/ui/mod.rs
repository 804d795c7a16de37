//! The terminal front end: the event loop, layout and drawing. It reads the model
//! and never talks to Docker itself.

pub mod app;
pub mod chrome;
pub mod exec;
pub mod input;
pub mod keymap;
pub mod overlay;
pub mod panes;
pub mod terminal;
pub mod theme;

use std::io::Write;
use std::time::{Duration, Instant};

use chrono::Utc;
use crossterm::event::{Event, KeyEventKind};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};

pub use app::{App, PaneId, Redraw};

use crate::engine::fleet::Fleet;
use panes::PaneView;

/// Redraws are coalesced to at most this often.
const FRAME_INTERVAL: Duration = Duration::from_millis(33);

/// Draws one frame of the whole UI.
pub fn draw(frame: &mut Frame, app: &mut App) {
    let area = frame.area();
    // A theme with a background (high-contrast) owns the whole screen; the others
    // leave base at the terminal's default, so this changes nothing for them.
    frame.buffer_mut().set_style(area, app.theme.style(theme::Slot::Base));
    if area.width < chrome::MIN_WIDTH || area.height < chrome::MIN_HEIGHT {
        chrome::too_small(frame, area, app);
        return;
    }
    let outage = chrome::outage_shown(&app.model);
    let [header, tabs, outage_area, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(u16::from(outage)),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    chrome::header(frame, header, app);
    chrome::tabs(frame, tabs, app);
    chrome::outage(frame, outage_area, app);
    draw_body(frame, body, app);
    chrome::footer(frame, footer, app);
    if app.show_help {
        chrome::help(frame, body, app);
    }
    if let Some(overlay) = &app.overlay {
        overlay.render(frame, body, &app.theme);
    }
}

fn draw_body(frame: &mut Frame, area: Rect, app: &mut App) {
    if app.inspect.is_some() {
        let view = PaneView {
            model: &app.model,
            theme: &app.theme,
            focused: true,
            title: "Inspect",
            now: app.now,
            offset: app.offset,
        };
        if let Some(inspect) = app.inspect.as_mut() {
            let container = app.model.containers.get(&inspect.id);
            inspect.render(frame, area, &view, container);
        }
        return;
    }
    let title = match &app.project {
        Some(project) => {
            format!("{} · project {}", app.pane.title(), crate::model::sanitize::one_line(project))
        }
        None => app.pane.title().to_string(),
    };
    let project = app.project.clone();
    let project = project.as_deref();
    let view = PaneView {
        model: &app.model,
        theme: &app.theme,
        focused: true,
        title: &title,
        now: app.now,
        offset: app.offset,
    };
    match app.pane {
        PaneId::Triage => app.triage.render(frame, area, &view, project),
        PaneId::Map => app.map.render(frame, area, &view, project),
        PaneId::Stats => app.stats.render(frame, area, &view, project),
        PaneId::Resources => app.resources.render(frame, area, &view, project),
        PaneId::Health => app.health.render(frame, area, &view, project),
        PaneId::Timeline => app.timeline.render(frame, area, &view, project),
        PaneId::Logs => app.logs.render(frame, area, &view),
        PaneId::Routes => app.routes.render(frame, area, &view, project),
        PaneId::Audit => app.audit.render(frame, area, &view, project),
        PaneId::Swarm => app.swarm.render(frame, area, &view, project),
        PaneId::Containers => {
            let selected = app.containers.selected_id().and_then(|id| app.model.containers.get(id));
            let detail_title = selected.map_or("Detail".to_string(), |c| {
                format!("Detail · {}", crate::model::sanitize::one_line(c.display_name()))
            });
            let detail_view = |focused| PaneView { focused, title: &detail_title, ..view };
            if app.detail_full {
                panes::detail::render(frame, area, selected, app.detail_scroll, &detail_view(true));
                return;
            }
            let (list_area, detail_area) = if area.width >= 100 {
                let [l, d] =
                    Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                        .areas(area);
                (l, Some(d))
            } else if area.height >= 22 {
                let [l, d] =
                    Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)])
                        .areas(area);
                (l, Some(d))
            } else {
                (area, None)
            };
            if let Some(detail_area) = detail_area {
                panes::detail::render(
                    frame,
                    detail_area,
                    selected,
                    app.detail_scroll,
                    &detail_view(false),
                );
            }
            app.containers.render(frame, list_area, &view);
        }
    }
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
    let project = app.project.clone();
    let view = PaneView {
        model: &app.model,
        theme: &app.theme,
        focused: true,
        title: &title,
        now: app.now,
        offset: app.offset,
    };
    app.map.render_buffer(&mut buffer, area, &view, project.as_deref());
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

/// Soft changes (stats, probe results) reach the screen at most this often.
const TICK: Duration = Duration::from_secs(1);

/// Runs the full-screen UI until the operator quits.
pub async fn run(mut app: App, mut engine: Fleet) -> anyhow::Result<()> {
    let mut guard = terminal::TerminalGuard::enter(app.mouse)?;
    let mut input = input::InputReader::spawn();
    let mut dirty = true;
    let mut soft = false;
    let mut last_draw = Instant::now() - FRAME_INTERVAL;
    let mut engine_open = true;
    for command in app.pending.drain(..) {
        engine.command(command);
    }
    loop {
        if soft && last_draw.elapsed() >= TICK {
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
                guard.terminal.draw(|frame| draw(frame, &mut app))?;
                let _ = crossterm::queue!(
                    guard.terminal.backend_mut(),
                    crossterm::terminal::EndSynchronizedUpdate
                );
                let _ = guard.terminal.backend_mut().flush();
                last_draw = Instant::now();
                dirty = false;
                soft = false;
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
                    mark(app.apply_from(host, update));
                    // Drain a burst before drawing once.
                    while let Ok((host, update)) = engine.updates.try_recv() {
                        mark(app.apply_from(host, update));
                    }
                }
                None => engine_open = false,
            },
            event = input.events.recv() => match event {
                Some(Event::Key(key)) if key.kind != KeyEventKind::Release => {
                    if app.overlay_open() {
                        // A popup takes keys raw: `y` confirms, typed letters search.
                        dirty |= app.overlay_key(&key);
                    } else if app.wants_text() {
                        dirty |= app.type_key(&key);
                    } else if app.text_input_active() {
                        // An open text field takes keys raw (see keymap's module doc).
                        dirty |= app.text_input(&key);
                    } else if let Some(action) = app.keymap.action(&key) {
                        dirty |= app.act(action);
                    }
                    for command in app.pending.drain(..) {
                        engine.command(command);
                    }
                }
                Some(Event::Mouse(mouse)) => {
                    let width = guard.terminal.size().map(|s| s.width).unwrap_or(80);
                    dirty |= app.mouse(&mouse, width);
                }
                Some(Event::Resize(width, height)) => {
                    let area = ratatui::layout::Rect::new(0, 0, width, height);
                    let _ = guard.terminal.resize(area);
                    dirty = true;
                }
                Some(_) => {}
                None => break,
            },
            _ = tokio::time::sleep(next) => {
                if !dirty && (!soft || !app.model.busy.is_empty()) {
                    dirty = true;
                }
            }
        }
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
        if app.quit {
            break;
        }
    }
    drop(guard);
    engine.stop().await;
    Ok(())
}

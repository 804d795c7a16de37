//! The frame around the panes: header, tab bar, outage line, footer, help overlay
//! and the too-small notice. It draws into the areas [`super::layout::Screen`] chose.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::{App, NOTICE_SECONDS};
use super::keymap::Action;
use super::layout::{MIN_HEIGHT, MIN_WIDTH};
use super::pane::Pane;
use super::panes::PaneId;
use super::theme::Slot;
use crate::model::Connection;
use crate::model::format::{fit, short_duration};
use crate::model::sanitize::one_line;

pub fn header(frame: &mut Frame, area: Rect, app: &App) {
    if app.model.multi_host() {
        return hosts_header(frame, area, app);
    }
    let theme = &app.theme;
    let model = &app.model;
    let counts = shown_counts(app, |_| true);
    // The left side gets shorter step by step (hostname, then the API version, then the
    // socket path for a word like `local`, then the engine's version) instead of being
    // cut in the middle of a word.
    let engine = &model.host(0).engine;
    let left_at = |level: u8| {
        let mut left = vec![brand(app, " ⚓ portolan ")];
        let endpoint = if level < 3 {
            engine.endpoint.to_string()
        } else {
            crate::model::format::short_endpoint(&engine.endpoint)
        };
        left.push(Span::styled(format!(" {} ", one_line(&endpoint)), theme.style(Slot::Header)));
        if let Some(named) = engine.kind_and_version().filter(|_| level < 4) {
            let api = engine
                .api_version
                .as_deref()
                .filter(|_| level < 2)
                .map(|a| format!(" (API {a})"))
                .unwrap_or_default();
            left.push(Span::styled(
                format!("· {}{api} ", one_line(&named)),
                theme.style(Slot::Header),
            ));
        }
        if let Some(host) = engine.hostname.as_ref().filter(|_| level < 1) {
            left.push(Span::styled(format!("· {} ", one_line(host)), theme.style(Slot::Header)));
        }
        left
    };
    let mut right =
        vec![Span::styled(format!("{} running ", counts.running), theme.style(Slot::HeaderGood))];
    if counts.unhealthy > 0 {
        right.push(Span::styled(
            format!("{} unhealthy ", counts.unhealthy),
            theme.style(Slot::HeaderBad),
        ));
    } else {
        right.push(Span::styled("0 unhealthy ".to_string(), theme.style(Slot::Header)));
    }
    right.push(Span::styled(
        format!("{} exited ", counts.exited),
        theme.style(if counts.exited > 0 { Slot::HeaderBad } else { Slot::Header }),
    ));
    let connection = {
        match &model.host(0).connection {
            Connection::Connected { .. } => match model.sync_progress(0) {
                Some((_, 0)) => Span::styled("◌ listing… ", theme.style(Slot::Header)),
                Some((done, total)) => {
                    Span::styled(format!("◌ syncing {done}/{total} "), theme.style(Slot::Header))
                }
                None => Span::styled("● connected ", theme.style(Slot::HeaderGood)),
            },
            Connection::Connecting { .. } => {
                Span::styled("◌ connecting… ", theme.style(Slot::Header))
            }
            Connection::Disconnected { since, .. } => {
                let ago = short_duration((app.now - *since).to_std().unwrap_or_default());
                let at = since.with_timezone(&app.offset).format("%H:%M:%S");
                Span::styled(
                    format!("✖ DISCONNECTED since {at} ({ago}) "),
                    theme.style(Slot::HeaderBad),
                )
            }
        }
    };
    right.push(connection);
    // The counts and the connection state matter more than the endpoint: they keep
    // their room, and the left side is cut only when even its shortest form is too long.
    let right_width = right.iter().map(|s| s.width()).sum::<usize>() + 1;
    let room = usize::from(area.width).saturating_sub(right_width);
    let fits = |left: &Vec<Span>| left.iter().map(Span::width).sum::<usize>() <= room;
    let left = (0..=4).map(left_at).find(fits).unwrap_or_else(|| {
        // Only the brand and the endpoint are left: the endpoint says where it was cut,
        // or goes when too little of it would be left to recognise.
        let mut left = left_at(4);
        let room = room.saturating_sub(left[0].width() + 2);
        left.truncate(1);
        if room >= 8 {
            let short = crate::model::format::short_endpoint(&engine.endpoint);
            let endpoint = fit(&one_line(&short), room);
            left.push(Span::styled(format!(" {endpoint} "), theme.style(Slot::Header)));
        }
        left
    });
    header_sides(frame, area, theme, left, right, right_width);
}

/// The header's counts: of what the panes show, so under a project filter the
/// project's containers, not the whole host's.
fn shown_counts(
    app: &App,
    keep: impl Fn(&crate::model::Container) -> bool,
) -> crate::model::Counts {
    let project = app.project.as_deref();
    app.model.counts_where(|c| {
        keep(c) && crate::model::container::project_filter_keeps(project, c.project())
    })
}

/// Draws a header: `left` from the left edge, `right` against the right edge in
/// `right_width` columns, which it keeps when the left side must be cut.
fn header_sides(
    frame: &mut Frame,
    area: Rect,
    theme: &crate::ui::theme::Theme,
    left: Vec<Span<'static>>,
    right: Vec<Span<'static>>,
    right_width: usize,
) {
    let right_width = right_width.min(usize::from(area.width)) as u16;
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(right_width)]).areas(area);
    frame.render_widget(
        Paragraph::new(Line::from(left)).style(theme.style(Slot::Header)),
        left_area,
    );
    frame.render_widget(
        Paragraph::new(Line::from(right))
            .alignment(Alignment::Right)
            .style(theme.style(Slot::Header)),
        right_area,
    );
}

/// The tab bar's labels with the pane each one shows (`None` for gaps), fitted to
/// `width`: full titles with gaps when they fit; else short titles; else short titles
/// with single spaces (ten panes at 80 columns); else the same with the titles of the
/// other panes dropped from the right, one at a time, until it fits (an extra tab
/// opened at 80 columns costs two names, not all of them); else numbers and the
/// current pane's title only.
fn tab_labels(app: &App, width: u16) -> Vec<(Span<'static>, Option<PaneId>)> {
    let theme = &app.theme;
    let problems = app.problem_count;
    // The swarm pane has a tab only where there is a swarm (or while it is shown).
    // A pane may have no tab while it has nothing to show (unless it is shown).
    let shown: Vec<PaneId> = PaneId::ALL
        .iter()
        .copied()
        .filter(|p| app.pane == *p || app.panes.get(*p).has_tab(&app.model))
        .collect();
    let build_dropping = |short: bool, only_current: bool, gap: bool, tight: bool, drop: usize| {
        let mut spans = Vec::new();
        // The last `drop` panes other than the current one lose their titles.
        let others = shown.iter().filter(|p| **p != app.pane).count();
        let mut other = 0;
        for pane in &shown {
            let dropped = *pane != app.pane && {
                other += 1;
                other > others.saturating_sub(drop)
            };
            let title = if (only_current || dropped) && *pane != app.pane {
                ""
            } else if short {
                pane.short_title()
            } else {
                pane.title()
            };
            let mut label =
                format!("{}{}{}", pane.key(), if title.is_empty() { "" } else { " " }, title);
            if *pane == PaneId::Triage && problems > 0 {
                label.push_str(&format!("({problems})"));
            }
            let label = if tight { label } else { format!(" {label} ") };
            let style = if *pane == app.pane {
                theme.style(Slot::Selection)
            } else if *pane == PaneId::Triage && problems > 0 {
                theme.style(Slot::Error)
            } else {
                theme.style(Slot::Footer)
            };
            if tight {
                spans.push((Span::raw(" "), None));
            }
            spans.push((Span::styled(label, style), Some(*pane)));
            if gap {
                spans.push((Span::raw(" "), None));
            }
        }
        spans
    };
    let build = |short, only, gap, tight| build_dropping(short, only, gap, tight, 0);
    let fits = |spans: &Vec<(Span, Option<PaneId>)>| {
        spans.iter().map(|(s, _)| s.width()).sum::<usize>() <= width as usize
    };
    let steps = [
        (false, false, true, false),
        (false, false, false, false),
        (true, false, false, false),
        (true, false, false, true),
    ];
    steps
        .into_iter()
        .map(|(short, only, gap, tight)| build(short, only, gap, tight))
        .chain((1..shown.len()).map(|drop| build_dropping(true, false, false, true, drop)))
        .find(fits)
        .unwrap_or_else(|| build(true, true, false, false))
}

/// Draws the tab bar; returns the columns each tab took, for the mouse.
pub fn tabs(frame: &mut Frame, area: Rect, app: &App) -> Vec<(std::ops::Range<u16>, PaneId)> {
    let labels = tab_labels(app, area.width);
    let mut columns = Vec::new();
    let mut left = area.x;
    for (span, pane) in &labels {
        let right = left.saturating_add(span.width() as u16);
        if let Some(pane) = pane {
            columns.push((left..right, *pane));
        }
        left = right;
    }
    let spans: Vec<Span> = labels.into_iter().map(|(s, _)| s).collect();
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    columns
}

/// The header's first words: portolan's name, or in HISTORY the word itself, so
/// that the past is never taken for now.
fn brand<'a>(app: &App, words: &'a str) -> Span<'a> {
    if app.history.is_some() {
        return Span::styled(" HISTORY ", app.theme.style(Slot::History));
    }
    Span::styled(words, app.theme.style(Slot::HeaderBrand))
}

/// The header with several engines: one entry per engine (whether it answers and
/// what runs there), then the totals; made shorter step by step until it fits.
fn hosts_header(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let model = &app.model;
    let counts = shown_counts(app, |_| true);
    let width = usize::from(area.width);
    let build = |level: u8| {
        let brand = if level >= 2 { " ⚓ " } else { " ⚓ portolan " };
        let mut spans = vec![self::brand(app, brand)];
        for (id, host) in model.hosts.iter().enumerate() {
            spans.push(Span::styled(" ", theme.style(Slot::Header)));
            spans.extend(host_spans(app, id, host, level));
        }
        let bad = |n: usize| theme.style(if n > 0 { Slot::HeaderBad } else { Slot::Header });
        let mut right = Vec::new();
        if level == 0 {
            right.push(Span::styled(
                format!("{} running ", counts.running),
                theme.style(Slot::HeaderGood),
            ));
            right.push(Span::styled(
                format!("{} unhealthy ", counts.unhealthy),
                bad(counts.unhealthy),
            ));
            right.push(Span::styled(format!("{} exited ", counts.exited), bad(counts.exited)));
            let up = model.hosts.iter().filter(|h| h.connection.is_connected()).count();
            let all = model.hosts.len();
            let slot = if up == all { Slot::HeaderGood } else { Slot::HeaderBad };
            right.push(Span::styled(format!("{up}/{all} hosts "), theme.style(slot)));
        } else if level <= 2 {
            right.push(Span::styled(
                format!("{} unhealthy ", counts.unhealthy),
                bad(counts.unhealthy),
            ));
            right.push(Span::styled(format!("{} exited ", counts.exited), bad(counts.exited)));
        }
        (spans, right)
    };
    let fits = |(left, right): &(Vec<Span>, Vec<Span>)| {
        left.iter().chain(right).map(Span::width).sum::<usize>() <= width
    };
    let (left, right) = (0..=3).map(build).find(fits).unwrap_or_else(|| build(3));
    let right_width = right.iter().map(Span::width).sum::<usize>();
    header_sides(frame, area, theme, left, right, right_width);
}

/// One engine in a several-host header: `● local 5/6` (running of all), `✖ db2 DOWN 2m`;
/// from `level` 2 without spaces, at 3 without counts or times.
fn host_spans(
    app: &App,
    id: crate::model::HostId,
    host: &crate::model::Host,
    level: u8,
) -> Vec<Span<'static>> {
    let theme = &app.theme;
    let counts = shown_counts(app, |c| c.host == id);
    let mut name = one_line(&host.name).into_owned();
    if let Some(kind) = app.model.kind_beside_name(id).filter(|_| level < 3) {
        name = format!("{name} ({kind})");
    }
    let gap = if level >= 2 { "" } else { " " };
    if let (Some(other), Connection::Connected { .. }) = (host.same_as, &host.connection) {
        let other = one_line(&app.model.host(other).name).into_owned();
        return vec![
            Span::styled("●", theme.style(Slot::HeaderGood)),
            Span::styled(format!("{gap}{name} = {other} "), theme.style(Slot::Header)),
        ];
    }
    match &host.connection {
        Connection::Connected { .. } => {
            let troubled = counts.unhealthy > 0 || counts.exited > 0;
            let slot = if troubled { Slot::HeaderBad } else { Slot::HeaderGood };
            let mut spans = vec![
                Span::styled("●", theme.style(Slot::HeaderGood)),
                Span::styled(format!("{gap}{name} "), theme.style(Slot::Header)),
            ];
            if level < 3 {
                spans.push(Span::styled(
                    format!("{}/{} ", counts.running, counts.total),
                    theme.style(slot),
                ));
            }
            spans
        }
        Connection::Connecting { .. } => {
            vec![Span::styled(format!("◌{gap}{name} "), theme.style(Slot::Header))]
        }
        Connection::Disconnected { since, .. } => {
            let text = if level >= 3 {
                format!("✖{name} ")
            } else {
                let ago = short_duration((app.now - *since).to_std().unwrap_or_default());
                format!("✖{gap}{name} DOWN {ago} ")
            };
            vec![Span::styled(text, theme.style(Slot::HeaderBad))]
        }
    }
}

/// A second header line, shown only when an engine is lost: why, and what portolan does.
pub fn outage(frame: &mut Frame, area: Rect, app: &App) {
    let model = &app.model;
    let lost: Vec<(&crate::model::Host, &String)> = model
        .hosts
        .iter()
        .filter_map(|h| match &h.connection {
            Connection::Disconnected { reason, .. } => Some((h, reason)),
            _ => None,
        })
        .collect();
    let text = match lost.as_slice() {
        [] => return,
        [(_, reason)] if !model.multi_host() => format!(
            " Lost the engine: {}. Reconnecting with backoff; showing the last known state.",
            one_line(reason)
        ),
        [(host, reason)] => format!(
            " Lost {}: {}. Reconnecting; its last known state is shown, the others are live.",
            one_line(&host.name),
            one_line(reason)
        ),
        many => {
            let names: Vec<String> =
                many.iter().map(|(h, _)| one_line(&h.name).into_owned()).collect();
            format!(
                " Lost {}: reconnecting with backoff; their last known state is shown.",
                names.join(", ")
            )
        }
    };
    frame.render_widget(Paragraph::new(Span::styled(text, app.theme.style(Slot::Error))), area);
}

pub fn footer(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let keymap = &app.keymap;
    let mut hints: Vec<(Action, String)> = Vec::new();
    let mut hint = |action: Action, words: &str| hints.push((action, words.to_string()));
    if app.show_help {
        hint(Action::Help, "close help");
        hint(Action::Quit, "quit");
    } else if app.pane == crate::ui::panes::PaneId::Shell && app.panes.shell.focused() {
        // Every other key is the shell's.
        hint(Action::ShellFocus, "keys back to portolan");
    } else if let Some(inspect) = &app.inspect {
        // A view over the body has keys of its own and none of the panes'.
        for (action, words) in inspect.hints() {
            hint(action, words);
        }
    } else {
        let project = app.project.as_deref().map(|p| one_line(p).into_owned());
        hint(Action::Quit, "quit");
        hint(Action::Help, "help");
        // A filter in force is said before the pane's hints: it changes what every
        // pane shows, and the hints are what a narrow footer drops.
        if let Some(project) = &project {
            hint(Action::NextProject, &format!("project: {project}"));
        }
        if app.history.is_some() {
            hint(Action::Live, "live");
            hint(Action::HistoryBack, "-1 min");
            hint(Action::HistoryForward, "+1 min");
        }
        hint(Action::NextPane, "pane");
        hint(Action::Down, "select");
        let pane_hints = app.panes.get(app.pane).hints();
        for (action, words) in &pane_hints {
            hint(*action, words);
        }
        // A pane that says what `a` does there has said it.
        if !app.read_only
            && app.history.is_none()
            && !pane_hints.iter().any(|(a, _)| *a == Action::Actions)
        {
            hint(Action::Actions, "actions");
        }
        if project.is_none() {
            hint(Action::NextProject, "project: all");
        }
    }
    // What is going on comes before the key hints: at 80 columns the hints are what
    // gets cut. Work under way first, then the last action's result, then warnings.
    let mut status: Vec<Span> = Vec::new();
    if let Some(history) = &app.history {
        let at = history.at.with_timezone(&app.offset).format("%Y-%m-%d %H:%M:%S");
        status
            .push(Span::styled(format!(" HISTORY {at} · read-only "), theme.style(Slot::History)));
        if let Some(caveat) = &history.caveat {
            status
                .push(Span::styled(format!(" {} ", one_line(caveat)), theme.style(Slot::Warning)));
        }
    } else if let Some(asked) = app.history_asked {
        let at = asked.with_timezone(&app.offset).format("%H:%M:%S");
        status
            .push(Span::styled(format!(" reading the record at {at}… "), theme.style(Slot::Muted)));
    }
    if app.read_only {
        status.push(Span::styled(" READ-ONLY ", theme.style(Slot::Warning)));
    }
    let busy: Vec<String> = app
        .model
        .busy
        .iter()
        .map(|(id, verb)| {
            let name = app.model.containers.get(id).map_or(id.as_str(), |c| c.name.as_str());
            format!("{} {}", verb.progressive(), one_line(name))
        })
        .collect();
    let notice = app.notice.as_ref().filter(|n| (app.now - n.at).num_seconds() < NOTICE_SECONDS);
    if !busy.is_empty() {
        status.push(Span::styled(
            format!(" {} {} ", crate::ui::panes::containers::spinner(app.now), busy.join(", ")),
            theme.style(Slot::Accent),
        ));
    } else if let Some(notice) = notice {
        let slot = if notice.error { Slot::Error } else { Slot::Ok };
        status.push(Span::styled(format!(" {} ", one_line(&notice.text)), theme.style(slot)));
    } else if let Some(warning) = app.model.warnings.last() {
        let age = (app.now - warning.at).num_seconds();
        if age < 30 {
            status.push(Span::styled(
                format!(" ⚠ {} ", one_line(&warning.message)),
                theme.style(Slot::Warning),
            ));
        }
    }
    // Whole hints only: one that does not fit goes, with those after it.
    let mut room = usize::from(area.width).saturating_sub(status.iter().map(Span::width).sum());
    for (action, words) in hints {
        let key = Span::styled(format!(" {} ", keymap.label(action)), theme.style(Slot::FooterKey));
        let words = Span::styled(format!(" {words}  "), theme.style(Slot::Footer));
        // The two trailing spaces only separate hints: the last may end at the edge.
        let width = key.width() + words.width() - 2;
        if width > room {
            break;
        }
        room = room.saturating_sub(key.width() + words.width());
        status.push(key);
        status.push(words);
    }
    let line = Line::from(status);
    frame.render_widget(Paragraph::new(line), area);
}

pub fn help(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let mut lines =
        vec![Line::from(Span::styled("Keys", theme.style(Slot::Accent))), Line::default()];
    for (action, keys) in app.keymap.describe() {
        let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
        lines.push(Line::from(vec![
            Span::styled(format!("{:<16}", keys.join(" ")), theme.style(Slot::Accent)),
            Span::styled(action.describe(), theme.style(Slot::Value)),
        ]));
    }
    if !app.keymap.commands.is_empty() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled("Custom commands", theme.style(Slot::Accent))));
        for command in &app.keymap.commands {
            let key = command.key.map(|k| k.to_string()).unwrap_or_else(|| ":".to_string());
            lines.push(Line::from(vec![
                Span::styled(format!("{key:<16}"), theme.style(Slot::Accent)),
                Span::styled(
                    crate::model::sanitize::one_line(&command.name).into_owned(),
                    theme.style(Slot::Value),
                ),
                Span::styled(
                    format!("  {}", crate::model::sanitize::one_line(&command.command)),
                    theme.style(Slot::Muted),
                ),
            ]));
        }
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled("Panes", theme.style(Slot::Accent))));
    for pane in PaneId::ALL {
        let marker = if *pane == app.pane { "▸ " } else { "  " };
        lines.push(Line::from(Span::styled(
            format!("{marker}{}", pane.name()),
            theme.style(Slot::Value),
        )));
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        format!("portolan {}", app.version),
        theme.style(Slot::Muted),
    )));
    let height = (lines.len() as u16 + 2).min(area.height);
    // Longer than the screen: scrolled with the movement keys, and the title says so.
    let overflow = (lines.len() as u16 + 2).saturating_sub(area.height);
    let scroll = app.help_scroll.min(overflow);
    let title = if overflow > 0 {
        format!(" Help · {}/{} · j k scroll ", scroll + 1, overflow + 1)
    } else {
        " Help ".to_string()
    };
    let width = 90.min(area.width);
    let [popup] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)]).flex(Flex::Center).areas(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).scroll((scroll, 0)).style(theme.style(Slot::Overlay)).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(true))
                .title(Span::styled(title, theme.title(true))),
        ),
        popup,
    );
}

pub fn too_small(frame: &mut Frame, area: Rect, app: &App) {
    let text = format!(
        "Terminal too small: {}x{}. portolan needs at least {MIN_WIDTH}x{MIN_HEIGHT}. Enlarge the window, or press q to quit.",
        area.width, area.height
    );
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: true }).style(app.theme.style(Slot::Warning)),
        area,
    );
}

//! Health: every healthcheck as a flow — the engine runs the probe every N seconds,
//! each result passes or fails — with the probe's
//! configuration, the last results and a history strip so flapping shows.
//!
//! A frame builds only the cards on screen: which containers have a card, in which
//! order, and how tall the tallest card is are worked out once per change of the
//! model, so a thousand containers cost a frame what the visible dozen do.

use std::ops::Range;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{ContainerList, Effect, Handled, ListNav, Pane, PaneView, ago, block, clock};
use crate::model::format::nanos;
use crate::model::sanitize::one_line;
use crate::model::{Container, HealthStatus, Model};
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

#[derive(Debug, Default)]
pub struct HealthPane {
    pub list: ContainerList,
    names: super::RowNames,
    cards: Option<Cards>,
}

/// What the pane lists, derived from the model once per change of its state (stats
/// and log lines move nothing here) or of the project filter.
#[derive(Debug)]
struct Cards {
    key: (u64, Option<String>),
    /// The height of the tallest card: every card gets that much room, so a page
    /// holds the same number of cards wherever the list is scrolled.
    tallest: usize,
    /// The shown containers without a healthcheck, by id: by engine, project, service.
    unchecked: Vec<String>,
    /// The widest engine prefix among the shown containers.
    host_width: usize,
}

impl HealthPane {
    /// Brings the list and what is known of its cards up to date; does nothing when
    /// neither the model's state nor the filter moved since the last call.
    fn refresh(&mut self, view: &PaneView<'_>) {
        let key = (view.model.state_revision, view.project.map(String::from));
        if self.cards.as_ref().is_some_and(|cards| cards.key == key) {
            return;
        }
        let checked = checked(view);
        let mut shown = shown(view);
        // Named in the footer as the other panes group them: engine, project, service.
        shown.sort_by(|a, b| {
            use crate::model::natural::{natural_cmp, natural_cmp_opt};
            a.host
                .cmp(&b.host)
                .then_with(|| natural_cmp_opt(a.project(), b.project()))
                .then_with(|| natural_cmp_opt(a.service(), b.service()))
                .then_with(|| natural_cmp(&a.name, &b.name))
        });
        self.cards = Some(Cards {
            key,
            tallest: checked.iter().map(|c| card_height(c, view.model)).max().unwrap_or(1),
            unchecked: shown
                .iter()
                .filter(|c| c.healthcheck.is_none())
                .map(|c| c.id.clone())
                .collect(),
            host_width: super::host_width(view.model, &shown),
        });
        self.list.set(checked.iter().map(|c| c.id.clone()).collect());
    }
}

/// The containers the filter shows, in the model's order.
fn shown<'m>(view: &PaneView<'m>) -> Vec<&'m Container> {
    view.model.containers.values().filter(|c| c.in_project(view.project)).collect()
}

/// The containers with a healthcheck, trouble first, then by name.
fn checked<'m>(view: &PaneView<'m>) -> Vec<&'m Container> {
    let project = view.project;
    let mut checked: Vec<&Container> = view
        .model
        .containers
        .values()
        .filter(|c| c.in_project(project) && c.healthcheck.is_some())
        .collect();
    checked.sort_by(|a, b| {
        rank(a.health_status())
            .cmp(&rank(b.health_status()))
            .then_with(|| crate::model::natural::natural_cmp(&a.name, &b.name))
            .then_with(|| a.host.cmp(&b.host))
    });
    checked
}

/// The cards to draw in `room` lines, each given the `tallest` card's height so all
/// of them fit whole: the selection stays on screen, and the list scrolls only when
/// it would leave it.
fn card_window(nav: &mut ListNav, cards: usize, tallest: usize, room: usize) -> Range<usize> {
    nav.window(cards, (room / tallest.max(1)).max(1))
}

impl Pane for HealthPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        self.refresh(view);
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, _: &mut Vec<Effect>) -> Handled {
        self.list.take_movement(action)
    }

    fn selected_container(&self) -> Option<&str> {
        self.list.selected()
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        self.refresh(view);
        let Some(cards) = &self.cards else { return };
        let model = view.model;
        let theme = view.theme;
        // A card's name follows its status column (12 wide), inside the borders.
        let room = usize::from(area.width.saturating_sub(2)).saturating_sub(12 + cards.host_width);
        let names = self.names.get(view, room, || shown(view));
        let name = |c: &Container| names.get(&c.id).cloned().unwrap_or_else(|| c.name.clone());
        let outer = block(
            view,
            format!(
                "Health · {} checked, {} without a healthcheck",
                self.list.len(),
                cards.unchecked.len()
            ),
        );
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        if inner.height == 0 {
            return;
        }
        let width = inner.width as usize;
        let footer = if cards.unchecked.is_empty() {
            None
        } else {
            let unchecked = cards.unchecked.iter().filter_map(|id| model.containers.get(id));
            let listed = unchecked.map(|c| format!("{}{}", super::host_prefix(model, c.host), name(c)));
            const LABEL: &str = "No healthcheck: ";
            let room = width.saturating_sub(LABEL.len());
            Some(Line::from(vec![
                Span::styled(LABEL, theme.style(Slot::Warning)),
                Span::styled(filling(listed, cards.unchecked.len(), room), theme.style(Slot::Muted)),
            ]))
        };
        let room = inner.height as usize - usize::from(footer.is_some());
        let listed = self.list.len();
        let range = card_window(&mut self.list.nav, listed, cards.tallest, room);
        let mut lines = Vec::new();
        for index in range {
            let Some(c) = self.list.get(index).and_then(|id| model.containers.get(id)) else {
                continue;
            };
            for (n, mut line) in card(c, &name(c), view, width).into_iter().enumerate() {
                if n == 0 && index == self.list.nav.selected {
                    line = theme.selected(line);
                }
                lines.push(line);
            }
        }
        if self.list.is_empty() {
            lines.push(Line::from(Span::styled(
                "No container here has a healthcheck.",
                theme.style(Slot::Muted),
            )));
        }
        lines.truncate(room);
        if let Some(footer) = footer {
            while lines.len() < room {
                lines.push(Line::default());
            }
            lines.push(footer);
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// As many whole names of `total` as fit in `room` columns, then how many more: a
/// name is never cut, and the count says what the line could not hold.
fn filling(names: impl Iterator<Item = String>, total: usize, room: usize) -> String {
    let more = |left: usize| if left > 0 { format!(", +{left} more") } else { String::new() };
    let mut text = String::new();
    let mut used = 0;
    let mut shown = 0;
    for name in names {
        let name = one_line(&name);
        let width = Span::raw(name.as_ref()).width() + if shown == 0 { 0 } else { 2 };
        if used + width + more(total.saturating_sub(shown + 1)).len() > room {
            break;
        }
        if shown > 0 {
            text.push_str(", ");
        }
        text.push_str(&name);
        used += width;
        shown += 1;
    }
    match shown {
        0 => format!("{total} containers"),
        _ => text + &more(total - shown),
    }
}

fn rank(status: HealthStatus) -> u8 {
    match status {
        HealthStatus::Unhealthy => 0,
        HealthStatus::Starting => 1,
        HealthStatus::Healthy => 2,
        HealthStatus::None => 3,
    }
}

/// How many of the last probes a card lists under its strip.
const LISTED_PROBES: usize = 2;
/// A card's lines besides its listed probes: title, configuration, strip, a blank.
const CARD_FIXED_LINES: usize = 4;

/// How many lines [`card`] makes for `c`, without making them.
fn card_height(c: &Container, model: &Model) -> usize {
    if c.healthcheck.is_none() {
        return 0;
    }
    CARD_FIXED_LINES + model.history.probes_of(c).len().min(LISTED_PROBES)
}

/// The lines of `c`'s card: [`card_height`] says how many without making them.
fn card<'a>(c: &Container, name: &str, view: &PaneView<'_>, width: usize) -> Vec<Line<'a>> {
    let theme = view.theme;
    let Some(check) = &c.healthcheck else { return Vec::new() };
    let status = c.health_status();
    let not_run = view.model.health_checks_not_run(c, view.now);
    let streak = c.health.as_ref().map_or(0, |h| h.failing_streak);
    let marked = if not_run {
        Span::styled(format!("{:<12}", "⚠ not run"), theme.style(Slot::Warning))
    } else {
        Span::styled(format!("{:<12}", status.marked()), theme.health(status))
    };
    let mut title = vec![
        marked,
        Span::styled(
            format!("{}{name}", super::host_prefix(view.model, c.host)),
            theme.style(Slot::Title),
        ),
    ];
    if c.project().is_some() && name != c.name {
        title.push(Span::styled(format!("  ({})", one_line(&c.name)), theme.style(Slot::Muted)));
    }
    if streak > 0 {
        title.push(Span::styled(format!("  failing streak {streak}"), theme.style(Slot::Error)));
    }
    if !c.state.is_running() {
        title.push(Span::styled(format!("  [{}]", c.state.as_str()), theme.style(Slot::Muted)));
    }
    if super::host_lost(view.model, c.host) {
        title.push(Span::styled("  [engine unreachable: last known]", theme.style(Slot::Muted)));
    }
    let every = check.interval_ns.map_or("30s".to_string(), nanos);
    let mut config = format!("engine ─► every {every} ─► {}", one_line(&check.command()));
    let mut extras = Vec::new();
    extras.push(format!("timeout {}", check.timeout_ns.map_or("30s".to_string(), nanos)));
    extras.push(format!("{} retries", check.retries.unwrap_or(3)));
    if let Some(start) = check.start_period_ns {
        extras.push(format!("start period {}", nanos(start)));
    }
    config.push_str(&format!("  ({})", extras.join(", ")));
    let probes = view.model.history.probes_of(c);
    // The strip: one cell per probe, newest on the right.
    let room = width.saturating_sub(14).max(1);
    let start = probes.len().saturating_sub(room);
    let mut strip = vec![Span::styled(format!("{:<12}", "history"), theme.style(Slot::Label))];
    for probe in &probes[start..] {
        let (glyph, slot) =
            if probe.exit_code == Some(0) { ("▮", Slot::Ok) } else { ("▮", Slot::Error) };
        strip.push(Span::styled(glyph, theme.style(slot)));
    }
    let passed = probes.iter().filter(|p| p.exit_code == Some(0)).count();
    let summary = if not_run {
        crate::model::container::HEALTH_NOT_RUN.to_string()
    } else if probes.is_empty() {
        "no probe has run yet".to_string()
    } else {
        format!("  {passed}/{} passed", probes.len())
    };
    strip.push(Span::styled(summary, theme.style(Slot::Muted)));
    let mut lines = vec![
        Line::from(title),
        Line::from(vec![Span::raw("            "), Span::styled(config, theme.style(Slot::Value))]),
        Line::from(strip),
    ];
    for probe in probes.iter().rev().take(LISTED_PROBES) {
        let when = probe.start.map(|t| clock(view, t)).unwrap_or_default();
        let took = match (probe.start, probe.end) {
            (Some(s), Some(e)) => format!("{}ms", (e - s).num_milliseconds().max(0)),
            _ => "?".into(),
        };
        let code = probe.exit_code.map_or("?".to_string(), |c| c.to_string());
        let output =
            one_line(probe.output.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or(""))
                .into_owned();
        let slot = if probe.exit_code == Some(0) { Slot::Ok } else { Slot::Error };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<12}", when), theme.style(Slot::Label)),
            Span::styled(format!("exit {code:<3} "), theme.style(slot)),
            Span::styled(format!("{took:>7}  "), theme.style(Slot::Muted)),
            Span::styled(output, theme.style(Slot::Muted)),
            Span::styled(format!("  {}", ago(view.now, probe.end)), theme.style(Slot::Muted)),
        ]));
    }
    lines.push(Line::default());
    lines
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::model::HealthProbe;
    use crate::derived::Derived;
    use crate::model::{Health, Healthcheck, Inventory, Update};
    use crate::ui::theme::Theme;

    fn at(seconds: i64) -> chrono::DateTime<Utc> {
        Utc.timestamp_opt(1_750_000_000 + seconds, 0).single().expect("a time")
    }

    /// `probes[i]` probes for container `h{i}`, so the cards are 4, 5 or 6 lines tall;
    /// `unchecked` more containers have no healthcheck.
    fn model(probes: &[usize], unchecked: usize) -> Model {
        let mut model = Model::new("unix:///var/run/docker.sock", at(-10));
        let mut containers = Vec::new();
        for (i, count) in probes.iter().enumerate() {
            let mut c = Container::new(format!("{i:012x}"), format!("h{i}"));
            c.healthcheck = Some(Healthcheck {
                test: vec!["CMD".into(), "true".into()],
                ..Healthcheck::default()
            });
            let log = (0..*count as i64)
                .map(|n| HealthProbe {
                    start: Some(at(n - 5)),
                    end: Some(at(n - 5)),
                    exit_code: Some(0),
                    output: format!("probe {n}"),
                })
                .collect();
            c.health = Some(Health { status: HealthStatus::Healthy, failing_streak: 0, log });
            containers.push(c);
        }
        for i in 0..unchecked {
            containers.push(Container::new(format!("u{i:011x}"), format!("plain{i}")));
        }
        model.apply(Update::Synced(Box::new(Inventory { containers, ..Inventory::default() })));
        model
    }

    fn view<'a>(model: &'a Model, derived: &'a Derived, theme: &'a Theme) -> PaneView<'a> {
        super::super::testing::view(model, derived, theme, "Health", at(0))
    }

    fn rows(pane: &mut HealthPane, view: &PaneView<'_>, width: u16, height: u16) -> Vec<String> {
        super::super::testing::draw(pane, view, width, height)
    }

    /// What the pane drew when it built every card and windowed the lines: the cards
    /// in the window `nav` moves to, inside the borders.
    fn every_card(view: &PaneView<'_>, nav: &mut ListNav, width: u16, room: usize) -> Vec<String> {
        let all = checked(view);
        let cards: Vec<Vec<Line>> =
            all.iter().map(|c| card(c, &c.name, view, usize::from(width - 2))).collect();
        let per = cards.iter().map(Vec::len).max().unwrap_or(1);
        let range = nav.window(cards.len(), (room / per).max(1));
        let mut lines: Vec<String> = cards[range]
            .iter()
            .flatten()
            .map(|line| line.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        lines.truncate(room);
        lines
    }

    #[test]
    fn a_card_is_as_tall_as_its_height_says() {
        let model = model(&[0, 1, 2, 3, 7], 0);
        let (derived, theme) = (Derived::default(), Theme::built_in("dark"));
        let view = view(&model, &derived, &theme);
        for c in checked(&view) {
            assert_eq!(card_height(c, &model), card(c, &c.name, &view, 80).len(), "{}", c.name);
        }
        let plain = Container::new("x", "x");
        assert_eq!(card_height(&plain, &model), card(&plain, "x", &view, 80).len());
    }

    #[test]
    fn the_tallest_card_sets_how_many_fit_and_the_selection_stays_in_view() {
        let mut nav = ListNav::default();
        // Cards of 4 and 6 lines in 20: three fit whole, never a fourth of 4 lines.
        assert_eq!(card_window(&mut nav, 10, 6, 20), 0..3);
        assert_eq!(nav.page, 3);
        // Down within the page: no scroll.
        nav.selected = 2;
        assert_eq!(card_window(&mut nav, 10, 6, 20), 0..3);
        // One past it: the window follows by one.
        nav.selected = 3;
        assert_eq!(card_window(&mut nav, 10, 6, 20), 1..4);
        // The last card: the window ends with it.
        nav.selected = 9;
        assert_eq!(card_window(&mut nav, 10, 6, 20), 7..10);
        // Back up past the top of the window: it starts at the selection.
        nav.selected = 5;
        assert_eq!(card_window(&mut nav, 10, 6, 20), 5..8);
        // The list shrinks under the selection: it moves to the last card.
        nav.selected = 9;
        assert_eq!(card_window(&mut nav, 4, 6, 20), 1..4);
        assert_eq!(nav.selected, 3);
        // Less room than one card: still the selected one, cut at the bottom.
        assert_eq!(card_window(&mut nav, 4, 6, 3), 3..4);
    }

    #[test]
    fn only_the_cards_on_screen_are_built_and_they_are_the_ones_every_card_showed() {
        let probes: Vec<usize> = (0..23).map(|i| [0, 2, 1, 3][i % 4]).collect();
        let model = model(&probes, 40);
        let (derived, theme) = (Derived::default(), Theme::built_in("dark"));
        let view = view(&model, &derived, &theme);
        let (width, height) = (90u16, 30u16);
        // The borders and the footer of unchecked names take three lines.
        let room = usize::from(height) - 3;
        let mut pane = HealthPane::default();
        let mut reference = ListNav::default();
        // Down to the end one card at a time, a page back up, then to the top.
        let moves = std::iter::repeat_n(1isize, 25).chain([-4, -4, -4, 2, -30]);
        for (step, delta) in std::iter::once(0).chain(moves).enumerate() {
            pane.list.nav.move_by(delta, probes.len());
            reference.move_by(delta, probes.len());
            let drawn = rows(&mut pane, &view, width, height);
            let expected = every_card(&view, &mut reference, width, room);
            let inside: Vec<String> = drawn[1..=expected.len()]
                .iter()
                .map(|row| {
                    let inner: String = row.chars().skip(1).take(usize::from(width) - 2).collect();
                    inner.trim_end().to_string()
                })
                .collect();
            let expected: Vec<String> = expected.iter().map(|l| l.trim_end().to_string()).collect();
            assert_eq!(inside, expected, "step {step}, selected {}", reference.selected);
            assert_eq!(pane.list.nav.offset, reference.offset, "step {step}");
            let selected = format!("{} ", checked(&view)[reference.selected].name);
            assert!(drawn.iter().any(|row| row.contains(&selected)), "step {step}: {drawn:#?}");
        }
        // The footer names the unchecked containers as far as the line goes.
        let footer = &rows(&mut pane, &view, width, height)[usize::from(height) - 2];
        assert!(footer.contains("No healthcheck: plain0, plain1, plain2"), "{footer}");
    }

    #[test]
    fn the_footer_names_whole_names_then_how_many_more() {
        let names = (0..500).map(|i| format!("plain{i}"));
        let line = filling(names, 500, 40);
        assert_eq!(line, "plain0, plain1, plain2, +497 more");
        assert!(Span::raw(line.as_str()).width() <= 40);
        let few = ["a".to_string(), "b".to_string()];
        assert_eq!(filling(few.into_iter(), 2, 40), "a, b");
        // Not even one name fits: the count alone.
        assert_eq!(filling(["a-very-long-name".to_string()].into_iter(), 3, 10), "3 containers");
        // A hostile name is made one line before it is measured.
        let hostile = ["evil\u{1b}[2Jname".to_string()].into_iter();
        assert!(!filling(hostile, 1, 40).contains('\u{1b}'));
    }
}

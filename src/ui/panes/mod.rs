//! One file per pane, each an implementation of [`Pane`], listed once in [`panes!`]
//! below: the list gives every pane its id, its name on the command line, its tab
//! and its key, and the app finds the panes through it. To add a pane, write its file
//! and add its line. The detail and inspect views are panes too, but open over
//! others instead of having a tab: they are declared by hand.

pub mod detail;
pub mod inspect;
pub mod listing;

use chrono::{DateTime, Utc};

use super::keymap::Action;
pub use super::pane::{Effect, Handled, Pane, PaneView, movement};
use super::theme::Slot;
use crate::model::sanitize::one_line;
use crate::model::{Connection, Container, HostId, Model};

/// Declares the panes that have a tab, in tab order: `Id module::Type "Title"
/// "Short title" 'key'`. The module's file is the pane's file; its name is the name
/// `--pane` accepts.
macro_rules! panes {
    ($($id:ident $module:ident::$pane:ident $title:literal $short:literal $key:literal;)*) => {
        $(pub mod $module;)*

        /// The panes that have a tab. `--pane` accepts exactly their names.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum PaneId {
            $($id,)*
        }

        impl PaneId {
            pub const ALL: &'static [PaneId] = &[$(PaneId::$id,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(PaneId::$id => stringify!($module),)*
                }
            }

            pub fn title(self) -> &'static str {
                match self {
                    $(PaneId::$id => $title,)*
                }
            }

            /// For narrow terminals.
            pub fn short_title(self) -> &'static str {
                match self {
                    $(PaneId::$id => $short,)*
                }
            }

            /// The key that shows this pane, as the tab bar writes it.
            pub fn key(self) -> char {
                match self {
                    $(PaneId::$id => $key,)*
                }
            }
        }

        /// Every pane's state, one of each.
        #[derive(Debug, Default)]
        pub struct Panes {
            $(pub $module: $module::$pane,)*
        }

        impl Panes {
            pub fn get(&self, id: PaneId) -> &dyn Pane {
                match id {
                    $(PaneId::$id => &self.$module,)*
                }
            }

            pub fn get_mut(&mut self, id: PaneId) -> &mut dyn Pane {
                match id {
                    $(PaneId::$id => &mut self.$module,)*
                }
            }
        }
    };
}

panes! {
    Triage triage::TriagePane "Triage" "Triage" '1';
    Map map::MapPane "Map" "Map" '2';
    Containers containers::ContainersPane "Containers" "Ctrs" '3';
    Stats stats::StatsPane "Stats" "Stats" '4';
    Resources resources::ResourcesPane "Resources" "Res" '5';
    Health health::HealthPane "Health" "Health" '6';
    Timeline timeline::TimelinePane "Timeline" "Time" '7';
    Logs logs::LogsPane "Logs" "Logs" '8';
    Routes routes::RoutesPane "Routes" "Routes" '9';
    Audit audit::AuditPane "Audit" "Audit" '0';
    Swarm swarm::SwarmPane "Swarm" "Swarm" 'W';
    Processes processes::ProcessesPane "Processes" "Procs" 'P';
    Changes changes::ChangesPane "Changes" "Diff" 'D';
    Files files::FilesPane "Files" "Files" 'F';
    Shell shell::ShellPane "Shell" "Shell" 'T';
    Images images::ImagesPane "Images" "Imgs" 'I';
    Volumes volumes::VolumesPane "Volumes" "Vols" 'V';
    Networks networks::NetworksPane "Networks" "Nets" 'O';
    Disk disk::DiskPane "Disk" "Disk" 'U';
    Compose compose::ComposePane "Compose" "Comp" 'C';
}

impl PaneId {
    pub fn parse(name: &str) -> Option<PaneId> {
        PaneId::ALL.iter().copied().find(|p| p.name() == name.trim().to_ascii_lowercase())
    }

    pub fn names() -> Vec<&'static str> {
        PaneId::ALL.iter().map(|p| p.name()).collect()
    }

    /// The pane shown by the key `key`.
    pub fn with_key(key: char) -> Option<PaneId> {
        PaneId::ALL.iter().copied().find(|p| p.key() == key)
    }
}

/// Selection and scrolling over a list of `len` rows, for panes whose rows are
/// rebuilt from the model (the selection is kept by index; panes that need it kept by
/// identity do so themselves).
#[derive(Debug, Default, Clone)]
pub struct ListNav {
    pub selected: usize,
    pub offset: usize,
    /// Rows visible at the last render, for paging.
    pub page: usize,
}

impl ListNav {
    pub fn move_by(&mut self, delta: isize, len: usize) {
        if len == 0 {
            self.selected = 0;
            return;
        }
        let target = (self.selected as isize).saturating_add(delta).clamp(0, len as isize - 1);
        self.selected = target as usize;
    }

    /// Moves over `len` rows when `action` is a movement key; passes on other keys.
    pub fn take_movement(&mut self, action: Action, len: usize) -> Handled {
        match movement(action, self.page) {
            Some(delta) => {
                self.move_by(delta, len);
                Handled::Redraw
            }
            None => Handled::Pass,
        }
    }

    /// Clamps the selection to `len` rows and scrolls so it is visible in `visible`
    /// rows; returns the range of rows to draw.
    pub fn window(&mut self, len: usize, visible: usize) -> std::ops::Range<usize> {
        self.page = visible.max(1);
        if len == 0 {
            self.selected = 0;
            self.offset = 0;
            return 0..0;
        }
        self.selected = self.selected.min(len - 1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + visible.max(1) {
            self.offset = self.selected + 1 - visible.max(1);
        }
        self.offset = self.offset.min(len.saturating_sub(visible.max(1)));
        self.offset..(self.offset + visible).min(len)
    }
}

/// The containers a pane lists, by id, with the selection.
#[derive(Debug, Default, Clone)]
pub struct ContainerList {
    pub nav: ListNav,
    ids: Vec<String>,
}

impl ContainerList {
    pub fn set(&mut self, ids: Vec<String>) {
        self.ids = ids;
    }

    pub fn selected(&self) -> Option<&str> {
        self.ids.get(self.nav.selected).map(String::as_str)
    }

    /// The id of the container in row `index`.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.ids.get(index).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn move_by(&mut self, delta: isize) {
        self.nav.move_by(delta, self.ids.len());
    }

    /// Moves over the containers when `action` is a movement key.
    pub fn take_movement(&mut self, action: Action) -> Handled {
        self.nav.take_movement(action, self.ids.len())
    }
}

/// A bordered block with the pane's title.
/// Row names (see [`crate::model::names`]) worked out over every row of a list once
/// per change of the containers, the project filter or the column width, not per
/// frame: with a thousand rows naming them was most of a frame.
#[derive(Debug, Default)]
pub struct RowNames {
    key: Option<(u64, Option<String>, usize)>,
    names: std::collections::HashMap<String, String>,
}

impl RowNames {
    /// The names of `rows` for a column `width` wide; `rows` is asked only when the
    /// containers, the filter or the width changed since the last call.
    pub fn get<'c>(
        &mut self,
        view: &PaneView<'_>,
        width: usize,
        rows: impl FnOnce() -> Vec<&'c Container>,
    ) -> &std::collections::HashMap<String, String> {
        let key = (view.model.structure_revision, view.project.map(String::from), width);
        if self.key.as_ref() != Some(&key) {
            self.names = crate::model::names::names_by_id(rows(), width);
            self.key = Some(key);
        }
        &self.names
    }
}

pub fn block<'a>(view: &PaneView<'_>, title: String) -> ratatui::widgets::Block<'a> {
    ratatui::widgets::Block::default()
        .borders(ratatui::widgets::Borders::ALL)
        .border_style(view.theme.border(view.focused))
        .title(ratatui::text::Span::styled(format!(" {title} "), view.theme.title(view.focused)))
}

/// A pane that has only a sentence to say (nothing selected, waiting, an error):
/// the sentence, muted and wrapped, in the pane's block.
pub fn message(
    frame: &mut ratatui::Frame,
    area: ratatui::layout::Rect,
    view: &PaneView<'_>,
    title: String,
    text: &str,
) {
    let outer = block(view, title);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    frame.render_widget(
        ratatui::widgets::Paragraph::new(one_line(text).into_owned())
            .style(view.theme.style(Slot::Muted))
            .wrap(ratatui::widgets::Wrap { trim: true }),
        inner,
    );
}

/// "5m ago" style age of a moment, or "–".
pub fn ago(now: DateTime<Utc>, at: Option<DateTime<Utc>>) -> String {
    match at {
        Some(at) => format!(
            "{} ago",
            crate::model::format::short_duration((now - at).to_std().unwrap_or_default())
        ),
        None => "–".to_string(),
    }
}

/// Clock time of a moment in the UI's time zone, `14:02:11`.
pub fn clock(view: &PaneView<'_>, at: DateTime<Utc>) -> String {
    at.with_timezone(&view.offset).format("%H:%M:%S").to_string()
}

/// Whether what the model holds of an engine is only its last known state.
pub fn host_lost(model: &Model, host: HostId) -> bool {
    matches!(model.host(host).connection, Connection::Disconnected { .. })
}

/// An engine's connection in words, with the slot to draw them in: `connected`,
/// `connecting…`, or `unreachable since 14:02:11 — reason, last known state`.
pub fn host_state(view: &PaneView<'_>, host: HostId) -> (String, Slot) {
    match &view.model.host(host).connection {
        Connection::Connected { .. } => ("connected".to_string(), Slot::Ok),
        Connection::Connecting { .. } => ("connecting…".to_string(), Slot::Muted),
        Connection::Disconnected { since, reason } => (
            format!(
                "unreachable since {} — {}, last known state",
                clock(view, *since),
                one_line(reason)
            ),
            Slot::Error,
        ),
    }
}

/// Containers sorted by engine, then project, cut into one group per engine and
/// project: the same project on two engines is two groups.
pub fn project_groups<'a, 'c>(
    sorted: &'a [&'c crate::model::Container],
) -> impl Iterator<Item = &'a [&'c crate::model::Container]> {
    sorted.chunk_by(|a, b| a.host == b.host && a.project() == b.project())
}

/// `host/name` in at most `width` columns where it can be: the container's name is
/// what the operator reads first, so the engine's name is shortened (`har…/postgres`)
/// before the container's is cut.
pub fn host_and_name(model: &Model, host: HostId, name: &str, width: usize) -> String {
    let name = one_line(name);
    if !model.multi_host() {
        return name.into_owned();
    }
    let host_name = one_line(&model.host(host).name).into_owned();
    let full = format!("{host_name}/{name}");
    let name_width = name.chars().count();
    if full.chars().count() <= width || host_name.chars().count() <= 2 {
        return full;
    }
    // Room for the engine's name before the `…/`, at least one character of it.
    let room = width.saturating_sub(name_width + 2).max(1);
    let short: String = host_name.chars().take(room).collect();
    // `db2` → `d…` saves one column and costs the engine's name: not worth it.
    if short.chars().count() + 2 >= host_name.chars().count() {
        return full;
    }
    format!("{short}…/{name}")
}

/// The name of a container's engine followed by `/`, when there are several engines
/// (nothing with one): `db2/`.
pub fn host_prefix(model: &Model, host: HostId) -> String {
    if model.multi_host() {
        format!("{}/", one_line(&model.host(host).name))
    } else {
        String::new()
    }
}

/// The widest engine prefix (`db2/`) among `rows`: what a name column keeps for it.
pub fn host_width(model: &Model, rows: &[&Container]) -> usize {
    rows.iter().map(|c| host_prefix(model, c.host).chars().count()).max().unwrap_or(0)
}

#[cfg(test)]
mod host_name_tests {
    use super::host_and_name;

    #[test]
    fn the_engine_name_gives_way_before_the_container_name() {
        let model = crate::topology::fixtures::three_hosts();
        assert_eq!(host_and_name(&model, 1, "postgres", 40), "db2/postgres");
        assert_eq!(host_and_name(&model, 1, "postgres", 9), "db2/postgres");
        assert_eq!(host_and_name(&model, 0, "postgres", 40), "local/postgres");
        assert_eq!(host_and_name(&model, 0, "postgres", 12), "lo…/postgres");
        // No room at all: one letter of the engine stays; the table cuts the rest.
        assert_eq!(host_and_name(&model, 0, "postgres", 9), "l…/postgres");
        let single = crate::topology::fixtures::seed("000-nestjs-postgres-redis").unwrap();
        assert_eq!(host_and_name(&single, 0, "postgres", 9), "postgres");
    }
}

/// What the panes' unit tests share: a view of a model and a drawn frame.
#[cfg(test)]
pub(crate) mod testing {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::{Pane, PaneView};
    use crate::derived::Derived;
    use crate::model::Model;
    use crate::ui::theme::Theme;

    /// A focused, unfiltered view of `model` as of `now`, in UTC.
    pub fn view<'a>(
        model: &'a Model,
        derived: &'a Derived,
        theme: &'a Theme,
        title: &'static str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> PaneView<'a> {
        PaneView {
            model,
            derived,
            theme,
            focused: true,
            title,
            project: None,
            now,
            offset: chrono::FixedOffset::east_opt(0).expect("UTC"),
        }
    }

    /// Syncs `pane` and draws it into a `width`×`height` buffer, as the UI does for a
    /// frame; every row of the buffer.
    pub fn draw(pane: &mut dyn Pane, view: &PaneView<'_>, width: u16, height: u16) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        terminal
            .draw(|frame| {
                pane.sync(view);
                pane.render(frame, frame.area(), view);
            })
            .expect("draw");
        let buffer = terminal.backend().buffer();
        (0..height)
            .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect::<String>())
            .collect()
    }
}

//! Volumes: every named volume of the engines with its driver, where the engine keeps
//! it, when it was made, its size when the engine measured it (`—` when not), and the
//! containers that mount it; orphans (mounted by none) marked. `a` then `d` removes
//! one, or all those marked with `m`, asking first; a volume in use is refused with
//! the names of its users. Sort with `s`/`S`, filter with `/` or `f`.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::listing::{BuiltFor, Listing, Pick, listed, note_is_fresh, note_line, truncate};
use super::{Effect, Handled, Pane, PaneView, ago, block};
use crate::engine::images::ResourceRequest;
use crate::model::format::bytes;
use crate::model::images::ResourceKind;
use crate::model::natural::natural_cmp;
use crate::model::sanitize::one_line;
use crate::model::{HostId, Model};
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

const SORTS: [&str; 4] = ["name", "size", "created", "users"];

/// One volume as the table shows it, worked out once per change.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeRow {
    pub host: HostId,
    pub name: String,
    pub driver: String,
    pub mountpoint: String,
    pub created: Option<DateTime<Utc>>,
    pub size: Option<u64>,
    pub users: Vec<String>,
}

impl VolumeRow {
    pub fn key(&self) -> String {
        format!("{}/{}", self.host, self.name)
    }

    pub fn orphan(&self) -> bool {
        self.users.is_empty()
    }
}

/// Every volume of the model as a row; with a project, only those it mounts.
pub fn rows(model: &Model, project: Option<&str>) -> Vec<VolumeRow> {
    model
        .volumes
        .iter()
        .filter(|((host, name), _)| {
            project.is_none()
                || model.containers.values().any(|c| {
                    c.host == *host
                        && c.in_project(project)
                        && c.mounts.iter().any(|m| m.name.as_deref() == Some(name.as_str()))
                })
        })
        .map(|(&(host, _), v)| VolumeRow {
            host,
            name: v.name.clone(),
            driver: v.driver.clone().unwrap_or_default(),
            mountpoint: v.mountpoint.clone().unwrap_or_default(),
            created: v.created,
            size: v.size,
            users: model.volume_users(host, &v.name).into_iter().map(String::from).collect(),
        })
        .collect()
}

#[derive(Debug, Default)]
pub struct VolumesPane {
    pub listing: Listing,
    rows: Vec<VolumeRow>,
    built_for: Option<BuiltFor>,
    table: TableState,
}

impl VolumesPane {
    pub fn rows(&self) -> &[VolumeRow] {
        &self.rows
    }

    pub fn take_requests(&mut self) -> Vec<(HostId, ResourceRequest)> {
        self.listing.take_requests()
    }

    fn refresh(&mut self, view: &PaneView<'_>) {
        let key = (
            view.model.images.revision,
            view.model.structure_revision,
            view.project.map(String::from),
            self.listing.shape(),
        );
        if self.built_for.as_ref() == Some(&key) {
            return;
        }
        let selected = self.rows.get(self.listing.nav.selected).map(VolumeRow::key);
        let mut rows = rows(view.model, view.project);
        rows.retain(|r| {
            self.listing.keeps(&r.name)
                || self.listing.keeps(&r.driver)
                || self.listing.keeps(&r.users.join(" "))
                || (r.orphan() && self.listing.keeps("orphan"))
        });
        let by_name = |a: &VolumeRow, b: &VolumeRow| {
            a.host.cmp(&b.host).then_with(|| natural_cmp(&a.name, &b.name))
        };
        match SORTS[self.listing.sort % SORTS.len()] {
            "size" => rows.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| by_name(a, b))),
            "created" => rows.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| by_name(a, b))),
            "users" => {
                rows.sort_by(|a, b| b.users.len().cmp(&a.users.len()).then_with(|| by_name(a, b)))
            }
            _ => rows.sort_by(by_name),
        }
        if self.listing.reverse {
            rows.reverse();
        }
        if let Some(selected) = selected
            && let Some(index) = rows.iter().position(|r| r.key() == selected)
        {
            self.listing.nav.selected = index;
        }
        let keys: std::collections::BTreeSet<String> = rows.iter().map(VolumeRow::key).collect();
        self.listing.marked.retain(|k| keys.contains(k));
        self.rows = rows;
        self.built_for = Some(key);
    }

    fn targets(&self) -> Vec<&VolumeRow> {
        if self.listing.marked.is_empty() {
            self.rows.get(self.listing.nav.selected).into_iter().collect()
        } else {
            self.rows.iter().filter(|r| self.listing.marked.contains(&r.key())).collect()
        }
    }

    fn pick(&mut self, pick: Pick, effects: &mut Vec<Effect>) {
        if pick != Pick::Remove {
            return;
        }
        let targets = self.targets();
        let Some(first) = targets.first() else { return };
        let host = first.host;
        let targets: Vec<&VolumeRow> = targets.into_iter().filter(|r| r.host == host).collect();
        match removal_question(&targets) {
            Err(refusal) => effects.push(Effect::Say { text: refusal, error: true }),
            Ok(question) => {
                let names = targets.iter().map(|r| r.name.clone()).collect();
                self.listing.ask(question, false, host, ResourceRequest::RemoveVolumes { names });
            }
        }
    }
}

/// The question before removing `targets`, naming each, or why they cannot be: a
/// volume in use is refused, naming the containers that mount it.
pub fn removal_question(targets: &[&VolumeRow]) -> Result<String, String> {
    let in_use: Vec<String> = targets
        .iter()
        .filter(|r| !r.orphan())
        .map(|r| format!("{} is used by {}", one_line(&r.name), one_line(&r.users.join(", "))))
        .collect();
    if !in_use.is_empty() {
        return Err(format!(
            "not removed: {} (remove those containers first)",
            in_use.join("; ")
        ));
    }
    let names: Vec<String> = targets.iter().map(|r| r.name.clone()).collect();
    Ok(if names.len() == 1 {
        format!("Remove volume {}? Its data is gone for good.", names[0])
    } else {
        format!("Remove {} volumes: {}? Their data is gone for good.", names.len(), listed(&names))
    })
}

impl Pane for VolumesPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        self.refresh(view);
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, effects: &mut Vec<Effect>) -> Handled {
        if action == Action::ToggleDetail {
            return Handled::Quiet;
        }
        let key = self.rows.get(self.listing.nav.selected).map(VolumeRow::key);
        self.listing.act(action, self.rows.len(), SORTS.len(), key, ResourceKind::Volume, effects)
    }

    fn takes_text(&self) -> bool {
        self.listing.takes_text()
    }

    fn text_key(&mut self, key: &KeyEvent, view: &PaneView<'_>, effects: &mut Vec<Effect>) -> bool {
        let (redraw, pick) = self.listing.text_key(key, effects);
        self.refresh(view);
        if let Some(pick) = pick {
            self.pick(pick, effects);
        }
        redraw
    }

    fn hints(&self) -> Vec<(Action, &'static str)> {
        vec![
            (Action::Actions, "remove"),
            (Action::Mark, "mark"),
            (Action::SortNext, "sort"),
            (Action::Filter, "filter"),
        ]
    }

    fn click(&mut self, row: u16) -> bool {
        self.listing.click(row, self.rows.len())
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let theme = view.theme;
        let orphans = self.rows.iter().filter(|r| r.orphan()).count();
        let sort = SORTS[self.listing.sort % SORTS.len()];
        let order = if self.listing.reverse { "↑" } else { "↓" };
        let outer = block(view, format!("Volumes · {} · by {sort} {order}", self.rows.len()));
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        if inner.height < 2 {
            return;
        }
        let [body, status] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        let sized: Vec<u64> = self.rows.iter().filter_map(|r| r.size).collect();
        let mut counts = vec![Span::styled(
            format!("{} volume{}", self.rows.len(), if self.rows.len() == 1 { "" } else { "s" }),
            theme.style(Slot::Value),
        )];
        if !sized.is_empty() {
            counts.push(Span::styled(
                format!(" · {}", bytes(sized.iter().sum())),
                theme.style(Slot::Value),
            ));
        }
        counts.push(Span::styled(
            format!(" · {orphans} orphaned"),
            theme.style(if orphans > 0 { Slot::Warning } else { Slot::Muted }),
        ));
        let line = match note_line(view, ResourceKind::Volume) {
            Some(note) if note_is_fresh(view, ResourceKind::Volume) => note,
            _ => Line::from(counts),
        };
        frame.render_widget(Paragraph::new(self.listing.status_line(view, line)), status);
        if self.rows.is_empty() {
            let text = if !self.listing.filter.is_empty() {
                "No volume matches the filter (esc clears it)."
            } else if view.model.any_connected() {
                "No volumes on this engine."
            } else {
                "Waiting for the engine…"
            };
            frame.render_widget(Paragraph::new(Span::styled(text, theme.style(Slot::Muted))), body);
            return;
        }
        let wide = body.width >= 110;
        let visible = body.height.saturating_sub(1) as usize;
        let window = self.listing.nav.window(self.rows.len(), visible);
        let mut headers = vec!["", "NAME", "DRIVER", "SIZE", "CREATED", "USED BY"];
        let mut widths = vec![
            Constraint::Length(1),
            Constraint::Fill(3),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Fill(2),
        ];
        if wide {
            headers.push("MOUNT POINT");
            widths.push(Constraint::Fill(3));
        }
        let header = Row::new(
            headers.into_iter().map(|h| Cell::from(Span::styled(h, theme.style(Slot::Label)))),
        );
        let fill = (body.width as usize).saturating_sub(32);
        let users_width = if wide { fill * 2 / 8 } else { fill * 2 / 5 };
        let multi = view.model.multi_host();
        let rows = self.rows[window.clone()].iter().map(|r| {
            let marked = self.listing.marked.contains(&r.key());
            let (flag, slot) = if marked {
                ("◆", Slot::Accent)
            } else if r.orphan() {
                ("◌", Slot::Warning)
            } else {
                ("●", Slot::StateRunning)
            };
            let name = if multi {
                super::host_and_name(view.model, r.host, &r.name, 40)
            } else {
                one_line(&r.name).into_owned()
            };
            let users = if r.orphan() {
                Span::styled("orphaned", theme.style(Slot::Warning))
            } else {
                let names = one_line(&r.users.join(", ")).into_owned();
                Span::styled(
                    truncate(&format!("{} · {names}", r.users.len()), users_width.max(8)),
                    theme.style(Slot::Value),
                )
            };
            let mut cells = vec![
                Cell::from(Span::styled(flag, theme.style(slot))),
                Cell::from(name),
                Cell::from(Span::styled(one_line(&r.driver).into_owned(), theme.style(Slot::Muted))),
                Cell::from(r.size.map_or("—".to_string(), bytes)),
                Cell::from(Span::styled(ago(view.now, r.created), theme.style(Slot::Muted))),
                Cell::from(users),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(
                    one_line(&r.mountpoint).into_owned(),
                    theme.style(Slot::Muted),
                )));
            }
            Row::new(cells)
        });
        let table = Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .row_highlight_style(theme.style(Slot::Selection));
        *self.table.offset_mut() = 0;
        self.table.select(Some(self.listing.nav.selected - window.start));
        frame.render_stateful_widget(table, body, &mut self.table);
        self.listing.render_popup(frame, area, view, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derived::Derived;
    use crate::ui::panes::testing::{draw, view};
    use crate::ui::theme::Theme;
    use crossterm::event::{KeyCode, KeyModifiers};

    #[test]
    fn volumes_show_users_and_orphans_and_removal_refuses_one_in_use() {
        let model = crate::topology::fixtures::seed("000-nestjs-postgres-redis").expect("seed");
        let (derived, theme) = (Derived::default(), Theme::built_in("dark"));
        let now = crate::topology::fixtures::now();
        let view = view(&model, &derived, &theme, "Volumes", now);
        let mut pane = VolumesPane::default();
        let lines = draw(&mut pane, &view, 120, 12).join("\n");
        assert!(lines.contains("pgdata") || lines.contains("USED BY"), "{lines}");
        let row = pane.rows().iter().position(|r| !r.orphan()).expect("a volume in use");
        pane.listing.nav.selected = row;
        let mut effects = Vec::new();
        pane.act(Action::Actions, &view, &mut effects);
        pane.text_key(&KeyEvent::new(KeyCode::Char('d'), KeyModifiers::NONE), &view, &mut effects);
        assert!(pane.listing.popup.is_none(), "refused, not asked");
        assert!(
            matches!(&effects[..], [Effect::Say { text, error: true }] if text.contains("is used by")),
            "{effects:?}"
        );
    }

    #[test]
    fn an_orphan_is_asked_about_by_name() {
        let row = VolumeRow {
            host: 0,
            name: "old-cache".into(),
            driver: "local".into(),
            mountpoint: String::new(),
            created: None,
            size: None,
            users: Vec::new(),
        };
        let question = removal_question(&[&row]).expect("an orphan may go");
        assert!(question.contains("old-cache"));
    }
}

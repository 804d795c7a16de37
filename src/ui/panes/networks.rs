//! Networks: every network of the engines with its driver, scope, subnet, gateway,
//! whether it is internal or attachable, and the containers on it with their
//! addresses; unused ones marked. The engine's own `bridge`, `host` and `none` are
//! never called unused and never removed. `a` then `d` removes one, or all those
//! marked with `m`, asking first; a network in use is refused, naming its
//! containers. Sort with `s`/`S`, filter with `/` or `f`.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::listing::{BuiltFor, Listing, Pick, listed, note_is_fresh, note_line, truncate};
use super::{Effect, Handled, Pane, PaneView, block};
use crate::engine::images::ResourceRequest;
use crate::model::images::ResourceKind;
use crate::model::natural::natural_cmp;
use crate::model::sanitize::one_line;
use crate::model::{HostId, Model};
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

const SORTS: [&str; 3] = ["name", "driver", "members"];

/// The networks every engine makes itself: never unused, never removable.
pub const BUILT_IN: [&str; 3] = ["bridge", "host", "none"];

/// One network as the table shows it, worked out once per change.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkRow {
    pub host: HostId,
    pub name: String,
    pub driver: String,
    pub scope: String,
    pub subnet: String,
    pub gateway: String,
    pub internal: bool,
    pub attachable: bool,
    /// (container, address) of each member, by name.
    pub members: Vec<(String, Option<String>)>,
}

impl NetworkRow {
    pub fn key(&self) -> String {
        format!("{}/{}", self.host, self.name)
    }

    pub fn built_in(&self) -> bool {
        BUILT_IN.contains(&self.name.as_str())
    }

    pub fn unused(&self) -> bool {
        self.members.is_empty() && !self.built_in()
    }
}

/// Every network of the model as a row, with its members; with a project, only
/// those its containers are on.
pub fn rows(model: &Model, project: Option<&str>) -> Vec<NetworkRow> {
    let mut rows = Vec::new();
    for (&(host, _), n) in &model.networks {
        let mut members: Vec<(String, Option<String>)> = model
            .containers
            .values()
            .filter(|c| c.host == host && c.in_project(project))
            .filter_map(|c| {
                let attachment = c.networks.iter().find(|a| a.name == n.name)?;
                Some((c.name.clone(), attachment.ip.clone()))
            })
            .collect();
        if project.is_some() && members.is_empty() {
            continue;
        }
        members.sort_by(|a, b| natural_cmp(&a.0, &b.0));
        rows.push(NetworkRow {
            host,
            name: n.name.clone(),
            driver: n.driver.clone().unwrap_or_default(),
            scope: n.scope.clone().unwrap_or_default(),
            subnet: n.subnets.join(", "),
            gateway: n.gateways.join(", "),
            internal: n.internal,
            attachable: n.attachable,
            members,
        });
    }
    rows
}

#[derive(Debug, Default)]
pub struct NetworksPane {
    pub listing: Listing,
    rows: Vec<NetworkRow>,
    built_for: Option<BuiltFor>,
    table: TableState,
}

impl NetworksPane {
    pub fn rows(&self) -> &[NetworkRow] {
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
        let selected = self.rows.get(self.listing.nav.selected).map(NetworkRow::key);
        let mut rows = rows(view.model, view.project);
        rows.retain(|r| {
            let members: Vec<&str> = r.members.iter().map(|(n, _)| n.as_str()).collect();
            self.listing.keeps(&r.name)
                || self.listing.keeps(&r.driver)
                || self.listing.keeps(&r.subnet)
                || self.listing.keeps(&members.join(" "))
                || (r.unused() && self.listing.keeps("unused"))
        });
        let by_name = |a: &NetworkRow, b: &NetworkRow| {
            a.host.cmp(&b.host).then_with(|| natural_cmp(&a.name, &b.name))
        };
        match SORTS[self.listing.sort % SORTS.len()] {
            "driver" => rows.sort_by(|a, b| a.driver.cmp(&b.driver).then_with(|| by_name(a, b))),
            "members" => rows.sort_by(|a, b| {
                b.members.len().cmp(&a.members.len()).then_with(|| by_name(a, b))
            }),
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
        let keys: std::collections::BTreeSet<String> = rows.iter().map(NetworkRow::key).collect();
        self.listing.marked.retain(|k| keys.contains(k));
        self.rows = rows;
        self.built_for = Some(key);
    }

    fn targets(&self) -> Vec<&NetworkRow> {
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
        let targets: Vec<&NetworkRow> = targets.into_iter().filter(|r| r.host == host).collect();
        match removal_question(&targets) {
            Err(refusal) => effects.push(Effect::Say { text: refusal, error: true }),
            Ok(question) => {
                let names = targets.iter().map(|r| r.name.clone()).collect();
                self.listing.ask(question, false, host, ResourceRequest::RemoveNetworks { names });
            }
        }
    }
}

/// The question before removing `targets`, naming each, or why they cannot be: the
/// built-in networks never go, and one in use is refused, naming its containers.
pub fn removal_question(targets: &[&NetworkRow]) -> Result<String, String> {
    if let Some(built_in) = targets.iter().find(|r| r.built_in()) {
        return Err(format!("not removed: {} is the engine's own network", built_in.name));
    }
    let in_use: Vec<String> = targets
        .iter()
        .filter(|r| !r.members.is_empty())
        .map(|r| {
            let names: Vec<&str> = r.members.iter().map(|(n, _)| n.as_str()).collect();
            format!("{} is used by {}", one_line(&r.name), one_line(&names.join(", ")))
        })
        .collect();
    if !in_use.is_empty() {
        return Err(format!(
            "not removed: {} (disconnect or remove those containers first)",
            in_use.join("; ")
        ));
    }
    let names: Vec<String> = targets.iter().map(|r| r.name.clone()).collect();
    Ok(if names.len() == 1 {
        format!("Remove network {}?", names[0])
    } else {
        format!("Remove {} networks: {}?", names.len(), listed(&names))
    })
}

impl Pane for NetworksPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        self.refresh(view);
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, effects: &mut Vec<Effect>) -> Handled {
        if action == Action::ToggleDetail {
            return Handled::Quiet;
        }
        let key = self.rows.get(self.listing.nav.selected).map(NetworkRow::key);
        self.listing.act(action, self.rows.len(), SORTS.len(), key, ResourceKind::Network, effects)
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
        let unused = self.rows.iter().filter(|r| r.unused()).count();
        let sort = SORTS[self.listing.sort % SORTS.len()];
        let order = if self.listing.reverse { "↑" } else { "↓" };
        let outer = block(view, format!("Networks · {} · by {sort} {order}", self.rows.len()));
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        if inner.height < 2 {
            return;
        }
        let [body, status] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        let counts = Line::from(vec![
            Span::styled(format!("{} network{}", self.rows.len(), if self.rows.len() == 1 { "" } else { "s" }), theme.style(Slot::Value)),
            Span::styled(
                format!(" · {unused} unused"),
                theme.style(if unused > 0 { Slot::Warning } else { Slot::Muted }),
            ),
        ]);
        let line = match note_line(view, ResourceKind::Network) {
            Some(note) if note_is_fresh(view, ResourceKind::Network) => note,
            _ => counts,
        };
        frame.render_widget(Paragraph::new(self.listing.status_line(view, line)), status);
        if self.rows.is_empty() {
            let text = if !self.listing.filter.is_empty() {
                "No network matches the filter (esc clears it)."
            } else if view.model.any_connected() {
                "No networks listed yet."
            } else {
                "Waiting for the engine…"
            };
            frame.render_widget(Paragraph::new(Span::styled(text, theme.style(Slot::Muted))), body);
            return;
        }
        let wide = body.width >= 110;
        let visible = body.height.saturating_sub(1) as usize;
        let window = self.listing.nav.window(self.rows.len(), visible);
        let mut headers = vec!["", "NAME", "DRIVER", "SUBNET", "FLAGS", "CONTAINERS"];
        let mut widths = vec![
            Constraint::Length(1),
            Constraint::Fill(2),
            Constraint::Length(7),
            // An IPv4 subnet is up to 18 characters (`192.168.112.0/20` is 16).
            Constraint::Length(18),
            Constraint::Length(6),
            Constraint::Fill(3),
        ];
        if wide {
            headers.insert(4, "GATEWAY");
            widths.insert(4, Constraint::Length(15));
            headers.insert(3, "SCOPE");
            widths.insert(3, Constraint::Length(6));
        }
        let header = Row::new(
            headers.into_iter().map(|h| Cell::from(Span::styled(h, theme.style(Slot::Label)))),
        );
        let fixed = if wide { 60 } else { 37 };
        let members_width = (body.width as usize).saturating_sub(fixed) * 3 / 5;
        let multi = view.model.multi_host();
        let rows = self.rows[window.clone()].iter().map(|r| {
            let marked = self.listing.marked.contains(&r.key());
            let (flag, slot) = if marked {
                ("◆", Slot::Accent)
            } else if r.unused() {
                ("◌", Slot::Warning)
            } else if r.built_in() {
                ("□", Slot::Muted)
            } else {
                ("●", Slot::StateRunning)
            };
            let name = if multi {
                super::host_and_name(view.model, r.host, &r.name, 40)
            } else {
                one_line(&r.name).into_owned()
            };
            let mut flags = String::new();
            if r.internal {
                flags.push_str("int ");
            }
            if r.attachable {
                flags.push_str("att");
            }
            let members = if r.unused() {
                Span::styled("unused", theme.style(Slot::Warning))
            } else if r.members.is_empty() {
                Span::styled("built-in", theme.style(Slot::Muted))
            } else {
                let listed: Vec<String> = r
                    .members
                    .iter()
                    .map(|(name, ip)| match ip {
                        Some(ip) => format!("{} {}", one_line(name), one_line(ip)),
                        None => one_line(name).into_owned(),
                    })
                    .collect();
                Span::styled(
                    truncate(&format!("{} · {}", r.members.len(), listed.join(", ")), members_width.max(8)),
                    theme.style(Slot::Value),
                )
            };
            let mut cells = vec![
                Cell::from(Span::styled(flag, theme.style(slot))),
                Cell::from(name),
                Cell::from(Span::styled(one_line(&r.driver).into_owned(), theme.style(Slot::Muted))),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(
                    one_line(&r.scope).into_owned(),
                    theme.style(Slot::Muted),
                )));
            }
            cells.push(Cell::from(one_line(&r.subnet).into_owned()));
            if wide {
                cells.push(Cell::from(Span::styled(
                    one_line(&r.gateway).into_owned(),
                    theme.style(Slot::Muted),
                )));
            }
            cells.push(Cell::from(Span::styled(flags, theme.style(Slot::Accent))));
            cells.push(Cell::from(members));
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

    fn row(name: &str, members: &[&str]) -> NetworkRow {
        NetworkRow {
            host: 0,
            name: name.into(),
            driver: "bridge".into(),
            scope: "local".into(),
            subnet: String::new(),
            gateway: String::new(),
            internal: false,
            attachable: false,
            members: members.iter().map(|m| (m.to_string(), Some("172.18.0.2".into()))).collect(),
        }
    }

    #[test]
    fn built_in_networks_are_never_unused_nor_removable() {
        let bridge = row("bridge", &[]);
        assert!(!bridge.unused());
        assert!(removal_question(&[&bridge]).unwrap_err().contains("engine's own"));
        let used = row("shop_backend", &["api", "db"]);
        let refusal = removal_question(&[&used]).unwrap_err();
        assert!(refusal.contains("is used by api, db"), "{refusal}");
        let spare = row("old_net", &[]);
        let other = row("old_net2", &[]);
        assert!(spare.unused());
        let question = removal_question(&[&spare, &other]).expect("unused may go");
        assert_eq!(question, "Remove 2 networks: old_net, old_net2?");
    }

    #[test]
    fn members_carry_their_addresses() {
        let model = crate::topology::fixtures::seed("000-nestjs-postgres-redis").expect("seed");
        let rows = rows(&model, None);
        assert!(rows.iter().any(|r| !r.members.is_empty()), "{rows:?}");
    }
}

//! Images: every image of the engines with its repository, tag, short id, size, age
//! and the containers that use it (running and stopped), dangling and unused ones
//! marked. Enter shows the selected image's layers from its history (size and the
//! instruction that made each), read when asked. `a` removes (asking first; an image
//! in use is refused unless the operator types `yes` to force it, naming its
//! containers) or pulls its tag again, its progress in the status line; `m` marks
//! several for one removal. Sort with `s`/`S`, filter with `/` or `f`.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::listing::{BuiltFor, Listing, Pick, listed, note_is_fresh, note_line, truncate};
use super::{Effect, Handled, ListNav, Pane, PaneView, ago, block};
use crate::engine::images::ResourceRequest;
use crate::model::format::bytes;
use crate::model::images::{self, ResourceKind};
use crate::model::natural::natural_cmp;
use crate::model::sanitize::one_line;
use crate::model::{HostId, Model};
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

/// The columns `s` sorts by, in turn.
const SORTS: [&str; 4] = ["repository", "size", "created", "users"];

/// One image as the table shows it, worked out once per change.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRow {
    pub host: HostId,
    pub id: String,
    pub repository: String,
    pub tag: String,
    pub short_id: String,
    pub size: Option<u64>,
    pub created: Option<DateTime<Utc>>,
    /// Names of the containers that use it, running ones first.
    pub users: Vec<String>,
    pub running_users: usize,
    pub dangling: bool,
    /// What the operator calls it: its first tag, else its short id.
    pub label: String,
    /// Every tag, for the filter.
    tags: String,
}

impl ImageRow {
    pub fn key(&self) -> String {
        format!("{}/{}", self.host, self.id)
    }

    pub fn unused(&self) -> bool {
        self.users.is_empty()
    }
}

#[derive(Debug, Default)]
pub struct ImagesPane {
    pub listing: Listing,
    rows: Vec<ImageRow>,
    built_for: Option<BuiltFor>,
    /// The image whose layers are shown, instead of the list.
    layers: Option<(HostId, String, String)>,
    layers_nav: ListNav,
    table: TableState,
}

/// Every image of the model as a row, with its users; with a project, only the
/// images its containers use.
pub fn rows(model: &Model, project: Option<&str>) -> Vec<ImageRow> {
    let mut rows = Vec::with_capacity(model.images.images.len());
    for (&(host, _), image) in &model.images.images {
        let users = images::users(model.containers.values(), host, image);
        if project.is_some() && !users.iter().any(|c| c.in_project(project)) {
            continue;
        }
        let (repository, tag) = image.repository_and_tag();
        rows.push(ImageRow {
            host,
            id: image.id.clone(),
            repository: repository.to_string(),
            tag: tag.to_string(),
            short_id: image.short_id().to_string(),
            size: image.size,
            created: image.created,
            running_users: users.iter().filter(|c| c.state.is_running()).count(),
            users: users.iter().map(|c| c.name.clone()).collect(),
            dangling: image.dangling(),
            label: image.label(),
            tags: image.repo_tags.join(" "),
        });
    }
    rows
}

impl ImagesPane {
    pub fn rows(&self) -> &[ImageRow] {
        &self.rows
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
        let selected = self.rows.get(self.listing.nav.selected).map(ImageRow::key);
        let mut rows = rows(view.model, view.project);
        rows.retain(|r| {
            self.listing.keeps(&r.tags)
                || self.listing.keeps(&r.short_id)
                || self.listing.keeps(&r.users.join(" "))
                || (r.dangling && self.listing.keeps("dangling"))
                || (r.unused() && self.listing.keeps("unused"))
        });
        let by_name = |a: &ImageRow, b: &ImageRow| {
            a.host
                .cmp(&b.host)
                .then_with(|| a.dangling.cmp(&b.dangling))
                .then_with(|| natural_cmp(&a.repository, &b.repository))
                .then_with(|| natural_cmp(&a.tag, &b.tag))
                .then_with(|| a.id.cmp(&b.id))
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
        let keys: std::collections::BTreeSet<String> = rows.iter().map(ImageRow::key).collect();
        self.listing.marked.retain(|k| keys.contains(k));
        self.rows = rows;
        self.built_for = Some(key);
    }

    pub fn selected(&self) -> Option<&ImageRow> {
        self.rows.get(self.listing.nav.selected)
    }

    /// The requests for the engine since the last call: layers to read, removals and
    /// pulls the operator confirmed.
    pub fn take_requests(&mut self) -> Vec<(HostId, ResourceRequest)> {
        self.listing.take_requests()
    }

    /// The marked rows, or else the selection.
    fn targets(&self) -> Vec<&ImageRow> {
        if self.listing.marked.is_empty() {
            self.selected().into_iter().collect()
        } else {
            self.rows.iter().filter(|r| self.listing.marked.contains(&r.key())).collect()
        }
    }

    fn pick(&mut self, pick: Pick, effects: &mut Vec<Effect>) {
        if self.listing.read_only {
            let text = "read-only: image actions are turned off (--read-only)".to_string();
            effects.push(Effect::Say { text, error: true });
            return;
        }
        match pick {
            Pick::Pull => {
                let Some(row) = self.selected() else { return };
                if row.dangling {
                    let text = format!("image {} has no tag to pull", row.short_id);
                    effects.push(Effect::Say { text, error: true });
                    return;
                }
                let reference = format!("{}:{}", row.repository, row.tag);
                let host = row.host;
                effects.push(Effect::Say { text: format!("pulling {}…", one_line(&reference)), error: false });
                self.listing.push(host, ResourceRequest::Pull { reference });
            }
            Pick::Remove => {
                let targets = self.targets();
                let Some(first) = targets.first() else { return };
                let host = first.host;
                // One engine at a time: a removal goes to the engine of its images.
                let targets: Vec<&ImageRow> = targets.into_iter().filter(|r| r.host == host).collect();
                let (question, force) = removal_question(&targets);
                let request = ResourceRequest::RemoveImages {
                    targets: targets.iter().map(|r| (r.id.clone(), r.label.clone())).collect(),
                    force,
                };
                self.listing.ask(question, force, host, request);
            }
        }
    }

    fn open_layers(&mut self) {
        let Some(row) = self.selected() else { return };
        let (host, id, label) = (row.host, row.id.clone(), row.label.clone());
        self.listing.push(host, ResourceRequest::History { id: id.clone() });
        self.layers = Some((host, id, label));
        self.layers_nav = ListNav::default();
    }

    fn render_layers(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let theme = view.theme;
        let Some((host, id, label)) = &self.layers else { return };
        let outer = block(view, format!("Image {} · layers", one_line(label)));
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        let [body, status] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        frame.render_widget(
            Paragraph::new(Span::styled("enter or esc: back to the images", theme.style(Slot::Muted))),
            status,
        );
        let history = view.model.images.histories.get(&(*host, id.clone()));
        let layers = match history.map(|h| &h.result) {
            None => {
                frame.render_widget(
                    Paragraph::new(Span::styled("reading the image's history…", theme.style(Slot::Muted))),
                    body,
                );
                return;
            }
            Some(Err(error)) => {
                frame.render_widget(
                    Paragraph::new(Span::styled(
                        format!("cannot read the layers: {}", one_line(error)),
                        theme.style(Slot::Error),
                    ))
                    .wrap(ratatui::widgets::Wrap { trim: true }),
                    body,
                );
                return;
            }
            Some(Ok(layers)) => layers,
        };
        let visible = body.height.saturating_sub(1) as usize;
        let window = self.layers_nav.window(layers.len(), visible);
        let command_width = (body.width as usize).saturating_sub(9 + 9 + 2).max(8);
        let header = Row::new(["SIZE", "CREATED", "COMMAND"].map(|h| {
            Cell::from(Span::styled(h, theme.style(Slot::Label)))
        }));
        let total: u64 = layers.iter().map(|l| l.size).sum();
        let rows = layers[window.clone()].iter().map(|layer| {
            let size_slot = if layer.size == 0 { Slot::Muted } else { Slot::Value };
            Row::new(vec![
                Cell::from(Span::styled(bytes(layer.size), theme.style(size_slot))),
                Cell::from(Span::styled(ago(view.now, layer.created), theme.style(Slot::Muted))),
                Cell::from(truncate(&one_line(layer.command()), command_width)),
            ])
        });
        let table = Table::new(rows, [Constraint::Length(9), Constraint::Length(9), Constraint::Fill(1)])
            .header(header)
            .column_spacing(1)
            .row_highlight_style(theme.style(Slot::Selection));
        let mut state = TableState::default();
        state.select(Some(self.layers_nav.selected - window.start));
        frame.render_stateful_widget(table, body, &mut state);
        let summary = format!("{} layers · {} · enter or esc: back", layers.len(), bytes(total));
        frame.render_widget(Paragraph::new(Span::styled(summary, theme.style(Slot::Muted))), status);
    }
}

/// The question before removing `targets`, naming each, and whether it must force:
/// an image in use is refused by the engine unless forced, so it asks harder and
/// names the containers that use it.
pub fn removal_question(targets: &[&ImageRow]) -> (String, bool) {
    let names: Vec<String> = targets.iter().map(|r| r.label.clone()).collect();
    let in_use: Vec<&&ImageRow> = targets.iter().filter(|r| !r.unused()).collect();
    let what = if names.len() == 1 {
        format!("image {}", names[0])
    } else {
        format!("{} images: {}", names.len(), listed(&names))
    };
    if in_use.is_empty() {
        return (format!("Remove {what}?"), false);
    }
    let uses: Vec<String> =
        in_use.iter().map(|r| format!("{} is used by {}", r.label, r.users.join(", "))).collect();
    (
        format!(
            "{}. The engine refuses to remove an image in use; forcing it takes the tag away and \
             leaves those containers on an unnamed image. Remove {what} by force?",
            uses.join("; ")
        ),
        true,
    )
}

impl Pane for ImagesPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        self.refresh(view);
    }

    fn act(&mut self, action: Action, view: &PaneView<'_>, effects: &mut Vec<Effect>) -> Handled {
        if self.layers.is_some() {
            return match action {
                Action::ToggleDetail | Action::Back => {
                    self.layers = None;
                    Handled::Redraw
                }
                Action::Reveal => {
                    if let Some((host, id, _)) = &self.layers {
                        let request = ResourceRequest::History { id: id.clone() };
                        self.listing.push(*host, request);
                    }
                    Handled::Redraw
                }
                _ => {
                    let len = self
                        .layers
                        .as_ref()
                        .and_then(|(h, id, _)| view.model.images.histories.get(&(*h, id.clone())))
                        .and_then(|h| h.result.as_ref().ok())
                        .map_or(0, Vec::len);
                    self.layers_nav.take_movement(action, len)
                }
            };
        }
        if action == Action::ToggleDetail {
            self.open_layers();
            return Handled::Redraw;
        }
        let key = self.selected().map(ImageRow::key);
        self.listing.act(action, self.rows.len(), SORTS.len(), key, ResourceKind::Image, effects)
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
        if self.layers.is_some() {
            return vec![(Action::ToggleDetail, "back")];
        }
        vec![
            (Action::ToggleDetail, "layers"),
            (Action::Actions, "remove/pull"),
            (Action::Mark, "mark"),
            (Action::SortNext, "sort"),
            (Action::Filter, "filter"),
        ]
    }

    fn click(&mut self, row: u16) -> bool {
        self.layers.is_none() && self.listing.click(row, self.rows.len())
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        if self.layers.is_some() {
            self.render_layers(frame, area, view);
            return;
        }
        let theme = view.theme;
        let total: u64 = self.rows.iter().filter_map(|r| r.size).sum();
        let dangling = self.rows.iter().filter(|r| r.dangling).count();
        let unused = self.rows.iter().filter(|r| r.unused()).count();
        let sort = SORTS[self.listing.sort % SORTS.len()];
        let order = if self.listing.reverse { "↑" } else { "↓" };
        let title = format!("Images · {} · by {sort} {order}", self.rows.len());
        let outer = block(view, title);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        if inner.height < 2 {
            return;
        }
        let [body, status] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        let counts = Line::from(vec![
            Span::styled(format!("{} image{} · {}", self.rows.len(), if self.rows.len() == 1 { "" } else { "s" }, bytes(total)), theme.style(Slot::Value)),
            Span::styled(format!(" · {dangling} dangling"), theme.style(if dangling > 0 { Slot::Warning } else { Slot::Muted })),
            Span::styled(format!(" · {unused} unused"), theme.style(Slot::Muted)),
        ]);
        let line = match note_line(view, ResourceKind::Image) {
            Some(note) if note_is_fresh(view, ResourceKind::Image) => note,
            _ => counts,
        };
        frame.render_widget(Paragraph::new(self.listing.status_line(view, line)), status);
        if self.rows.is_empty() {
            let text = if !self.listing.filter.is_empty() {
                "No image matches the filter (esc clears it)."
            } else if view.model.any_connected() {
                "No images listed yet."
            } else {
                "Waiting for the engine…"
            };
            frame.render_widget(Paragraph::new(Span::styled(text, theme.style(Slot::Muted))), body);
            return;
        }
        let visible = body.height.saturating_sub(1) as usize;
        let window = self.listing.nav.window(self.rows.len(), visible);
        let multi = view.model.multi_host();
        // The id is what a narrow screen does without: the layers view names it.
        let show_id = body.width >= 100;
        let mut headers = vec!["", "REPOSITORY", "TAG", "ID", "SIZE", "CREATED", "USED BY"];
        let mut widths = vec![
            Constraint::Length(1),
            Constraint::Fill(2),
            Constraint::Length(12),
            Constraint::Length(12),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Fill(3),
        ];
        if !show_id {
            headers.remove(3);
            widths.remove(3);
        }
        let header = Row::new(
            headers.into_iter().map(|h| Cell::from(Span::styled(h, theme.style(Slot::Label)))),
        );
        let fixed = if show_id { 1 + 12 + 12 + 9 + 9 + 6 } else { 1 + 12 + 9 + 9 + 5 };
        let users_width = (body.width as usize).saturating_sub(fixed) * 3 / 5;
        let rows = self.rows[window.clone()].iter().map(|r| {
            let marked = self.listing.marked.contains(&r.key());
            let (flag, flag_slot) = if marked {
                ("◆", Slot::Accent)
            } else if r.dangling {
                ("◌", Slot::Warning)
            } else if r.unused() {
                ("·", Slot::Muted)
            } else if r.running_users > 0 {
                ("●", Slot::StateRunning)
            } else {
                ("○", Slot::StateExited)
            };
            let repository = if multi {
                super::host_and_name(view.model, r.host, &r.repository, 40)
            } else {
                one_line(&r.repository).into_owned()
            };
            let users = if r.dangling && r.unused() {
                Span::styled("dangling, unused", theme.style(Slot::Warning))
            } else if r.unused() {
                Span::styled("unused", theme.style(Slot::Muted))
            } else {
                let names = one_line(&r.users.join(", ")).into_owned();
                Span::styled(
                    truncate(&format!("{} · {names}", r.users.len()), users_width.max(8)),
                    theme.style(Slot::Value),
                )
            };
            let repo_slot = if r.dangling { Slot::Muted } else { Slot::Value };
            let tag_slot = if r.dangling { Slot::Warning } else { Slot::Accent };
            let mut cells = vec![
                Cell::from(Span::styled(flag, theme.style(flag_slot))),
                Cell::from(Span::styled(repository, theme.style(repo_slot))),
                Cell::from(Span::styled(one_line(&r.tag).into_owned(), theme.style(tag_slot))),
                Cell::from(Span::styled(r.short_id.clone(), theme.style(Slot::Muted))),
                Cell::from(r.size.map_or("—".to_string(), bytes)),
                Cell::from(Span::styled(ago(view.now, r.created), theme.style(Slot::Muted))),
                Cell::from(users),
            ];
            if !show_id {
                cells.remove(3);
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
        self.listing.render_popup(frame, area, view, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derived::Derived;
    use crate::model::images::Image;
    use crate::model::{Container, ContainerState, Update};
    use crate::ui::panes::testing::{draw, view};
    use crate::ui::theme::Theme;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn model() -> Model {
        let now = crate::topology::fixtures::now();
        let mut model = Model::new("unix:///var/run/docker.sock", now);
        let mut web = Container::new("c1", "web");
        web.image_id = Some("sha256:aaaa0000000000000000".into());
        web.state = ContainerState::Running;
        let mut job = Container::new("c2", "job");
        job.image_id = Some("sha256:aaaa0000000000000000".into());
        job.state = ContainerState::Exited;
        model.apply(Update::Synced(Box::new(crate::model::Inventory {
            containers: vec![web, job],
            ..Default::default()
        })));
        model.apply(Update::Images(vec![
            Image {
                id: "sha256:aaaa0000000000000000".into(),
                repo_tags: vec!["shop/web:2".into()],
                size: Some(50 << 20),
                created: Some(now - chrono::Duration::days(3)),
                ..Image::default()
            },
            Image {
                id: "sha256:bbbb0000000000000000".into(),
                repo_tags: vec!["<none>:<none>".into()],
                size: Some(10 << 20),
                ..Image::default()
            },
            Image {
                id: "sha256:cccc0000000000000000".into(),
                repo_tags: vec!["alpine:3.19".into()],
                size: Some(7 << 20),
                ..Image::default()
            },
        ]));
        model
    }

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn rows_show_users_dangling_and_unused() {
        let model = model();
        let (derived, theme) = (Derived::default(), Theme::built_in("dark"));
        let view = view(&model, &derived, &theme, "Images", crate::topology::fixtures::now());
        let mut pane = ImagesPane::default();
        let lines = draw(&mut pane, &view, 100, 10).join("\n");
        assert!(lines.contains("shop/web") && lines.contains("2 · web, job"), "{lines}");
        assert!(lines.contains("dangling, unused"), "{lines}");
        assert!(lines.contains("alpine") && lines.contains("unused"), "{lines}");
        assert!(lines.contains("3 images"), "{lines}");
    }

    #[test]
    fn removing_an_image_in_use_asks_to_force_and_names_its_users() {
        let model = model();
        let (derived, theme) = (Derived::default(), Theme::built_in("dark"));
        let view = view(&model, &derived, &theme, "Images", crate::topology::fixtures::now());
        let mut pane = ImagesPane::default();
        pane.sync(&view);
        let mut effects = Vec::new();
        // Sorted by repository, dangling last: alpine, shop/web, <none>.
        assert_eq!(pane.selected().map(|r| r.repository.as_str()), Some("alpine"));
        pane.listing.nav.selected = 1;
        pane.act(Action::Actions, &view, &mut effects);
        pane.text_key(&key('d'), &view, &mut effects);
        let Some(super::super::listing::Popup::Confirm(ask)) = &pane.listing.popup else {
            panic!("no question")
        };
        assert!(ask.hard && ask.question.contains("used by web, job"), "{}", ask.question);
        for c in "yes".chars() {
            pane.text_key(&key(c), &view, &mut effects);
        }
        pane.text_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE), &view, &mut effects);
        let sent = pane.take_requests();
        assert!(
            matches!(&sent[..], [(0, ResourceRequest::RemoveImages { force: true, targets })] if targets[0].1 == "shop/web:2"),
            "{sent:?}"
        );
    }

    #[test]
    fn marked_images_are_removed_with_one_question_naming_them_all() {
        let model = model();
        let (derived, theme) = (Derived::default(), Theme::built_in("dark"));
        let view = view(&model, &derived, &theme, "Images", crate::topology::fixtures::now());
        let mut pane = ImagesPane::default();
        pane.sync(&view);
        let mut effects = Vec::new();
        pane.act(Action::Mark, &view, &mut effects);
        pane.act(Action::Down, &view, &mut effects);
        pane.act(Action::Mark, &view, &mut effects);
        pane.act(Action::Actions, &view, &mut effects);
        pane.text_key(&key('d'), &view, &mut effects);
        let Some(super::super::listing::Popup::Confirm(ask)) = &pane.listing.popup else {
            panic!("no question")
        };
        assert!(!ask.hard);
        assert!(ask.question.contains("2 images: alpine:3.19, bbbb00000000"), "{}", ask.question);
        pane.text_key(&key('y'), &view, &mut effects);
        assert_eq!(pane.take_requests().len(), 1);
        assert!(pane.listing.marked.is_empty());
    }

    #[test]
    fn sort_and_filter_reorder_and_narrow_the_rows() {
        let model = model();
        let (derived, theme) = (Derived::default(), Theme::built_in("dark"));
        let view = view(&model, &derived, &theme, "Images", crate::topology::fixtures::now());
        let mut pane = ImagesPane::default();
        pane.sync(&view);
        let mut effects = Vec::new();
        pane.act(Action::SortNext, &view, &mut effects);
        pane.sync(&view);
        assert_eq!(pane.rows()[0].repository, "shop/web", "largest first");
        pane.act(Action::Filter, &view, &mut effects);
        for c in "alp".chars() {
            pane.text_key(&key(c), &view, &mut effects);
        }
        assert_eq!(pane.rows().len(), 1);
    }

    #[test]
    fn enter_asks_for_the_layers_and_shows_them() {
        let mut model = model();
        let (derived, theme) = (Derived::default(), Theme::built_in("dark"));
        let now = crate::topology::fixtures::now();
        let mut pane = ImagesPane::default();
        {
            let view = view(&model, &derived, &theme, "Images", now);
            pane.sync(&view);
            pane.act(Action::ToggleDetail, &view, &mut Vec::new());
        }
        let sent = pane.take_requests();
        let [(0, ResourceRequest::History { id })] = &sent[..] else { panic!("{sent:?}") };
        model.apply(Update::ImageHistory(Box::new(images::ImageHistory {
            id: id.clone(),
            at: now,
            result: Ok(vec![images::Layer {
                created_by: "/bin/sh -c echo \u{1b}[31mred".into(),
                size: 4096,
                ..images::Layer::default()
            }]),
        })));
        let view = view(&model, &derived, &theme, "Images", now);
        let lines = draw(&mut pane, &view, 80, 8).join("\n");
        assert!(lines.contains("4.00KiB") && lines.contains("echo"), "{lines}");
        assert!(!lines.contains('\u{1b}'));
    }
}

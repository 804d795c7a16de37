//! The map: the live architecture diagram of the host (or of each engine, when
//! portolan follows several), drawn cell by cell into
//! ratatui's buffer from [`crate::topology`]'s graph and layout.
//!
//! This pane owns the map's screen state: the cached graph and layout (rebuilt only
//! when the model's structure, the size, the project, the filter, the detail level or
//! the opened networks and clusters change — never for a stats tick), the selection
//! (kept on the same container across updates), the pan offset that follows it, the
//! detail level `z` cycles, and the `/` filter with its small text-input mode. It
//! reads live CPU and memory at render time and never decides where anything goes.

use std::collections::BTreeSet;
use std::rc::Rc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect as TuiRect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;

use super::{Effect, Handled, Pane, PaneView};
use crate::model::format::{bytes, percent};
use crate::model::sanitize::one_line;
use crate::model::{Connection, ContainerState};
use crate::topology::layout::{
    self, BoxLine, BoxPlan, Detail, HostPlan, MapLayout, Rect, Target, health_text, image_text,
};
use crate::topology::{EdgeKind, Graph, Node, VolumeKind};
use crate::ui::keymap::Action;
use crate::ui::theme::{Slot, Theme};

/// A direction to move the selection in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Up,
    Down,
    Left,
    Right,
}

/// What is selected: a container (by id, so it survives re-layouts), a collapsed
/// network's summary box (by group key) or a cluster box (by cluster key).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selected {
    Container(String),
    Group(String),
    Cluster(String),
}

/// Everything the layout depends on besides the graph. Stats are not in it, on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CacheKey {
    width: u16,
    height: u16,
    detail: Detail,
    expanded: BTreeSet<String>,
}

struct Cached {
    key: CacheKey,
    /// The derived graph the layout was made for.
    graph: Rc<Graph>,
    layout: MapLayout,
}

#[derive(Default)]
pub struct MapPane {
    pub detail: Detail,
    /// The `/` filter: containers whose name, service, image or network holds it.
    pub filter: String,
    /// While open, typed keys edit the filter instead of running actions.
    pub filter_open: bool,
    /// Networks and clusters the operator opened from their summary box.
    expanded: BTreeSet<String>,
    selected: Option<Selected>,
    scroll: (u16, u16),
    cache: Option<Cached>,
    /// The size of the map's area at the last render: between renders the layout
    /// is kept for this size.
    size: Option<(u16, u16)>,
    /// How many times the layout ran: the bench and tests check that a stats tick
    /// does not add to it.
    pub layout_runs: u64,
}

impl std::fmt::Debug for MapPane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapPane")
            .field("detail", &self.detail)
            .field("filter", &self.filter)
            .field("selected", &self.selected)
            .field("layout_runs", &self.layout_runs)
            .finish()
    }
}

impl Pane for MapPane {
    fn sync(&mut self, view: &PaneView<'_>) {
        if let Some((width, height)) = self.size {
            self.prepare(view, width, height);
        }
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, _: &mut Vec<Effect>) -> Handled {
        match action {
            Action::Top => {
                self.first();
            }
            Action::Bottom => {
                self.last();
            }
            // The map moves between boxes in space; a page is a few steps.
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                let dir = if matches!(action, Action::Up | Action::PageUp) {
                    Dir::Up
                } else {
                    Dir::Down
                };
                let steps = if matches!(action, Action::Up | Action::Down) { 1 } else { 3 };
                for _ in 0..steps {
                    if !self.step(dir) {
                        break;
                    }
                }
            }
            Action::Left => return Handled::changed(self.step(Dir::Left)),
            Action::Right => return Handled::changed(self.step(Dir::Right)),
            Action::Search => self.open_filter(),
            Action::DetailLevel => self.cycle_detail(),
            // Enter on a collapsed network opens it; on a container it is the app's.
            Action::ToggleDetail if self.expand_selected() => {}
            Action::Back if !self.filter.is_empty() => self.filter.clear(),
            _ => return Handled::Pass,
        }
        Handled::Redraw
    }

    fn selected_container(&self) -> Option<&str> {
        match &self.selected {
            Some(Selected::Container(id)) => Some(id),
            _ => None,
        }
    }

    /// Selects a container (when the operator arrives from another pane).
    fn select_container(&mut self, id: &str) {
        self.selected = Some(Selected::Container(id.to_string()));
    }

    fn takes_text(&self) -> bool {
        self.filter_open
    }

    fn text_key(&mut self, key: &KeyEvent, _view: &PaneView<'_>, _: &mut Vec<Effect>) -> bool {
        self.filter_key(key)
    }

    fn hints(&self) -> Vec<(Action, &'static str)> {
        if self.filter_open {
            // Keys go to the filter now: say how to leave it.
            vec![(Action::ToggleDetail, "keep filter"), (Action::Back, "clear filter")]
        } else {
            vec![
                (Action::ToggleDetail, "open"),
                (Action::Filter, "filter"),
                (Action::DetailLevel, "detail"),
            ]
        }
    }

    fn render(&mut self, frame: &mut Frame, area: TuiRect, view: &PaneView<'_>) {
        self.render_buffer(frame.buffer_mut(), area, view);
    }
}

impl MapPane {
    /// The layout last drawn, for tests.
    pub fn layout(&self) -> Option<&MapLayout> {
        self.cache.as_ref().map(|c| &c.layout)
    }

    pub fn graph(&self) -> Option<&Graph> {
        self.cache.as_ref().map(|c| c.graph.as_ref())
    }

    pub fn cycle_detail(&mut self) {
        self.detail = self.detail.next();
    }

    pub fn open_filter(&mut self) {
        self.filter_open = true;
    }

    /// A key while the filter is open: printable characters edit it, backspace
    /// deletes, Enter closes it keeping the text, Esc clears and closes it.
    pub fn filter_key(&mut self, key: &KeyEvent) -> bool {
        match key.code {
            KeyCode::Esc => {
                self.filter.clear();
                self.filter_open = false;
            }
            KeyCode::Enter => self.filter_open = false,
            KeyCode::Backspace => {
                self.filter.pop();
            }
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.filter.clear();
                self.filter_open = false;
            }
            KeyCode::Char(c) if !c.is_control() && self.filter.chars().count() < 40 => {
                self.filter.push(c);
            }
            _ => return false,
        }
        true
    }

    /// Opens the selected summary box's network or cluster; false when a container is
    /// selected. The selection moves to the first container it held, so the operator
    /// lands among what they opened.
    pub fn expand_selected(&mut self) -> bool {
        match self.selected.clone() {
            Some(Selected::Group(key)) => {
                self.expanded.insert(key);
                true
            }
            Some(Selected::Cluster(key)) => {
                let first = self.cache.as_ref().and_then(|c| {
                    let cluster = c.layout.clusters.iter().find(|k| k.key == key)?;
                    Some(c.graph.nodes.get(*cluster.nodes.first()?)?.id.clone())
                });
                self.expanded.insert(key);
                if let Some(id) = first {
                    self.selected = Some(Selected::Container(id));
                }
                true
            }
            _ => false,
        }
    }

    fn target_of(&self, selected: &Selected) -> Option<Target> {
        let cached = self.cache.as_ref()?;
        match selected {
            Selected::Container(id) => {
                let n = cached.graph.nodes.iter().position(|n| &n.id == id)?;
                match cached.layout.box_of(Target::Node(n)) {
                    Some(_) => Some(Target::Node(n)),
                    // Folded into a cluster, or its network is collapsed: the summary
                    // box stands for it.
                    None => match cached.layout.cluster_of(n) {
                        Some(c) => Some(Target::Cluster(c)),
                        None => Some(Target::Summary(cached.graph.nodes[n].group)),
                    },
                }
            }
            Selected::Group(key) => {
                let g = cached.graph.groups.iter().position(|g| &g.key == key)?;
                cached.layout.box_of(Target::Summary(g)).map(|_| Target::Summary(g))
            }
            Selected::Cluster(key) => {
                let c = cached.layout.clusters.iter().position(|c| &c.key == key)?;
                Some(Target::Cluster(c))
            }
        }
    }

    fn selection_for(&self, target: Target) -> Option<Selected> {
        let cached = self.cache.as_ref()?;
        Some(match target {
            Target::Node(n) => Selected::Container(cached.graph.nodes.get(n)?.id.clone()),
            Target::Summary(g) => Selected::Group(cached.graph.groups.get(g)?.key.clone()),
            Target::Cluster(c) => Selected::Cluster(cached.layout.clusters.get(c)?.key.clone()),
        })
    }

    /// Moves the selection to the nearest box in a direction.
    pub fn step(&mut self, dir: Dir) -> bool {
        let Some(cached) = self.cache.as_ref() else { return false };
        let boxes = &cached.layout.boxes;
        let current = self.selected.as_ref().and_then(|s| self.target_of(s));
        let Some(from) = current.and_then(|t| cached.layout.box_of(t)) else {
            return self.first();
        };
        let (cx, cy) = from.rect.center();
        // Cells are about twice as tall as wide: a row counts as two columns.
        let best = boxes
            .iter()
            .filter(|b| b.target != from.target)
            .filter_map(|b| {
                let (x, y) = b.rect.center();
                let (dx, dy) = (x - cx, (y - cy) * 2);
                let (along, across) = match dir {
                    Dir::Right => (dx, dy),
                    Dir::Left => (-dx, dy),
                    Dir::Down => (dy, dx),
                    Dir::Up => (-dy, dx),
                };
                (along > 0).then_some((along + 2 * across.abs(), b.target))
            })
            .min();
        match best.and_then(|(_, t)| self.selection_for(t)) {
            Some(selected) => {
                self.selected = Some(selected);
                true
            }
            None => false,
        }
    }

    /// Selects the top-left box.
    pub fn first(&mut self) -> bool {
        let target = self.cache.as_ref().and_then(|c| {
            c.layout.boxes.iter().min_by_key(|b| (b.rect.y, b.rect.x)).map(|b| b.target)
        });
        match target.and_then(|t| self.selection_for(t)) {
            Some(s) => {
                self.selected = Some(s);
                true
            }
            None => false,
        }
    }

    /// Selects the bottom-right box.
    pub fn last(&mut self) -> bool {
        let target = self.cache.as_ref().and_then(|c| {
            c.layout.boxes.iter().max_by_key(|b| (b.rect.y, b.rect.x)).map(|b| b.target)
        });
        match target.and_then(|t| self.selection_for(t)) {
            Some(s) => {
                self.selected = Some(s);
                true
            }
            None => false,
        }
    }

    /// Rebuilds the graph and layout if anything they depend on changed.
    pub fn prepare(&mut self, view: &PaneView<'_>, width: u16, height: u16) {
        let key = CacheKey { width, height, detail: self.detail, expanded: self.expanded.clone() };
        let graph = view.derived.graph(view.model, view.project, &self.filter);
        if self.cache.as_ref().is_some_and(|c| c.key == key && Rc::ptr_eq(&c.graph, &graph)) {
            return;
        }
        let layout = layout::layout(&graph, width, height, self.detail, &self.expanded);
        self.layout_runs += 1;
        self.cache = Some(Cached { key, graph, layout });
        // Keep the selection on its container; if it is gone, take the first box.
        let valid = self.selected.as_ref().and_then(|s| self.target_of(s)).is_some();
        if !valid {
            self.selected = None;
            self.first();
        }
    }

    /// Draws into a buffer directly (the snapshot renders the map alone this way).
    pub fn render_buffer(&mut self, buf: &mut Buffer, area: TuiRect, view: &PaneView<'_>) {
        if area.width < 4 || area.height < 3 {
            return;
        }
        // A swarm manager's nodes and the tasks on them stand in a band below the
        // containers; the container graph keeps the rest.
        let area = match super::swarm::map_band_height(view, area) {
            Some(band) => {
                let [map, below] = ratatui::layout::Layout::vertical([
                    ratatui::layout::Constraint::Min(0),
                    ratatui::layout::Constraint::Length(band),
                ])
                .areas(area);
                super::swarm::render_map_band(buf, below, view);
                map
            }
            None => area,
        };
        self.size = Some((area.width, area.height));
        self.prepare(view, area.width, area.height);
        let selected = self.selected.as_ref().and_then(|s| self.target_of(s));
        let Some(cached) = self.cache.as_ref() else { return };
        let layout = &cached.layout;
        // Pan so the selection is on screen.
        if let Some(b) = selected.and_then(|t| layout.box_of(t)) {
            let (mut sx, mut sy) = self.scroll;
            if b.rect.x < sx {
                sx = b.rect.x.saturating_sub(2);
            } else if b.rect.right() > sx + area.width {
                sx = (b.rect.right() + 2).saturating_sub(area.width);
            }
            if b.rect.y < sy {
                sy = b.rect.y.saturating_sub(1);
            } else if b.rect.bottom() > sy + area.height {
                sy = (b.rect.bottom() + 1).saturating_sub(area.height);
            }
            self.scroll = (sx, sy);
        }
        let max_x = layout.width.saturating_sub(area.width);
        let max_y = layout.height.saturating_sub(area.height);
        self.scroll = (self.scroll.0.min(max_x), self.scroll.1.min(max_y));
        let mut canvas = Canvas::new(area, self.scroll);
        let title = self.host_title(view, layout, &cached.graph);
        draw(&mut canvas, view, &cached.graph, layout, selected, &title);
        canvas.flush(buf);
    }

    fn host_title(&self, view: &PaneView<'_>, layout: &MapLayout, graph: &Graph) -> String {
        let mut parts = vec![view.title.to_string()];
        if graph.hosts.is_empty() {
            if let Some(host) = &graph.hostname {
                parts.push(host.clone());
            }
            if let Some(named) = &graph.engine_version {
                parts.push(one_line(named).into_owned());
            }
        } else {
            // Each host box names its engine; the frame says how many answer.
            parts.push(format!("{} engines", graph.hosts.len()));
            let lost = graph
                .hosts
                .iter()
                .filter(|h| !view.model.host(h.id).connection.is_connected())
                .count();
            if lost > 0 {
                parts.push(format!("{lost} not answering"));
            }
        }
        if self.filter_open {
            parts.push(format!("filter /{}▏", one_line(&self.filter)));
        } else if !self.filter.is_empty() {
            parts.push(format!("filter /{}", one_line(&self.filter)));
        }
        let level = if layout.compact { "compact" } else { "full" };
        parts.push(match self.detail {
            Detail::Auto => format!("{level} (z)"),
            other => format!("{} (z)", other.name()),
        });
        if !layout.collapsed.is_empty() {
            let n = layout.collapsed.len();
            parts.push(format!("{n} network{} collapsed", if n == 1 { "" } else { "s" }));
        }
        // Said up front, as a collapsed network is: the boxes shown are not all there is.
        let folded: usize = layout.clusters.iter().map(|c| c.nodes.len()).sum();
        if folded > 0 {
            parts.push(format!("{folded} folded"));
        }
        if !layout.fits {
            parts.push(format!("{}x{} map, pans with the selection", layout.width, layout.height));
        }
        if layout.hidden_edges > 0 {
            parts.push(format!("{} links across networks", layout.hidden_edges));
        }
        parts.join(" · ")
    }
}

const N: u8 = 1;
const E: u8 = 2;
const S: u8 = 4;
const W: u8 = 8;

fn line_glyph(bits: u8, dashed: bool) -> &'static str {
    match bits {
        b if b == E | W || b == E || b == W => {
            if dashed {
                "┄"
            } else {
                "─"
            }
        }
        b if b == N | S || b == N || b == S => {
            if dashed {
                "┆"
            } else {
                "│"
            }
        }
        b if b == E | S => "┌",
        b if b == W | S => "┐",
        b if b == N | E => "└",
        b if b == N | W => "┘",
        b if b == E | W | S => "┬",
        b if b == E | W | N => "┴",
        b if b == N | S | E => "├",
        b if b == N | S | W => "┤",
        _ => "┼",
    }
}

struct Text {
    x: u16,
    y: u16,
    text: String,
    style: Style,
}

/// The visible window of the map: line directions per cell (so crossings and
/// junctions get the right glyph), glyph overrides (arrowheads, rounded corners),
/// texts, and which cells are taken (so labels never cover anything).
struct Canvas {
    area: TuiRect,
    sx: u16,
    sy: u16,
    bits: Vec<u8>,
    dashed: Vec<bool>,
    styles: Vec<Style>,
    glyphs: Vec<Option<&'static str>>,
    used: Vec<bool>,
    texts: Vec<Text>,
}

impl Canvas {
    fn new(area: TuiRect, scroll: (u16, u16)) -> Canvas {
        let cells = usize::from(area.width) * usize::from(area.height);
        Canvas {
            area,
            sx: scroll.0,
            sy: scroll.1,
            bits: vec![0; cells],
            dashed: vec![false; cells],
            styles: vec![Style::default(); cells],
            glyphs: vec![None; cells],
            used: vec![false; cells],
            texts: Vec::new(),
        }
    }

    fn index(&self, x: u16, y: u16) -> Option<usize> {
        let (cx, cy) = (x.checked_sub(self.sx)?, y.checked_sub(self.sy)?);
        (cx < self.area.width && cy < self.area.height)
            .then(|| usize::from(cy) * usize::from(self.area.width) + usize::from(cx))
    }

    fn link(&mut self, x: u16, y: u16, bit: u8, style: Style, dashed: bool) {
        if let Some(i) = self.index(x, y) {
            self.bits[i] |= bit;
            self.styles[i] = style;
            self.dashed[i] = dashed && matches!(self.bits[i], b if b == E | W || b == N | S);
            self.used[i] = true;
        }
    }

    fn segment(&mut self, a: (u16, u16), b: (u16, u16), style: Style, dashed: bool) {
        if a.1 == b.1 {
            let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
            for x in x0..x1 {
                self.link(x, a.1, E, style, dashed);
                self.link(x + 1, a.1, W, style, dashed);
            }
        } else if a.0 == b.0 {
            let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
            for y in y0..y1 {
                self.link(a.0, y, S, style, dashed);
                self.link(a.0, y + 1, N, style, dashed);
            }
        }
    }

    fn border(&mut self, r: Rect, style: Style) {
        if r.w < 2 || r.h < 2 {
            return;
        }
        let (x1, y1) = (r.right() - 1, r.bottom() - 1);
        self.segment((r.x, r.y), (x1, r.y), style, false);
        self.segment((r.x, y1), (x1, y1), style, false);
        self.segment((r.x, r.y), (r.x, y1), style, false);
        self.segment((x1, r.y), (x1, y1), style, false);
    }

    /// Marks a box's interior as taken: no label goes there.
    fn reserve(&mut self, r: Rect) {
        for y in r.y..r.bottom() {
            for x in r.x..r.right() {
                if let Some(i) = self.index(x, y) {
                    self.used[i] = true;
                }
            }
        }
    }

    fn glyph(&mut self, x: u16, y: u16, glyph: &'static str, style: Style) {
        if let Some(i) = self.index(x, y) {
            self.glyphs[i] = Some(glyph);
            self.styles[i] = style;
            self.used[i] = true;
        }
    }

    /// Queues text, cut to `max` cells with an ellipsis.
    fn text(&mut self, x: u16, y: u16, text: &str, max: usize, style: Style) -> u16 {
        if max == 0 {
            return 0;
        }
        let count = text.chars().count();
        let text: String = if count > max {
            text.chars().take(max.saturating_sub(1)).chain(['…']).collect()
        } else {
            text.to_string()
        };
        let width = Span::raw(text.as_str()).width() as u16;
        for dx in 0..width {
            if let Some(i) = self.index(x + dx, y) {
                self.used[i] = true;
            }
        }
        self.texts.push(Text { x, y, text, style });
        width
    }

    /// Dims everything inside `r` but the selection.
    fn dim(&mut self, r: Rect, keep: Style) {
        for y in r.y..r.bottom() {
            for x in r.x..r.right() {
                if let Some(i) = self.index(x, y)
                    && self.styles[i] != keep
                {
                    self.styles[i] = self.styles[i].add_modifier(Modifier::DIM);
                }
            }
        }
        for t in &mut self.texts {
            let inside = t.y >= r.y && t.y < r.bottom() && t.x >= r.x && t.x < r.right();
            if inside && t.style != keep {
                t.style = t.style.add_modifier(Modifier::DIM);
            }
        }
    }

    fn free(&self, x: u16, y: u16, len: u16) -> bool {
        (0..len).all(|dx| self.index(x + dx, y).is_some_and(|i| !self.used[i]))
    }

    /// Whether a run of cells is plain horizontal line a label may replace.
    fn plain_horizontal(&self, x: u16, y: u16, len: u16) -> bool {
        (0..len).all(|dx| {
            self.index(x + dx, y).is_some_and(|i| {
                self.glyphs[i].is_none() && matches!(self.bits[i], b if b == E | W)
            })
        })
    }

    fn flush(self, buf: &mut Buffer) {
        let area = self.area.intersection(buf.area);
        for cy in 0..area.height {
            for cx in 0..area.width {
                let i = usize::from(cy) * usize::from(self.area.width) + usize::from(cx);
                let symbol = match (self.glyphs[i], self.bits[i]) {
                    (Some(g), _) => g,
                    (None, 0) => " ",
                    (None, bits) => line_glyph(bits, self.dashed[i]),
                };
                if let Some(cell) = buf.cell_mut((area.x + cx, area.y + cy)) {
                    cell.set_symbol(symbol).set_style(self.styles[i]);
                }
            }
        }
        for t in &self.texts {
            let Some(cy) = t.y.checked_sub(self.sy).filter(|cy| *cy < area.height) else {
                continue;
            };
            // Cut what lies left of the window, then what runs past its right edge.
            let skip = usize::from(self.sx.saturating_sub(t.x));
            let cx = t.x.saturating_sub(self.sx);
            if cx >= area.width {
                continue;
            }
            let visible: String = t.text.chars().skip(skip).collect();
            buf.set_stringn(
                area.x + cx,
                area.y + cy,
                visible,
                usize::from(area.width - cx),
                t.style,
            );
        }
    }
}

fn edge_style(theme: &Theme, kind: EdgeKind, ok: Option<bool>) -> (Style, bool) {
    if ok == Some(false) {
        return (theme.style(Slot::MapEdgeBroken), true);
    }
    let slot = match kind {
        EdgeKind::DependsOn => Slot::MapEdgeDependsOn,
        EdgeKind::Connection => Slot::MapEdgeConnection,
        EdgeKind::Ingress => Slot::MapEdgeIngress,
        EdgeKind::Route => Slot::MapEdgeRoute,
    };
    (theme.style(slot), false)
}

fn arrow(from: (u16, u16), to: (u16, u16)) -> &'static str {
    if to.1 > from.1 {
        "▼"
    } else if to.1 < from.1 {
        "▲"
    } else if to.0 > from.0 {
        "►"
    } else {
        "◄"
    }
}

fn draw(
    canvas: &mut Canvas,
    view: &PaneView<'_>,
    graph: &Graph,
    layout: &MapLayout,
    selected: Option<Target>,
    title: &str,
) {
    let theme = view.theme;
    // Borders first: host, networks, volumes, boxes. Edges after, so their junctions
    // with borders (┬ ├ ┼) take the edge's colour.
    let host = layout.host;
    canvas.border(host, theme.style(Slot::MapHost));
    for h in &layout.hosts {
        canvas.border(h.rect, theme.style(Slot::MapHost));
    }
    for g in &layout.groups {
        let style = if g.collapsed && selected == Some(Target::Summary(g.group)) {
            theme.style(Slot::Selection)
        } else {
            theme.style(Slot::MapNetwork)
        };
        canvas.border(g.rect, style);
    }
    let bands =
        || layout.volumes.iter().chain(layout.hosts.iter().filter_map(|h| h.volumes.as_ref()));
    for v in bands() {
        canvas.border(v.rect, theme.style(Slot::MapNetwork));
    }
    for b in &layout.boxes {
        if let Target::Node(_) | Target::Cluster(_) = b.target {
            let style = if selected == Some(b.target) {
                theme.style(Slot::Selection)
            } else {
                theme.style(Slot::MapBox)
            };
            canvas.border(b.rect, style);
        }
    }
    for e in &layout.edges {
        let edge = &graph.edges[e.edge];
        let (style, dashed) = edge_style(theme, edge.kind, edge.ok);
        for pair in e.points.windows(2) {
            canvas.segment(pair[0], pair[1], style, dashed);
        }
        let n = e.points.len();
        if n >= 2 {
            if e.reversed {
                canvas.glyph(e.points[0].0, e.points[0].1, arrow(e.points[1], e.points[0]), style);
            } else {
                let (a, b) = (e.points[n - 2], e.points[n - 1]);
                canvas.glyph(b.0, b.1, arrow(a, b), style);
            }
        }
    }
    // Rounded host corners tell the host from the networks at a glance.
    let host_style = theme.style(Slot::MapHost);
    for r in std::iter::once(host).chain(layout.hosts.iter().map(|h| h.rect)) {
        let (x1, y1) = (r.right() - 1, r.bottom() - 1);
        for (x, y, g) in [(r.x, r.y, "╭"), (x1, r.y, "╮"), (r.x, y1, "╰"), (x1, y1, "╯")] {
            canvas.glyph(x, y, g, host_style);
        }
    }
    // Titles and contents.
    let room = usize::from(host.w.saturating_sub(4));
    canvas.text(host.x + 2, host.y, &format!(" {title} "), room, theme.title(view.focused));
    legend(canvas, theme, host);
    for h in &layout.hosts {
        host_box(canvas, view, graph, layout, h);
    }
    for g in &layout.groups {
        let group = &graph.groups[g.group];
        let room = usize::from(g.rect.w.saturating_sub(4));
        canvas.text(
            g.rect.x + 2,
            g.rect.y,
            &format!(" {} ", group.title()),
            room,
            theme.style(Slot::Group),
        );
        if g.collapsed {
            canvas.reserve(Rect {
                x: g.rect.x + 1,
                y: g.rect.y + 1,
                w: g.rect.w - 2,
                h: g.rect.h - 2,
            });
            let text = layout::summary_text(graph, g.group);
            let style = if group
                .nodes
                .iter()
                .any(|&n| graph.nodes[n].health == crate::model::HealthStatus::Unhealthy)
            {
                theme.style(Slot::Warning)
            } else {
                theme.style(Slot::Value)
            };
            canvas.text(g.rect.x + 2, g.rect.y + 1, &text, room, style);
        }
    }
    for b in &layout.boxes {
        // A box's inside is its own: arrows go around it.
        if matches!(b.target, Target::Node(_) | Target::Cluster(_)) {
            canvas.reserve(Rect {
                x: b.rect.x + 1,
                y: b.rect.y + 1,
                w: b.rect.w - 2,
                h: b.rect.h - 2,
            });
        }
        if let Target::Node(n) = b.target {
            node_box(canvas, view, &graph.nodes[n], b, selected == Some(b.target));
        }
        if let Target::Cluster(c) = b.target {
            cluster_box(canvas, theme, graph, &layout.clusters[c], b, selected == Some(b.target));
        }
    }
    for v in bands() {
        volumes(canvas, theme, graph, v);
    }
    labels(canvas, theme, graph, layout);
    // What an engine portolan cannot hear said last is drawn faint: never as live.
    for h in &layout.hosts {
        if !view.model.host(h.host).connection.is_connected() {
            let r = h.rect;
            let inside = Rect { x: r.x + 1, y: r.y + 1, w: r.w - 2, h: r.h - 2 };
            canvas.dim(inside, theme.style(Slot::Selection));
        }
    }
}

/// `name · state · hostname · Docker (or Podman) version` on the top border (the state first when
/// the engine does not answer, so cutting the title never hides it); for an engine
/// not answering, a note on the bottom border that its boxes are its last known state;
/// inside an empty box, why it is empty.
fn host_box(
    canvas: &mut Canvas,
    view: &PaneView<'_>,
    graph: &Graph,
    layout: &MapLayout,
    plan: &HostPlan,
) {
    let theme = view.theme;
    let r = plan.rect;
    let engine = view.model.host(plan.host);
    let name = graph.hosts.iter().find(|h| h.id == plan.host).map_or("?", |h| h.name.as_str());
    let (state, state_slot) = match &engine.connection {
        Connection::Connected { .. } => ("● connected".to_string(), Slot::Ok),
        Connection::Connecting { .. } => ("… connecting…".to_string(), Slot::Muted),
        Connection::Disconnected { since, reason } => (
            format!(
                "✖ unreachable since {} — {}",
                since.with_timezone(&view.offset).format("%H:%M:%S"),
                one_line(reason)
            ),
            Slot::Warning,
        ),
    };
    let mut identity: Vec<String> = Vec::new();
    if let Some(hostname) = &engine.engine.hostname {
        identity.push(one_line(hostname).into_owned());
    }
    if let Some(named) = engine.engine.kind_and_version() {
        identity.push(one_line(&named).into_owned());
    }
    let connected = engine.connection.is_connected();
    let mut pieces: Vec<(String, Slot)> = vec![(format!(" {name} "), Slot::Title)];
    if !connected {
        pieces.push((format!("· {state} "), state_slot));
    }
    if !identity.is_empty() {
        pieces.push((format!("· {} ", identity.join(" · ")), Slot::Muted));
    }
    if connected {
        pieces.push(("· ".to_string(), Slot::Muted));
        pieces.push((format!("{state} "), state_slot));
    }
    let mut room = usize::from(r.w.saturating_sub(4));
    let mut x = r.x + 2;
    for (text, slot) in pieces {
        let used = canvas.text(x, r.y, &text, room, theme.style(slot));
        x += used;
        room = room.saturating_sub(usize::from(used));
    }
    let has_groups = layout.groups.iter().any(|g| graph.groups[g.group].host == plan.host);
    let room = usize::from(r.w.saturating_sub(4));
    if !connected && has_groups {
        let note = " last known state, not live ";
        canvas.text(r.x + 2, r.bottom() - 1, note, room, theme.style(Slot::Warning));
    }
    if !has_groups {
        let note =
            match (&engine.connection, view.model.containers.values().any(|c| c.host == plan.host))
            {
                (Connection::Connecting { .. }, _) => "waiting for the engine to answer",
                (Connection::Disconnected { .. }, false) => "nothing known of it yet",
                (_, true) => "no container matches the filter",
                (_, false) => "no containers",
            };
        canvas.reserve(Rect { x: r.x + 1, y: r.y + 1, w: r.w - 2, h: r.h - 2 });
        canvas.text(r.x + 2, r.y + 1, note, room, theme.style(Slot::Muted));
    }
}

fn legend(canvas: &mut Canvas, theme: &Theme, host: Rect) {
    let items: [(&str, Slot, &str); 5] = [
        ("─▼", Slot::MapEdgeDependsOn, "depends on"),
        ("─▼", Slot::MapEdgeConnection, "connects to"),
        ("─▼", Slot::MapEdgeRoute, "routes to"),
        ("┄▼", Slot::MapEdgeBroken, "unmet / down"),
        ("├►", Slot::MapEdgeIngress, "from the host"),
    ];
    let width: u16 = items.iter().map(|(_, _, w)| w.chars().count() as u16 + 5).sum::<u16>() + 1;
    if host.w < width + 6 {
        return;
    }
    let y = host.bottom() - 1;
    let mut x = host.right() - 2 - width;
    for (sample, slot, words) in items {
        x += canvas.text(x, y, &format!(" {sample}"), 4, theme.style(slot));
        x += canvas.text(x, y, &format!(" {words} "), 40, theme.style(Slot::Muted));
    }
}

fn node_box(canvas: &mut Canvas, view: &PaneView<'_>, node: &Node, b: &BoxPlan, selected: bool) {
    let theme = view.theme;
    let r = b.rect;
    let inner = usize::from(r.w.saturating_sub(4));
    let title_style =
        if selected { theme.style(Slot::Selection) } else { theme.style(Slot::Title) };
    let container = view.model.containers.get(&node.id);
    if b.compact {
        let glyph_style = container.map_or(Style::default(), |c| theme.state(c));
        let glyph = layout::compact_text(node);
        let mut chars = glyph.chars();
        let first: String = chars.next().map(String::from).unwrap_or_default();
        let x = r.x + 2;
        canvas.text(x, r.y + 1, &first, 1, glyph_style);
        let rest: String = chars.collect();
        let (name, health) = match rest.rsplit_once(' ') {
            Some((name, h)) if node.health != crate::model::HealthStatus::None => {
                (name.to_string(), format!(" {h}"))
            }
            _ => (rest.clone(), String::new()),
        };
        let used = canvas.text(
            x + 1,
            r.y + 1,
            &name,
            inner.saturating_sub(1 + health.chars().count()),
            if selected { title_style } else { theme.style(Slot::Value) },
        );
        canvas.text(x + 1 + used, r.y + 1, &health, 2, theme.health(node.health));
        return;
    }
    // Never over an arrowhead: the title stops short of the first one.
    let room = (r.x + 2..r.right() - 1)
        .position(|x| canvas.index(x, r.y).is_some_and(|i| canvas.glyphs[i].is_some()))
        .map_or(inner, |p| p.saturating_sub(1).min(inner));
    canvas.text(r.x + 2, r.y, &format!(" {} ", node.name), room, title_style);
    for (k, line) in b.lines.iter().enumerate() {
        let y = r.y + 1 + k as u16;
        let x = r.x + 2;
        match line {
            BoxLine::Image => {
                if node.image_is_demo {
                    canvas.text(x, y, "~", 1, theme.style(Slot::Muted));
                    canvas.text(x + 1, y, &node.image, inner - 1, theme.style(Slot::Value));
                } else {
                    canvas.text(x, y, &image_text(node), inner, theme.style(Slot::Value));
                }
            }
            BoxLine::Published => {
                canvas.text(
                    x,
                    y,
                    &layout::published_text(node),
                    inner,
                    theme.style(Slot::MapEdgeIngress),
                );
            }
            BoxLine::Exposed => {
                canvas.text(x, y, &layout::exposed_text(node), inner, theme.style(Slot::Label));
            }
            BoxLine::Networks => {
                canvas.text(x, y, &layout::networks_text(node), inner, theme.style(Slot::Muted));
            }
            BoxLine::Status => {
                // An action under way replaces the state until the engine answers.
                let busy = view.model.busy.get(&node.id);
                let health = match busy {
                    Some(verb) => format!(
                        "{} {}",
                        crate::ui::panes::containers::spinner(view.now),
                        verb.progressive()
                    ),
                    None => health_text(node),
                };
                let style = match (busy, node.state_words.is_some(), container) {
                    (Some(_), _, _) => theme.style(Slot::Accent),
                    (None, true, Some(c)) => theme.state(c),
                    _ => theme.health(node.health),
                };
                let used = canvas.text(x, y, &health, inner, style);
                let rest = inner.saturating_sub(usize::from(used));
                let used2 = canvas.text(x + used, y, " · ", rest, theme.style(Slot::Muted));
                let user_style =
                    if node.root { theme.style(Slot::Warning) } else { theme.style(Slot::Label) };
                canvas.text(
                    x + used + used2,
                    y,
                    &layout::user_text(node),
                    rest.saturating_sub(usize::from(used2)),
                    user_style,
                );
            }
            BoxLine::Stats => stats_line(canvas, view, node, x, y, inner),
        }
    }
}

/// `web-* ×300` on the border; how many run, then what is wrong, inside. The problem
/// line takes the warning colour so a folded failure still catches the eye.
fn cluster_box(
    canvas: &mut Canvas,
    theme: &Theme,
    graph: &Graph,
    cluster: &layout::ClusterPlan,
    b: &BoxPlan,
    selected: bool,
) {
    let r = b.rect;
    let inner = usize::from(r.w.saturating_sub(4));
    let title_style =
        if selected { theme.style(Slot::Selection) } else { theme.style(Slot::Title) };
    let title = format!(" {} ", layout::cluster_title(cluster));
    canvas.text(r.x + 2, r.y, &title, inner + 2, title_style);
    let counts = layout::ClusterCounts::of(graph, cluster);
    let [running, second] = layout::cluster_lines(&counts);
    let running_style = if counts.running == counts.total {
        theme.style(Slot::Value)
    } else {
        theme.style(Slot::Warning)
    };
    canvas.text(r.x + 2, r.y + 1, &running, inner, running_style);
    let second_style = if counts.unhealthy > 0 {
        theme.style(Slot::Error)
    } else if counts.has_problems() {
        theme.style(Slot::Warning)
    } else {
        theme.style(Slot::Muted)
    };
    canvas.text(r.x + 2, r.y + 2, &second, inner, second_style);
}

/// `1.2% 120MiB/256MiB`, read now, coloured against the container's limits.
fn stats_line(canvas: &mut Canvas, view: &PaneView<'_>, node: &Node, x: u16, y: u16, max: usize) {
    let theme = view.theme;
    let container = view.model.containers.get(&node.id);
    let point =
        view.model.stats.get(&node.id).and_then(|s| s.latest_with_cpu().or_else(|| s.latest()));
    let running = node.state == ContainerState::Running;
    // An engine that does not answer sends no numbers: its last ones are history.
    if view.model.multi_host() && !view.model.host(node.host).connection.is_connected() {
        canvas.text(x, y, "cpu – mem – (not live)", max, theme.style(Slot::Muted));
        return;
    }
    let Some(point) = point.filter(|_| running) else {
        canvas.text(x, y, "cpu – mem –", max, theme.style(Slot::Muted));
        return;
    };
    let cpu = point.cpu_percent.map_or("–".to_string(), percent);
    let cpu_style = match (point.cpu_percent, container.and_then(|c| c.limits.cpus)) {
        (Some(v), Some(limit)) if limit > 0.0 => theme.gauge(v / limit),
        _ => theme.style(Slot::Value),
    };
    let limit = container.and_then(|c| c.limits.memory_bytes).or(point.memory_limit_bytes);
    let mem = match (point.memory_bytes, limit) {
        (Some(used), Some(limit)) => format!("{}/{}", bytes(used), bytes(limit)),
        (Some(used), None) => bytes(used),
        _ => "–".to_string(),
    };
    let mem_style = match (point.memory_bytes, container.and_then(|c| c.limits.memory_bytes)) {
        (Some(used), Some(limit)) if limit > 0 => theme.gauge(used as f64 / limit as f64 * 100.0),
        _ => theme.style(Slot::Value),
    };
    let a = canvas.text(x, y, &cpu, max, cpu_style);
    canvas.text(x + a + 1, y, &mem, max.saturating_sub(usize::from(a) + 1), mem_style);
}

fn volumes(canvas: &mut Canvas, theme: &Theme, graph: &Graph, v: &layout::VolumesPlan) {
    let entries: Vec<&crate::topology::VolumeEntry> =
        v.entries.iter().filter_map(|&i| graph.volumes.get(i)).collect();
    let named = entries.iter().filter(|e| e.kind == VolumeKind::Named).count();
    let binds = entries.len() - named;
    let title = format!(" Volumes · {named} named (persistent) · {binds} bind mounts (host) ");
    canvas.text(
        v.rect.x + 2,
        v.rect.y,
        &title,
        usize::from(v.rect.w.saturating_sub(4)),
        theme.style(Slot::Group),
    );
    canvas.reserve(Rect { x: v.rect.x + 1, y: v.rect.y + 1, w: v.rect.w - 2, h: v.rect.h - 2 });
    let rows = v.rect.h.saturating_sub(2).max(1);
    for (i, entry) in entries.iter().enumerate().take(v.shown) {
        let (col, row) = ((i as u16) / rows, (i as u16) % rows);
        let x = v.rect.x + 2 + col * (v.column_width + 3);
        let y = v.rect.y + 1 + row;
        let last_cell = i + 1 == v.shown && v.shown < entries.len();
        if last_cell {
            let more = entries.len() - v.shown + 1;
            canvas.text(
                x,
                y,
                &format!("… {more} more"),
                usize::from(v.column_width),
                theme.style(Slot::Muted),
            );
            continue;
        }
        let text = layout::volume_text(graph, entry);
        let slot = match entry.kind {
            VolumeKind::Named => Slot::MapVolume,
            VolumeKind::Bind => Slot::Muted,
        };
        canvas.text(x, y, &text, usize::from(v.column_width), theme.style(slot));
    }
}

/// One straight piece of an edge: from, to.
type Run = ((u16, u16), (u16, u16));

/// Labels where they fit: on a horizontal run, else beside a vertical one; never
/// over a box, a line junction or other text.
fn labels(canvas: &mut Canvas, theme: &Theme, graph: &Graph, layout: &MapLayout) {
    for e in &layout.edges {
        let edge = &graph.edges[e.edge];
        if edge.label.is_empty() || e.points.len() < 2 {
            continue;
        }
        let (style, _) = edge_style(theme, edge.kind, edge.ok);
        let text = match edge.kind {
            EdgeKind::Ingress => format!(" {} ►", one_line(&edge.label)),
            _ => format!(" {} ", one_line(&edge.label)),
        };
        let len = text.chars().count() as u16;
        let mut placed = false;
        // On a horizontal run (ingress: right at the host's edge).
        let runs: Vec<Run> = e.points.windows(2).map(|p| (p[0], p[1])).collect();
        let mut horizontal: Vec<&Run> = runs.iter().filter(|(a, b)| a.1 == b.1).collect();
        if edge.kind != EdgeKind::Ingress {
            horizontal.sort_by_key(|(a, b)| std::cmp::Reverse(a.0.abs_diff(b.0)));
        }
        for (a, b) in horizontal {
            let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
            if x1 - x0 < len + 2 {
                continue;
            }
            // Ingress: as near the host's edge as the crossings allow; others: centred.
            let mut starts: Vec<u16> = (x0 + 1..x1 - len).collect();
            if edge.kind != EdgeKind::Ingress {
                let middle = x0 + (x1 - x0 - len) / 2;
                starts.sort_by_key(|x| x.abs_diff(middle));
            }
            if let Some(x) = starts.into_iter().find(|&x| canvas.plain_horizontal(x, a.1, len)) {
                canvas.text(x, a.1, &text, usize::from(len), style);
                placed = true;
                break;
            }
        }
        if placed || edge.kind == EdgeKind::Ingress {
            continue;
        }
        // Beside the last vertical run, bottom-most free row first, then the first.
        let verticals: Vec<&Run> = runs.iter().rev().filter(|(a, b)| a.0 == b.0).collect();
        'outer: for (a, b) in verticals {
            let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
            for y in (y0 + 1..y1).rev() {
                let x = a.0 + 1;
                if canvas.free(x, y, len) {
                    canvas.text(x, y, text.trim_end(), usize::from(len), style);
                    break 'outer;
                }
                if let Some(x) = a.0.checked_sub(len)
                    && canvas.free(x, y, len)
                {
                    canvas.text(x, y, text.trim_start(), usize::from(len), style);
                    break 'outer;
                }
            }
        }
    }
}

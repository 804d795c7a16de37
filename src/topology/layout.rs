//! Where the map's boxes and arrows go: a deterministic, layered (Sugiyama-style)
//! layout of a [`Graph`] into a character grid, drawn as an architecture diagram.
//!
//! Inside each network box: entry points on top, data stores at the bottom, every
//! dependency below its dependents (longest-path layering over `depends_on`,
//! connection and route edges, cycles broken by a depth-first search in a fixed
//! order); edges spanning several layers pass through one-column dummy slots; each
//! layer is ordered by barycenter sweeps to cut crossings; boxes are pulled under
//! their neighbours; edges are routed orthogonally through the channels between
//! layers, one track per overlapping horizontal run. Network boxes are packed into
//! shelves inside the host box; the volumes band goes at the bottom. When the graph
//! holds several engines, each gets its own host box (its shelves and its volumes
//! band inside), and the host boxes are packed the same way inside the map's frame.
//!
//! A layer too wide for the screen sheds the boxes no arrow touches into a grid of
//! aligned columns under the layers, so 300 containers on the default bridge read as
//! rows, not as one row thousands of columns wide. When even compact boxes would need
//! more than two screens, the largest families of them (one compose project, else one
//! numbered name prefix) fold into cluster boxes (`web-* ×300`) that count what runs
//! and what is wrong; Enter opens one.
//!
//! The layout reads only the graph's structure, never live numbers: the stats line has
//! a fixed width, so positions cannot move while CPU and memory change. It owns no
//! drawing (the map pane draws what it says) and knows nothing of ratatui.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::natural::natural_cmp;
use crate::model::sanitize::one_line;

use super::{EdgeKind, End, Graph, Node, Role, VolumeEntry, VolumeKind};

/// A rectangle of cells in the map's own coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Rect {
    pub x: u16,
    pub y: u16,
    pub w: u16,
    pub h: u16,
}

impl Rect {
    pub fn right(&self) -> u16 {
        self.x + self.w
    }

    pub fn bottom(&self) -> u16 {
        self.y + self.h
    }

    pub fn intersects(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }

    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.right() <= self.right()
            && other.bottom() <= self.bottom()
    }

    /// Whether a cell lies on this rectangle's border.
    pub fn on_border(&self, x: u16, y: u16) -> bool {
        let inside_x = x >= self.x && x < self.right();
        let inside_y = y >= self.y && y < self.bottom();
        (inside_x && (y == self.y || y + 1 == self.bottom()))
            || (inside_y && (x == self.x || x + 1 == self.right()))
    }

    pub fn center(&self) -> (i32, i32) {
        (i32::from(self.x) + i32::from(self.w) / 2, i32::from(self.y) + i32::from(self.h) / 2)
    }
}

/// How much each box says. `z` cycles through these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Detail {
    /// The most that fits: full boxes, fewer lines, compact boxes, then collapsed
    /// networks, in that order.
    #[default]
    Auto,
    /// Full boxes always; the map pans when they do not fit.
    Full,
    /// One-line boxes always.
    Compact,
}

impl Detail {
    pub fn next(self) -> Detail {
        match self {
            Detail::Auto => Detail::Compact,
            Detail::Compact => Detail::Full,
            Detail::Full => Detail::Auto,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Detail::Auto => "auto",
            Detail::Full => "full",
            Detail::Compact => "compact",
        }
    }
}

/// One line of a full box, in the order they are given up when room is short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BoxLine {
    /// Health badge or state, and the user.
    Status,
    Image,
    Published,
    /// Live CPU and memory, read at render time into a fixed width.
    Stats,
    /// The other networks of a container drawn in its primary one.
    Networks,
    Exposed,
}

impl BoxLine {
    /// Top-to-bottom order inside the box: the image first, as diagrams name a box.
    fn display_rank(self) -> u8 {
        match self {
            BoxLine::Image => 0,
            BoxLine::Published => 1,
            BoxLine::Exposed => 2,
            BoxLine::Status => 3,
            BoxLine::Stats => 4,
            BoxLine::Networks => 5,
        }
    }
}

/// Room the stats line always takes: `100.0% 1023MiB/15.6GiB`.
pub const STATS_WIDTH: usize = 22;
const MIN_BOX_WIDTH: usize = 14;
const MAX_BOX_WIDTH: usize = 34;
const MAX_COMPACT_WIDTH: usize = 26;

/// `✓ healthy`, `✗ unhealthy`, `… starting`, `– no check`, or the state when the
/// container is not running (`■ exited 137`, `■ OOM killed`, `↻ restarting`).
pub fn health_text(node: &Node) -> String {
    use crate::model::{ContainerState as S, HealthStatus as H};
    if let Some(words) = &node.state_words {
        let glyph = match node.state {
            S::Restarting => "↻",
            S::Paused => "‖",
            S::Created | S::Removing => "○",
            _ => "■",
        };
        return format!("{glyph} {words}");
    }
    match node.health {
        H::Healthy => "✓ healthy".into(),
        H::Unhealthy => "✗ unhealthy".into(),
        H::Starting => "… starting".into(),
        H::None if node.has_healthcheck => "… starting".into(),
        H::None => "– no check".into(),
    }
}

/// `user nestjs`, or `root ⚠` when the process runs as root (an unset user is root).
pub fn user_text(node: &Node) -> String {
    if node.root {
        "root ⚠".to_string()
    } else {
        format!("user {}", node.user.as_deref().unwrap_or("?"))
    }
}

/// `~postgres:16` marks the image a demo stack stands in for.
pub fn image_text(node: &Node) -> String {
    if node.image_is_demo { format!("~{}", node.image) } else { node.image.clone() }
}

pub fn published_text(node: &Node) -> String {
    node.published.join(" ")
}

pub fn exposed_text(node: &Node) -> String {
    format!("port {}", node.exposed.join(" "))
}

pub fn networks_text(node: &Node) -> String {
    format!("+ {}", node.other_networks.join(", "))
}

/// A compact box's one line: state glyph, name, health glyph.
pub fn compact_text(node: &Node) -> String {
    use crate::model::{ContainerState as S, HealthStatus as H};
    let glyph = match node.state {
        S::Running => "●",
        S::Paused => "‖",
        S::Restarting => "↻",
        S::Exited => "■",
        S::Created | S::Removing => "○",
        S::Dead | S::Unknown => "✖",
    };
    let health = match node.health {
        H::Healthy => " ✓",
        H::Unhealthy => " ✗",
        H::Starting => " …",
        H::None => "",
    };
    format!("{glyph} {}{health}", node.name)
}

/// The lines a full box of this node can show, most important first.
pub fn candidate_lines(node: &Node) -> Vec<BoxLine> {
    let mut lines = vec![BoxLine::Status, BoxLine::Image];
    if !node.published.is_empty() {
        lines.push(BoxLine::Published);
    }
    if node.state.is_running() {
        lines.push(BoxLine::Stats);
    }
    if !node.other_networks.is_empty() {
        lines.push(BoxLine::Networks);
    }
    if !node.exposed.is_empty() {
        lines.push(BoxLine::Exposed);
    }
    lines
}

/// The structural text of a line (the stats line is measured, not read).
pub fn line_text(node: &Node, line: BoxLine) -> String {
    match line {
        BoxLine::Status => format!("{} · {}", health_text(node), user_text(node)),
        BoxLine::Image => image_text(node),
        BoxLine::Published => published_text(node),
        BoxLine::Exposed => exposed_text(node),
        BoxLine::Networks => networks_text(node),
        BoxLine::Stats => " ".repeat(STATS_WIDTH),
    }
}

fn width_of(text: &str) -> usize {
    text.chars().count()
}

/// What a box stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Node(usize),
    /// A collapsed group, drawn as one summary box.
    Summary(usize),
    /// Unconnected containers of one project or name prefix, drawn as one box: an
    /// index into [`MapLayout::clusters`].
    Cluster(usize),
}

/// Unconnected containers of a large network drawn as one summary box: `web-* ×300`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterPlan {
    /// Index into [`Graph::groups`].
    pub group: usize,
    /// Stable identity (the network's key and the label): what Enter adds to the
    /// expanded set so the cluster opens, and what the pane's selection remembers.
    pub key: String,
    /// `web-*` for a name prefix, `shop/*` for a compose project.
    pub label: String,
    /// Node indices, in the order the grid would have drawn them.
    pub nodes: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BoxPlan {
    pub target: Target,
    pub rect: Rect,
    /// The lines of a full box, top to bottom; empty for a compact or summary box.
    pub lines: Vec<BoxLine>,
    pub compact: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupPlan {
    pub group: usize,
    pub rect: Rect,
    pub collapsed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EdgePlan {
    /// Index into [`Graph::edges`].
    pub edge: usize,
    /// Orthogonal polyline: the first point is on the source's border (the host's or
    /// the network box's left border for ingress), the last on the target's.
    pub points: Vec<(u16, u16)>,
    /// The edge was reversed to break a cycle: its arrowhead is at the first point.
    pub reversed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VolumesPlan {
    pub rect: Rect,
    /// Indices into [`Graph::volumes`] this band lists: all of them, or one engine's.
    pub entries: Vec<usize>,
    pub columns: u16,
    pub column_width: u16,
    /// How many entries fit; the rest are counted in the last cell.
    pub shown: usize,
}

/// One engine's box, when the graph holds several.
#[derive(Debug, Clone, PartialEq)]
pub struct HostPlan {
    pub host: crate::model::HostId,
    pub rect: Rect,
    pub volumes: Option<VolumesPlan>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MapLayout {
    /// The whole map; larger than the screen when it must pan.
    pub width: u16,
    pub height: u16,
    /// The host box; with several engines, the frame around their boxes.
    pub host: Rect,
    /// One box per engine when the graph holds several; empty otherwise.
    pub hosts: Vec<HostPlan>,
    pub groups: Vec<GroupPlan>,
    pub boxes: Vec<BoxPlan>,
    pub edges: Vec<EdgePlan>,
    pub volumes: Option<VolumesPlan>,
    /// Whether full boxes were used (and with how many lines at most).
    pub full_lines: usize,
    pub compact: bool,
    /// Keys of the groups drawn as summary boxes.
    pub collapsed: Vec<String>,
    /// Containers drawn together as one box inside an open network.
    pub clusters: Vec<ClusterPlan>,
    /// Edges between containers drawn in different network boxes (not drawn: each
    /// box names its other networks instead).
    pub hidden_edges: usize,
    /// Whether the map fits the size it was given without panning.
    pub fits: bool,
    /// Rows the map needs, which may be fewer than the screen has.
    pub needed_h: u16,
}

impl MapLayout {
    pub fn box_of(&self, target: Target) -> Option<&BoxPlan> {
        self.boxes.iter().find(|b| b.target == target)
    }

    /// The cluster box a container is drawn in, if it is in one.
    pub fn cluster_of(&self, node: usize) -> Option<usize> {
        self.clusters.iter().position(|c| c.nodes.contains(&node))
    }
}

/// `web-* ×300`: a cluster box's title.
pub fn cluster_title(cluster: &ClusterPlan) -> String {
    format!("{} ×{}", cluster.label, cluster.nodes.len())
}

/// What a cluster's members are doing, in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClusterCounts {
    pub total: usize,
    pub running: usize,
    pub unhealthy: usize,
}

impl ClusterCounts {
    pub fn of(graph: &Graph, cluster: &ClusterPlan) -> ClusterCounts {
        let mut counts = ClusterCounts { total: cluster.nodes.len(), ..ClusterCounts::default() };
        for node in cluster.nodes.iter().filter_map(|&n| graph.nodes.get(n)) {
            counts.running += usize::from(node.state.is_running());
            counts.unhealthy += usize::from(node.health == crate::model::HealthStatus::Unhealthy);
        }
        counts
    }

    /// Whether anything in it needs a look: the box must say so.
    pub fn has_problems(&self) -> bool {
        self.unhealthy > 0 || self.running < self.total
    }
}

/// A cluster box's two lines: how many run, then what is wrong (or how to open it).
/// A collapsed box never hides a problem: unhealthy and stopped members are counted.
pub fn cluster_lines(counts: &ClusterCounts) -> [String; 2] {
    let running = format!("● {}/{} running", counts.running, counts.total);
    let mut problems: Vec<String> = Vec::new();
    if counts.unhealthy > 0 {
        problems.push(format!("✗ {} unhealthy", counts.unhealthy));
    }
    let down = counts.total - counts.running.min(counts.total);
    if down > 0 {
        problems.push(format!("■ {down} not running"));
    }
    let second =
        if problems.is_empty() { "enter expands".to_string() } else { problems.join(" · ") };
    [running, second]
}

/// `postgres_data → postgres:/var/lib/postgresql/data`, `bind …/backend → backend:/app`.
pub fn volume_text(graph: &Graph, entry: &VolumeEntry) -> String {
    let users: Vec<String> = entry
        .users
        .iter()
        .map(|u| {
            let ro = if u.read_only { " ro" } else { "" };
            let name = graph.nodes.get(u.node).map_or("?", |n| n.name.as_str());
            format!("{name}:{}{ro}", u.destination)
        })
        .collect();
    match entry.kind {
        VolumeKind::Named => format!("◆ {} → {}", entry.name, users.join(", ")),
        VolumeKind::Bind => format!("▫ {} → {}", short_path(&entry.name), users.join(", ")),
    }
}

/// The last two components of a long host path: `…/frontend/src`.
fn short_path(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() <= 2 {
        return path.to_string();
    }
    format!("…/{}", parts[parts.len() - 2..].join("/"))
}

/// The text of a collapsed group's summary box: `12 containers · 2 unhealthy`.
pub fn summary_text(graph: &Graph, group: usize) -> String {
    use crate::model::{ContainerState as S, HealthStatus as H};
    let Some(g) = graph.groups.get(group) else { return String::new() };
    let nodes = g.nodes.iter().filter_map(|&i| graph.nodes.get(i));
    let (mut unhealthy, mut down) = (0, 0);
    for n in nodes {
        if n.health == H::Unhealthy {
            unhealthy += 1;
        }
        if !matches!(n.state, S::Running) {
            down += 1;
        }
    }
    let mut text =
        format!("{} container{}", g.nodes.len(), if g.nodes.len() == 1 { "" } else { "s" });
    if unhealthy > 0 {
        text.push_str(&format!(" · {unhealthy} unhealthy"));
    }
    if down > 0 {
        text.push_str(&format!(" · {down} not running"));
    }
    text.push_str(" · enter expands");
    text
}

/// Spacing of one layout attempt.
#[derive(Debug, Clone, Copy)]
struct Style {
    /// Columns between boxes in a layer.
    hgap: u16,
    /// Columns between a network box's border and its content.
    hpad: u16,
    /// Blank rows under a network box's title.
    top_pad: u16,
    /// Least rows between two layers.
    channel_min: u16,
    /// Most rows of volumes.
    volume_rows: u16,
    /// Lines of a full box at most; 0 for compact boxes.
    lines: usize,
}

const SPACIOUS: Style =
    Style { hgap: 4, hpad: 2, top_pad: 1, channel_min: 3, volume_rows: 8, lines: 6 };
const NORMAL: Style =
    Style { hgap: 3, hpad: 1, top_pad: 1, channel_min: 2, volume_rows: 5, lines: 6 };
const TIGHT: Style =
    Style { hgap: 2, hpad: 1, top_pad: 0, channel_min: 1, volume_rows: 2, lines: 6 };

/// Lays the graph out for a screen of `width`×`height`. `expanded` names groups the
/// operator asked to keep open; they are collapsed last.
pub fn layout(
    graph: &Graph,
    width: u16,
    height: u16,
    detail: Detail,
    expanded: &BTreeSet<String>,
) -> MapLayout {
    let mut attempts: Vec<Style> = Vec::new();
    match detail {
        Detail::Auto => {
            attempts.extend([SPACIOUS, NORMAL, TIGHT]);
            for lines in (2..TIGHT.lines).rev() {
                attempts.push(Style { lines, ..TIGHT });
            }
            attempts.push(Style { lines: 0, ..TIGHT });
        }
        Detail::Full => attempts.extend([SPACIOUS, NORMAL, TIGHT]),
        Detail::Compact => attempts.extend([
            Style { lines: 0, ..SPACIOUS },
            Style { lines: 0, ..NORMAL },
            Style { lines: 0, ..TIGHT },
        ]),
    }
    let prep = Prepared::new(graph, expanded);
    let none = BTreeSet::new();
    let mut last = MapLayout::default();
    for (k, style) in attempts.iter().enumerate() {
        // An attempt whose boxes alone cover more than the screen cannot fit: skip it
        // (the last always runs, as it is the answer when nothing fits).
        if k + 1 < attempts.len() && !prep.may_fit(*style, width, height) {
            continue;
        }
        last = place(graph, width, height, *style, &none, &prep);
        if last.fits {
            return last;
        }
    }
    if detail != Detail::Auto {
        return last;
    }
    // Still too big: collapse networks. When one more collapse makes it fit, take the
    // one that leaves the most containers open; else the largest. Networks the
    // operator opened go last, and one network always stays open: a map of nothing
    // but summaries says too little.
    let style = Style { lines: 0, ..TIGHT };
    let mut collapsed = BTreeSet::new();
    while collapsed.len() + 1 < graph.groups.len() {
        let candidates: Vec<usize> = (0..graph.groups.len())
            .filter(|g| !collapsed.contains(g))
            .filter(|g| !expanded.contains(&graph.groups[*g].key))
            .collect();
        let candidates = if candidates.is_empty() {
            (0..graph.groups.len()).filter(|g| !collapsed.contains(g)).collect()
        } else {
            candidates
        };
        let mut fitting: Option<(usize, MapLayout)> = None;
        for &g in &candidates {
            let mut trial = collapsed.clone();
            trial.insert(g);
            let attempt = place(graph, width, height, style, &trial, &prep);
            let better = fitting.as_ref().is_none_or(|(best, _)| {
                graph.groups[g].nodes.len() < graph.groups[*best].nodes.len()
            });
            if attempt.fits && better {
                fitting = Some((g, attempt));
            }
        }
        if let Some((_, attempt)) = fitting {
            return attempt;
        }
        let Some(&largest) =
            candidates.iter().max_by_key(|&&g| (graph.groups[g].nodes.len(), std::cmp::Reverse(g)))
        else {
            break;
        };
        collapsed.insert(largest);
        last = place(graph, width, height, style, &collapsed, &prep);
    }
    last
}

/// One box or one column an edge passes through.
#[derive(Debug, Clone)]
struct Item {
    /// The node, or None for a dummy slot of a long edge.
    node: Option<usize>,
    layer: usize,
    w: u16,
    h: u16,
    x: i32,
    lines: Vec<BoxLine>,
    /// The cluster box this item is, in [`GroupContent::clusters`].
    cluster: Option<usize>,
    /// False for a container drawn inside a cluster box: it has no box of its own.
    placed: bool,
}

impl Item {
    fn dummy(layer: usize) -> Item {
        Item { node: None, layer, w: 1, h: 1, x: 0, lines: Vec::new(), cluster: None, placed: true }
    }

    /// A box (a container's or a cluster's), not a slot an edge passes through.
    fn is_box(&self) -> bool {
        self.node.is_some() || self.cluster.is_some()
    }
}

/// One hop of an edge between consecutive layers.
#[derive(Debug, Clone)]
struct Hop {
    upper: usize,
    lower: usize,
    chain: usize,
}

/// One drawn edge: the items it passes through, top to bottom.
#[derive(Debug, Clone)]
struct Chain {
    edge: usize,
    items: Vec<usize>,
    reversed: bool,
}

/// A network box's content, in coordinates relative to the content's top-left.
struct GroupContent {
    width: u16,
    height: u16,
    boxes: Vec<BoxPlan>,
    /// Paths; for ingress the first point's x is meaningless: it starts at the left
    /// border of whatever box holds it.
    edges: Vec<(EdgePlan, bool)>,
    hidden: usize,
    /// Cluster boxes, indexed by [`Target::Cluster`] in `boxes`.
    clusters: Vec<ClusterPlan>,
}

/// The room a network's content is laid out for.
#[derive(Debug, Clone, Copy)]
struct Room {
    /// Columns the content may take before its network box outgrows the screen.
    width: u16,
    /// The screen's rows: a grid taller than [`SCREENS_BEFORE_CLUSTERING`] of them
    /// collapses its largest families into cluster boxes.
    height: u16,
}

/// How many screens of unconnected boxes a network may need before its largest
/// families (one compose project, one name prefix) collapse into cluster boxes. Two:
/// one page of scrolling still shows every container; beyond that, a wall of near
/// identical boxes says less than `web-* ×300` with its counts.
const SCREENS_BEFORE_CLUSTERING: u16 = 2;

/// A family needs at least this many members to collapse: a cluster of two saves
/// one box and hides two names.
const MIN_CLUSTER: usize = 3;

fn node_box(node: &Node, style: Style) -> (u16, u16, Vec<BoxLine>) {
    if style.lines == 0 {
        let w = (width_of(&compact_text(node)) + 4).clamp(MIN_BOX_WIDTH - 4, MAX_COMPACT_WIDTH);
        return (w as u16, 3, Vec::new());
    }
    let mut lines: Vec<BoxLine> = candidate_lines(node).into_iter().take(style.lines).collect();
    lines.sort_by_key(|l| l.display_rank());
    let content = lines.iter().map(|l| width_of(&line_text(node, *l))).max().unwrap_or(0);
    let title = width_of(&node.name) + 4;
    // Fewer lines means room is short: narrower boxes too (long images are cut).
    let max = match style.lines {
        0..=2 => MAX_BOX_WIDTH - 12,
        3 => MAX_BOX_WIDTH - 8,
        _ => MAX_BOX_WIDTH,
    };
    let w = (content + 4).max(title).clamp(MIN_BOX_WIDTH, max);
    (w as u16, lines.len() as u16 + 2, lines)
}

/// Breaks cycles: a depth-first search in a fixed order reverses every back edge.
fn acyclic(n: usize, edges: &[(usize, usize)], order: &[usize]) -> Vec<bool> {
    let mut state = vec![0u8; n];
    let mut reversed = vec![false; edges.len()];
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, (a, _)) in edges.iter().enumerate() {
        out[*a].push(i);
    }
    for &start in order {
        if state[start] != 0 {
            continue;
        }
        // Iterative DFS: (node, next out-edge position).
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if let Some(&e) = out[v].get(*next) {
                *next += 1;
                let w = edges[e].1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => reversed[e] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    reversed
}

fn count_crossings(layers: &[Vec<usize>], hops: &[Hop], pos: &[usize], items: &[Item]) -> usize {
    let mut total = 0;
    for l in 0..layers.len().saturating_sub(1) {
        let pairs: Vec<(usize, usize)> = hops
            .iter()
            .filter(|h| items[h.upper].layer == l)
            .map(|h| (pos[h.upper], pos[h.lower]))
            .collect();
        for i in 0..pairs.len() {
            for j in i + 1..pairs.len() {
                let (a, b) = (pairs[i], pairs[j]);
                if (a.0 < b.0 && a.1 > b.1) || (a.0 > b.0 && a.1 < b.1) {
                    total += 1;
                }
            }
        }
    }
    total
}

/// What every attempt of [`layout`] shares, worked out once per layout rather than
/// once per style tried: sorting a thousand names naturally eight times cost more than
/// the rest of the layout.
struct Prepared<'a> {
    /// Networks and clusters the operator opened.
    expanded: &'a BTreeSet<String>,
    /// Per group, its members' local indices by role, then natural name.
    name_orders: Vec<Vec<usize>>,
    /// Per node, the width of its compact box (what the fold estimate counts).
    compact_widths: Vec<u16>,
    /// Boxes the map shows at least, however much folds: one per container with no
    /// family, one per family.
    least_boxes: usize,
}

impl<'a> Prepared<'a> {
    fn new(graph: &Graph, expanded: &'a BTreeSet<String>) -> Prepared<'a> {
        let name_orders = graph
            .groups
            .iter()
            .map(|g| {
                let mut order: Vec<usize> = (0..g.nodes.len()).collect();
                order.sort_by(|&a, &b| {
                    let (na, nb) = (&graph.nodes[g.nodes[a]], &graph.nodes[g.nodes[b]]);
                    na.role
                        .cmp(&nb.role)
                        .then_with(|| natural_cmp(&na.name, &nb.name))
                        .then(a.cmp(&b))
                });
                order
            })
            .collect();
        let compact = Style { lines: 0, ..TIGHT };
        let compact_widths = graph.nodes.iter().map(|n| node_box(n, compact).0).collect();
        let mut families: BTreeSet<(usize, String)> = BTreeSet::new();
        let mut alone = 0;
        for node in &graph.nodes {
            match family_of(node) {
                Some(family) => {
                    families.insert((node.group, family));
                }
                None => alone += 1,
            }
        }
        let least_boxes = alone + families.len();
        Prepared { expanded, name_orders, compact_widths, least_boxes }
    }

    /// False when the smallest boxes this style draws, as few as folding could leave,
    /// already cover more cells than the screen has: a bound, so no attempt that could
    /// fit is skipped. A thousand containers skip seven hopeless full-box attempts.
    fn may_fit(&self, style: Style, width: u16, height: u16) -> bool {
        let (w, h) = if style.lines == 0 {
            (MIN_BOX_WIDTH - 4, 3)
        } else {
            (MIN_BOX_WIDTH, 2 + style.lines.min(2))
        };
        self.least_boxes * w * h <= usize::from(width) * usize::from(height)
    }
}

/// A cell of the grid of unconnected boxes.
enum GridUnit {
    /// A container's local index in its network.
    Node(usize),
    Cluster(ClusterPlan),
}

/// `web-*` for `web-12`, `shop/*` for a container of compose project `shop`: the
/// family a container collapses with. A name that ends in no number has none.
fn family_of(node: &Node) -> Option<String> {
    if let Some(project) = &node.project {
        return Some(format!("{}/*", one_line(project)));
    }
    let name = one_line(&node.container).into_owned();
    let prefix = name.trim_end_matches(|c: char| c.is_ascii_digit());
    (prefix.len() < name.len() && !prefix.is_empty()).then(|| format!("{prefix}*"))
}

/// A cluster box's size: its title on the border, [`cluster_lines`] inside.
fn cluster_box(plan: &ClusterPlan) -> (u16, u16) {
    // The widest second line a cluster can have, so the counts never move the box.
    let counts = ClusterCounts { total: plan.nodes.len(), running: 0, unhealthy: plan.nodes.len() };
    let lines = cluster_lines(&counts);
    let content = lines.iter().map(|l| width_of(l)).max().unwrap_or(0) + 4;
    let title = width_of(&cluster_title(plan)) + 4;
    // Wider than a container's box may be: cutting the counts would hide a problem.
    (content.max(title).clamp(MIN_BOX_WIDTH, MAX_BOX_WIDTH + 8) as u16, 4)
}

/// The grid's cells, in name order: one per unconnected container, unless even
/// compact boxes would need more than [`SCREENS_BEFORE_CLUSTERING`] screens; then the
/// largest families collapse, one at a time, until the rest fits that (or none is
/// left). Families the operator expanded stay open. The estimate uses compact boxes
/// whatever the style, so every attempt of [`layout`] collapses the same families.
fn grid_units(
    graph: &Graph,
    group: usize,
    loose: &[usize],
    room: Room,
    prep: &Prepared<'_>,
) -> Vec<GridUnit> {
    let members = &graph.groups[group].nodes;
    let compact = Style { lines: 0, ..TIGHT };
    let widths: Vec<u32> =
        loose.iter().map(|&v| u32::from(prep.compact_widths[members[v]] + compact.hgap)).collect();
    // Rows of packed boxes, a lower bound that is cheap to update as families fold.
    let row_h = 3 + u32::from(compact.channel_min);
    let rows = |total: u32| total.div_ceil(u32::from(room.width + compact.hgap)).max(1);
    let budget = u32::from(room.height) * u32::from(SCREENS_BEFORE_CLUSTERING);
    let mut total: u32 = widths.iter().sum();
    let mut families: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    if rows(total) * row_h > budget {
        for (k, &v) in loose.iter().enumerate() {
            if let Some(label) = family_of(&graph.nodes[members[v]]) {
                families.entry(label).or_default().push(k);
            }
        }
    }
    let key = |label: &str| format!("{}/{label}", graph.groups[group].key);
    let mut candidates: Vec<(String, Vec<usize>)> = families
        .into_iter()
        .filter(|(label, ks)| ks.len() >= MIN_CLUSTER && !prep.expanded.contains(&key(label)))
        .collect();
    candidates.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| natural_cmp(&a.0, &b.0)));
    let mut owner: Vec<Option<usize>> = vec![None; loose.len()];
    let mut chosen: Vec<ClusterPlan> = Vec::new();
    for (label, ks) in candidates {
        if rows(total) * row_h <= budget {
            break;
        }
        let plan = ClusterPlan {
            group,
            key: key(&label),
            label,
            nodes: ks.iter().map(|&k| members[loose[k]]).collect(),
        };
        let folded: u32 = ks.iter().map(|&k| widths[k]).sum();
        total = total - folded + u32::from(cluster_box(&plan).0 + compact.hgap);
        for &k in &ks {
            owner[k] = Some(chosen.len());
        }
        chosen.push(plan);
    }
    // A cluster takes the place of its first member.
    let mut chosen: Vec<Option<ClusterPlan>> = chosen.into_iter().map(Some).collect();
    let mut units = Vec::with_capacity(loose.len());
    for (k, &v) in loose.iter().enumerate() {
        match owner[k] {
            None => units.push(GridUnit::Node(v)),
            Some(c) => {
                if let Some(plan) = chosen[c].take() {
                    units.push(GridUnit::Cluster(plan));
                }
            }
        }
    }
    units
}

/// Column widths of a grid of boxes `widths` wide, filled row by row: as many columns
/// as fit in `room` with `gap` between them (one, at least).
fn grid_columns(widths: &[u16], room: u16, gap: u16) -> Vec<u16> {
    let narrowest = widths.iter().copied().min().unwrap_or(1).max(1);
    let most = usize::from((room + gap) / (narrowest + gap)).clamp(1, widths.len().max(1));
    for count in (1..=most).rev() {
        let mut columns = vec![0u16; count];
        for (i, &w) in widths.iter().enumerate() {
            columns[i % count] = columns[i % count].max(w);
        }
        if count == 1 || natural_width_gap(&columns, gap) <= room {
            return columns;
        }
    }
    vec![widths.iter().copied().max().unwrap_or(1)]
}

/// Packs boxes of `widths` into rows at most `room` wide, `gap` apart, in order.
fn shelves_of_gap(widths: &[u16], room: u16, gap: u16) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut used = 0u16;
    for (i, &w) in widths.iter().enumerate() {
        match rows.last_mut() {
            Some(row) if used + gap + w <= room => {
                row.push(i);
                used += gap + w;
            }
            _ => {
                rows.push(vec![i]);
                used = w;
            }
        }
    }
    rows
}

/// The width of boxes side by side, `gap` apart.
fn natural_width_gap(widths: &[u16], gap: u16) -> u16 {
    widths.iter().sum::<u16>() + gap * (widths.len() as u16).saturating_sub(1)
}

fn layout_group(
    graph: &Graph,
    group: usize,
    style: Style,
    room: Room,
    prep: &Prepared<'_>,
) -> GroupContent {
    let members = &graph.groups[group].nodes;
    let local: BTreeMap<usize, usize> = members.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let n = members.len();
    // Edges inside this network that order layers: dependent above dependency.
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut pair_edges: Vec<usize> = Vec::new();
    let mut hidden = 0;
    for (e, edge) in graph.edges.iter().enumerate() {
        let End::Node(from) = edge.from else { continue };
        match (local.get(&from), local.get(&edge.to)) {
            // One line per pair: the first edge (by kind) carries the others' labels.
            (Some(&a), Some(&b)) if a != b && pairs.contains(&(a, b)) => {}
            (Some(&a), Some(&b)) if a != b => {
                pairs.push((a, b));
                pair_edges.push(e);
            }
            (Some(_), None) => hidden += 1,
            _ => {}
        }
    }
    let name_order: &[usize] = &prep.name_orders[group];
    let reversed = acyclic(n, &pairs, name_order);
    let dag: Vec<(usize, usize)> =
        pairs.iter().zip(&reversed).map(|(&(a, b), &r)| if r { (b, a) } else { (a, b) }).collect();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in &dag {
        if !succs[a].contains(&b) {
            succs[a].push(b);
            preds[b].push(a);
        }
    }
    // Longest path from the top, in a topological order that follows the name order.
    let mut rank = vec![0usize; n];
    for (r, &v) in name_order.iter().enumerate() {
        rank[v] = r;
    }
    let mut indegree: Vec<usize> = preds.iter().map(Vec::len).collect();
    let mut topo = Vec::with_capacity(n);
    let mut ready: BTreeSet<(usize, usize)> =
        (0..n).filter(|&v| indegree[v] == 0).map(|v| (rank[v], v)).collect();
    while let Some((_, v)) = ready.pop_first() {
        topo.push(v);
        for &w in &succs[v] {
            indegree[w] -= 1;
            if indegree[w] == 0 {
                ready.insert((rank[w], w));
            }
        }
    }
    let mut layer = vec![0usize; n];
    for &v in &topo {
        for &w in &succs[v] {
            layer[w] = layer[w].max(layer[v] + 1);
        }
    }
    let role = |v: usize| graph.nodes[members[v]].role;
    let mut max_layer = layer.iter().copied().max().unwrap_or(0);
    let has_non_data = (0..n).any(|v| role(v) != Role::Data);
    if has_non_data && (0..n).any(|v| role(v) == Role::Data && succs[v].is_empty()) {
        max_layer = max_layer.max(1);
    }
    // Data stores nothing depends on further sink to the bottom row.
    for v in 0..n {
        if role(v) == Role::Data && succs[v].is_empty() {
            layer[v] = max_layer;
        }
    }
    // Sources that are not entry points sit just above what they use, not on top.
    for &v in topo.iter().rev() {
        if preds[v].is_empty() && role(v) != Role::Entry && !succs[v].is_empty() {
            let lowest = succs[v].iter().map(|&w| layer[w]).min().unwrap_or(1);
            layer[v] = layer[v].max(lowest.saturating_sub(1));
        }
    }
    let mut items: Vec<Item> = (0..n)
        .map(|v| {
            let (w, h, lines) = node_box(&graph.nodes[members[v]], style);
            let (node, placed) = (Some(members[v]), true);
            Item { node, layer: layer[v], w, h, x: 0, lines, cluster: None, placed }
        })
        .collect();
    // A layer wider than the room would make a map one row and thousands of columns
    // wide (300 containers on the default bridge): the boxes of such a layer that no
    // arrow touches leave it and fill a grid below the layers. Chains keep their
    // layers, and a layer that fits keeps its boxes: moving them would cost rows and
    // win no columns.
    let mut layer_widths: BTreeMap<usize, u32> = BTreeMap::new();
    for v in 0..n {
        *layer_widths.entry(layer[v]).or_default() += u32::from(items[v].w + style.hgap);
    }
    let too_wide = |l: usize| {
        layer_widths
            .get(&l)
            .is_some_and(|&w| w.saturating_sub(u32::from(style.hgap)) > u32::from(room.width))
    };
    let loose: Vec<usize> = name_order
        .iter()
        .copied()
        .filter(|&v| preds[v].is_empty() && succs[v].is_empty() && too_wide(layer[v]))
        .collect();
    let mut in_grid = vec![false; n];
    for &v in &loose {
        in_grid[v] = true;
    }
    let layers_count = if loose.is_empty() {
        layer.iter().copied().max().unwrap_or(0) + 1
    } else {
        // The layers left, renumbered without the gaps the grid's boxes leave.
        let used: BTreeSet<usize> = (0..n).filter(|&v| !in_grid[v]).map(|v| layer[v]).collect();
        let renumbered: BTreeMap<usize, usize> =
            used.iter().enumerate().map(|(i, &l)| (l, i)).collect();
        for v in 0..n {
            layer[v] = if in_grid[v] { 0 } else { renumbered[&layer[v]] };
            items[v].layer = layer[v];
        }
        used.len()
    };
    let mut chains: Vec<Chain> = Vec::new();
    let mut hops: Vec<Hop> = Vec::new();
    for (i, &(a, b)) in dag.iter().enumerate() {
        let mut chain = vec![a];
        for l in layer[a] + 1..layer[b] {
            items.push(Item::dummy(l));
            chain.push(items.len() - 1);
        }
        chain.push(b);
        for pair in chain.windows(2) {
            hops.push(Hop { upper: pair[0], lower: pair[1], chain: chains.len() });
        }
        chains.push(Chain { edge: pair_edges[i], items: chain, reversed: reversed[i] });
    }
    // Order within layers: by role and name, then barycenter sweeps.
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); layers_count];
    for &v in name_order.iter().filter(|&&v| !in_grid[v]) {
        layers[layer[v]].push(v);
    }
    for (i, item) in items.iter().enumerate().skip(n) {
        layers[item.layer].push(i);
    }
    let mut pos = vec![0usize; items.len()];
    let reindex = |layers: &[Vec<usize>], pos: &mut Vec<usize>| {
        for l in layers {
            for (p, &i) in l.iter().enumerate() {
                pos[i] = p;
            }
        }
    };
    reindex(&layers, &mut pos);
    let mut best = (count_crossings(&layers, &hops, &pos, &items), layers.clone());
    for _ in 0..4 {
        for down in [true, false] {
            let range: Vec<usize> = if down {
                (1..layers_count).collect()
            } else {
                (0..layers_count.saturating_sub(1)).rev().collect()
            };
            for l in range {
                let mut keyed: Vec<(f64, usize, usize)> = layers[l]
                    .iter()
                    .map(|&i| {
                        let neighbours: Vec<usize> = hops
                            .iter()
                            .filter_map(|h| {
                                if down && h.lower == i {
                                    Some(pos[h.upper])
                                } else if !down && h.upper == i {
                                    Some(pos[h.lower])
                                } else {
                                    None
                                }
                            })
                            .collect();
                        let key = if neighbours.is_empty() {
                            pos[i] as f64
                        } else {
                            neighbours.iter().sum::<usize>() as f64 / neighbours.len() as f64
                        };
                        (key, pos[i], i)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                layers[l] = keyed.into_iter().map(|k| k.2).collect();
                reindex(&layers, &mut pos);
            }
            let crossings = count_crossings(&layers, &hops, &pos, &items);
            if crossings < best.0 {
                best = (crossings, layers.clone());
            }
        }
    }
    layers = best.1;
    reindex(&layers, &mut pos);
    // Columns: pack each layer, centre it, then pull boxes under their neighbours.
    let gap = |a: &Item, b: &Item| if !a.is_box() || !b.is_box() { 1 } else { style.hgap };
    let layer_width = |l: &[usize], items: &[Item]| -> i32 {
        let mut w = 0i32;
        for (k, &i) in l.iter().enumerate() {
            if k > 0 {
                w += i32::from(gap(&items[l[k - 1]], &items[i]));
            }
            w += i32::from(items[i].w);
        }
        w
    };
    let mut width = layers.iter().map(|l| layer_width(l, &items)).max().unwrap_or(0).max(1);
    for l in &layers {
        let mut x = (width - layer_width(l, &items)) / 2;
        for (k, &i) in l.iter().enumerate() {
            if k > 0 {
                x += i32::from(gap(&items[l[k - 1]], &items[i]));
            }
            items[i].x = x;
            x += i32::from(items[i].w);
        }
    }
    let center = |it: &Item| it.x * 2 + i32::from(it.w);
    for round in 0..6 {
        let down = round % 2 == 0;
        let order: Vec<usize> =
            if down { (0..layers_count).collect() } else { (0..layers_count).rev().collect() };
        for l in order {
            let row = layers[l].clone();
            let desired: Vec<i32> = row
                .iter()
                .map(|&i| {
                    // Down sweeps align under the layer above, up sweeps over the one
                    // below; a box with no neighbour that way uses the other.
                    let above: Vec<usize> =
                        hops.iter().filter(|h| h.lower == i).map(|h| h.upper).collect();
                    let below: Vec<usize> =
                        hops.iter().filter(|h| h.upper == i).map(|h| h.lower).collect();
                    let (first, second) = if down { (&above, &below) } else { (&below, &above) };
                    let neighbours = if first.is_empty() { second } else { first };
                    if neighbours.is_empty() {
                        return items[i].x;
                    }
                    let sum: i32 = neighbours.iter().map(|&o| center(&items[o])).sum();
                    (sum / neighbours.len() as i32 - i32::from(items[i].w)) / 2
                })
                .collect();
            // Keep the order and the gaps: forward, then back from the right edge.
            let mut xs = desired.clone();
            for k in 0..row.len() {
                let min = if k == 0 {
                    0
                } else {
                    xs[k - 1]
                        + i32::from(items[row[k - 1]].w)
                        + i32::from(gap(&items[row[k - 1]], &items[row[k]]))
                };
                xs[k] = xs[k].max(min);
            }
            for k in (0..row.len()).rev() {
                let max = if k + 1 == row.len() {
                    width - i32::from(items[row[k]].w)
                } else {
                    xs[k + 1]
                        - i32::from(gap(&items[row[k]], &items[row[k + 1]]))
                        - i32::from(items[row[k]].w)
                };
                xs[k] = xs[k].min(max);
            }
            for (k, &i) in row.iter().enumerate() {
                items[i].x = xs[k];
            }
        }
    }
    // The grid under the layers: unconnected boxes, and cluster boxes standing for
    // the largest families of them, in aligned columns that fit the room.
    let mut clusters: Vec<ClusterPlan> = Vec::new();
    let mut layers_count = layers_count;
    if !loose.is_empty() {
        // Cluster boxes first, in rows of their own: wide boxes in a column of small
        // ones would widen the whole column.
        let (mut summaries, mut cells): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
        for unit in grid_units(graph, group, &loose, room, prep) {
            match unit {
                GridUnit::Node(v) => cells.push(v),
                GridUnit::Cluster(plan) => {
                    for &node in &plan.nodes {
                        items[local[&node]].placed = false;
                    }
                    let (w, h) = cluster_box(&plan);
                    let cluster = Some(clusters.len());
                    clusters.push(plan);
                    items.push(Item { w, h, cluster, ..Item::dummy(0) });
                    summaries.push(items.len() - 1);
                }
            }
        }
        let summary_widths: Vec<u16> = summaries.iter().map(|&i| items[i].w).collect();
        let summary_rows: Vec<Vec<usize>> = shelves_of_gap(&summary_widths, room.width, style.hgap)
            .into_iter()
            .map(|row| row.into_iter().map(|k| summaries[k]).collect())
            .collect();
        let widths: Vec<u16> = cells.iter().map(|&i| items[i].w).collect();
        let columns = grid_columns(&widths, room.width, style.hgap);
        let rows: Vec<Vec<usize>> = if cells.is_empty() {
            Vec::new()
        } else {
            cells.chunks(columns.len()).map(<[usize]>::to_vec).collect()
        };
        let summaries_w = summary_rows
            .iter()
            .map(|row| {
                natural_width_gap(&row.iter().map(|&i| items[i].w).collect::<Vec<_>>(), style.hgap)
            })
            .max()
            .unwrap_or(0);
        let grid_w = i32::from(natural_width_gap(&columns, style.hgap).max(summaries_w));
        if grid_w > width {
            // The layers above stay centred over the wider grid.
            let shift = (grid_w - width) / 2;
            for item in items.iter_mut() {
                item.x += shift;
            }
            width = grid_w;
        }
        let left = (width - grid_w) / 2;
        for row in &summary_rows {
            let mut x = left;
            for &i in row {
                items[i].layer = layers_count;
                items[i].x = x;
                x += i32::from(items[i].w + style.hgap);
            }
            layers.push(row.clone());
            layers_count += 1;
        }
        for row in rows {
            let mut x = left;
            for (&i, &column) in row.iter().zip(&columns) {
                items[i].layer = layers_count;
                items[i].x = x;
                x += i32::from(column + style.hgap);
            }
            layers.push(row);
            layers_count += 1;
        }
    }
    // Ports: where each hop leaves its upper item and enters its lower one.
    let mut out_port: Vec<i32> = vec![0; hops.len()];
    let mut in_port: Vec<i32> = vec![0; hops.len()];
    let ingress: Vec<(usize, usize)> = graph
        .edges
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == EdgeKind::Ingress)
        .filter_map(|(i, e)| local.get(&e.to).map(|&v| (i, v)))
        // A container inside a cluster box has no box of its own to arrive at.
        .filter(|&(_, v)| items[v].placed)
        .collect();
    let mut ingress_port: BTreeMap<usize, i32> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let mut outs: Vec<usize> = (0..hops.len()).filter(|&h| hops[h].upper == i).collect();
        outs.sort_by_key(|&h| (center(&items[hops[h].lower]), h));
        for (k, &h) in outs.iter().enumerate() {
            out_port[h] = if item.node.is_none() {
                item.x
            } else {
                item.x + 1 + ((k as i32 + 1) * (i32::from(item.w) - 2)) / (outs.len() as i32 + 1)
            };
        }
    }
    // Columns where a line leaves an upper box, per channel: an arrow arriving in the
    // same column would merge with it, so arrivals step aside.
    let mut leaving: Vec<BTreeSet<i32>> = vec![BTreeSet::new(); layers_count];
    for (h, hop) in hops.iter().enumerate() {
        leaving[items[hop.lower].layer].insert(out_port[h]);
    }
    for (i, item) in items.iter().enumerate() {
        if item.node.is_none() {
            for h in (0..hops.len()).filter(|&h| hops[h].lower == i) {
                in_port[h] = item.x;
            }
            continue;
        }
        // Arrows come in right of a full box's title, so the title stays whole.
        let title = match item.node {
            Some(node) if style.lines > 0 => width_of(&graph.nodes[node].name) as i32 + 3,
            _ => 0,
        };
        let mut ins: Vec<usize> = (0..hops.len()).filter(|&h| hops[h].lower == i).collect();
        ins.sort_by_key(|&h| (center(&items[hops[h].upper]), h));
        let ingress_here: Vec<usize> =
            ingress.iter().filter(|(_, v)| *v == i).map(|(e, _)| *e).collect();
        let count = ins.len() + ingress_here.len();
        let (lo, hi) = (item.x + 1, item.x + i32::from(item.w) - 2);
        let start = title.min(i32::from(item.w) - 2 - count as i32).max(0);
        let inner = i32::from(item.w) - 2 - start;
        let mut used: BTreeSet<i32> = BTreeSet::new();
        let mut port = |k: usize| -> i32 {
            let ideal = lo + start + ((k as i32 + 1) * inner) / (count as i32 + 1);
            let clash = |x: i32| leaving[item.layer].contains(&x) || used.contains(&x);
            let chosen = (0..i32::from(item.w))
                .flat_map(|d| [ideal + d, ideal - d])
                .find(|&x| x >= lo && x <= hi && !clash(x))
                .unwrap_or(ideal);
            used.insert(chosen);
            chosen
        };
        // Ingress arrives from the left: give it the leftmost ports.
        for (k, &e) in ingress_here.iter().enumerate() {
            ingress_port.insert(e, port(k));
        }
        for (k, &h) in ins.iter().enumerate() {
            in_port[h] = port(k + ingress_here.len());
        }
    }
    // Channels: channel l lies above layer l; each horizontal run gets a track.
    let mut channel_runs: Vec<Vec<(i32, i32, Run)>> = vec![Vec::new(); layers_count];
    for (h, hop) in hops.iter().enumerate() {
        let l = items[hop.lower].layer;
        if out_port[h] != in_port[h] {
            let (a, b) = (out_port[h].min(in_port[h]), out_port[h].max(in_port[h]));
            channel_runs[l].push((a, b, Run::Hop(h)));
        }
    }
    for &(e, v) in &ingress {
        let port = ingress_port.get(&e).copied().unwrap_or(items[v].x);
        channel_runs[items[v].layer].push((-i32::from(style.hpad) - 1, port, Run::Ingress(e)));
    }
    let mut track_of: BTreeMap<Run, u16> = BTreeMap::new();
    let mut channel_tracks: Vec<u16> = vec![0; layers_count];
    for (l, runs) in channel_runs.iter_mut().enumerate() {
        runs.sort();
        let mut ends: Vec<i32> = Vec::new();
        for &(a, b, run) in runs.iter() {
            let track = match ends.iter().position(|&end| end + 1 < a) {
                Some(t) => {
                    ends[t] = b;
                    t
                }
                None => {
                    ends.push(b);
                    ends.len() - 1
                }
            };
            track_of.insert(run, track as u16);
        }
        channel_tracks[l] = ends.len() as u16;
    }
    // Rows.
    let mut layer_y = vec![0u16; layers_count];
    let mut layer_h = vec![1u16; layers_count];
    for item in &items {
        if item.is_box() && item.placed {
            layer_h[item.layer] = layer_h[item.layer].max(item.h);
        }
    }
    let mut channel_y = vec![0u16; layers_count];
    let mut y = 0u16;
    for l in 0..layers_count {
        channel_y[l] = y;
        let room = if l == 0 {
            channel_tracks[0] + style.top_pad
        } else {
            channel_tracks[l].max(style.channel_min)
        };
        y += room;
        layer_y[l] = y;
        y += layer_h[l];
    }
    let height = y + style.top_pad;
    let track_row = |l: usize, run: Run| channel_y[l] + track_of.get(&run).copied().unwrap_or(0);
    let mut boxes = Vec::new();
    for item in items.iter().filter(|item| item.placed) {
        if let Some(cluster) = item.cluster {
            boxes.push(BoxPlan {
                target: Target::Cluster(cluster),
                rect: Rect { x: item.x as u16, y: layer_y[item.layer], w: item.w, h: item.h },
                lines: Vec::new(),
                compact: true,
            });
        }
        if let Some(node) = item.node {
            boxes.push(BoxPlan {
                target: Target::Node(node),
                rect: Rect { x: item.x as u16, y: layer_y[item.layer], w: item.w, h: item.h },
                lines: item.lines.clone(),
                compact: style.lines == 0,
            });
        }
    }
    let mut edges = Vec::new();
    for (c, chain) in chains.iter().enumerate() {
        let first = chain.items[0];
        let mut points: Vec<(i32, i32)> = Vec::new();
        let chain_hops: Vec<usize> = (0..hops.len()).filter(|&h| hops[h].chain == c).collect();
        let Some(&h0) = chain_hops.first() else { continue };
        points.push((out_port[h0], i32::from(layer_y[items[first].layer] + items[first].h - 1)));
        for &h in &chain_hops {
            let l = items[hops[h].lower].layer;
            if out_port[h] != in_port[h] {
                let t = i32::from(track_row(l, Run::Hop(h)));
                points.push((out_port[h], t));
                points.push((in_port[h], t));
            }
            let lower = &items[hops[h].lower];
            let top = i32::from(layer_y[l]);
            if lower.node.is_some() {
                points.push((in_port[h], top));
            }
        }
        edges.push((
            EdgePlan { edge: chain.edge, points: simplify(points), reversed: chain.reversed },
            false,
        ));
    }
    for &(e, v) in &ingress {
        let port = ingress_port.get(&e).copied().unwrap_or(items[v].x);
        let l = items[v].layer;
        let t = i32::from(track_row(l, Run::Ingress(e)));
        let points = vec![(0, t), (port, t), (port, i32::from(layer_y[l]))];
        edges.push((EdgePlan { edge: e, points: simplify(points), reversed: false }, true));
    }
    GroupContent { width: width as u16, height, boxes, edges, hidden, clusters }
}

/// What a horizontal run in a channel belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Run {
    Ingress(usize),
    Hop(usize),
}

/// Drops repeated and collinear points; converts to cells (negative x only for an
/// ingress start, fixed by the caller).
/// Records what the drawing needs against what the screen has; the frame is the larger.
fn framed(
    mut layout: MapLayout,
    (needed_w, needed_h): (u16, u16),
    (width, height): (u16, u16),
) -> MapLayout {
    layout.needed_h = needed_h;
    layout.fits = needed_w <= width && needed_h <= height;
    layout.width = needed_w.max(width);
    layout.height = needed_h.max(height);
    layout.host = Rect { x: 0, y: 0, w: layout.width, h: layout.height };
    layout
}

fn simplify(points: Vec<(i32, i32)>) -> Vec<(u16, u16)> {
    let mut out: Vec<(i32, i32)> = Vec::new();
    for p in points {
        if out.last() == Some(&p) {
            continue;
        }
        if out.len() >= 2 {
            let (a, b) = (out[out.len() - 2], out[out.len() - 1]);
            if (a.0 == b.0 && b.0 == p.0) || (a.1 == b.1 && b.1 == p.1) {
                out.pop();
            }
        }
        out.push(p);
    }
    out.into_iter().map(|(x, y)| (x.max(0) as u16, y.max(0) as u16)).collect()
}

/// A network box's size, and its content unless it is collapsed.
struct Sized {
    group: usize,
    w: u16,
    h: u16,
    content: Option<GroupContent>,
}

fn size_groups(
    graph: &Graph,
    style: Style,
    collapsed: &BTreeSet<usize>,
    room: Room,
    prep: &Prepared<'_>,
) -> Vec<Sized> {
    let mut sized: Vec<Sized> = Vec::new();
    for g in 0..graph.groups.len() {
        // A long network title is cut rather than widening a narrow network.
        let title = (width_of(&graph.groups[g].title()) as u16 + 6).min(40);
        if collapsed.contains(&g) {
            let text = width_of(&summary_text(graph, g)) as u16 + 4;
            sized.push(Sized { group: g, w: title.max(text).min(60), h: 3, content: None });
            continue;
        }
        let content = layout_group(graph, g, style, room, prep);
        let w = (content.width + 2 + 2 * style.hpad).max(title.min(60));
        let h = content.height + 2;
        sized.push(Sized { group: g, w, h, content: Some(content) });
    }
    sized
}

/// Packs boxes of the given widths into shelves `shelf_w` wide, left to right and top
/// to bottom, two columns apart. Returns positions in `widths`.
fn shelves_of(widths: &[u16], shelf_w: u16) -> Vec<Vec<usize>> {
    let mut shelves: Vec<Vec<usize>> = Vec::new();
    let mut used = 0u16;
    for (i, &w) in widths.iter().enumerate() {
        match shelves.last_mut() {
            Some(shelf) if used + 2 + w <= shelf_w => {
                shelf.push(i);
                used += 2 + w;
            }
            _ => {
                shelves.push(vec![i]);
                used = w;
            }
        }
    }
    shelves
}

/// The width of a shelf of boxes two columns apart.
fn natural_width(widths: impl Iterator<Item = u16>) -> u16 {
    let (mut total, mut count) = (0u16, 0u16);
    for w in widths {
        total += w;
        count += 1;
    }
    total + 2 * count.saturating_sub(1)
}

/// Spare width spread over a row's boxes, the remainder to the last.
fn share(extra: u16, count: usize, k: usize) -> u16 {
    let count = count.max(1) as u16;
    extra / count + if k + 1 == usize::from(count) { extra % count } else { 0 }
}

/// Places shelves of network boxes (`members` index `sized`) from `(x0, y)`, each shelf
/// spread over `shelf_w`. Ingress into the first box of a shelf starts at `host_x`, the
/// host box's left border. Returns the row below the last shelf's gap.
#[allow(clippy::too_many_arguments)]
fn place_shelves(
    layout: &mut MapLayout,
    graph: &Graph,
    sized: &[Sized],
    members: &[usize],
    x0: u16,
    mut y: u16,
    shelf_w: u16,
    host_x: u16,
) -> u16 {
    let widths: Vec<u16> = members.iter().map(|&i| sized[i].w).collect();
    for shelf in shelves_of(&widths, shelf_w) {
        let shelf: Vec<usize> = shelf.into_iter().map(|k| members[k]).collect();
        let natural = natural_width(shelf.iter().map(|&i| sized[i].w));
        let extra = shelf_w.saturating_sub(natural);
        let shelf_h = shelf.iter().map(|&i| sized[i].h).max().unwrap_or(0);
        let mut x = x0;
        for (k, &i) in shelf.iter().enumerate() {
            let s = &sized[i];
            let rect = Rect { x, y, w: s.w + share(extra, shelf.len(), k), h: shelf_h };
            layout.groups.push(GroupPlan { group: s.group, rect, collapsed: s.content.is_none() });
            match &s.content {
                None => {
                    layout.collapsed.push(graph.groups[s.group].key.clone());
                    layout.boxes.push(BoxPlan {
                        target: Target::Summary(s.group),
                        rect,
                        lines: Vec::new(),
                        compact: true,
                    });
                }
                Some(content) => {
                    let ox = x + 1 + (rect.w - 2 - content.width) / 2;
                    let oy = y + 1;
                    let first_cluster = layout.clusters.len();
                    layout.clusters.extend(content.clusters.iter().cloned());
                    for b in &content.boxes {
                        let mut b = b.clone();
                        b.rect.x += ox;
                        b.rect.y += oy;
                        if let Target::Cluster(c) = &mut b.target {
                            *c += first_cluster;
                        }
                        layout.boxes.push(b);
                    }
                    for (edge, is_ingress) in &content.edges {
                        let mut edge = edge.clone();
                        for p in edge.points.iter_mut() {
                            p.0 += ox;
                            p.1 += oy;
                        }
                        if *is_ingress && let Some(first) = edge.points.first_mut() {
                            // From the host's edge when nothing stands between.
                            first.0 = if k == 0 { host_x } else { x };
                        }
                        layout.edges.push(edge);
                    }
                    layout.hidden_edges += content.hidden;
                }
            }
            x += rect.w + 2;
        }
        y += shelf_h + 1;
    }
    y
}

/// The volumes band listing `entries`, `inner` wide at `(x, y)`, at most `max_rows`
/// rows of them, their text at most `room` wide.
fn volumes_band(
    graph: &Graph,
    entries: Vec<usize>,
    (x, y): (u16, u16),
    inner: u16,
    room: u16,
    max_rows: u16,
) -> VolumesPlan {
    let texts: Vec<String> =
        entries.iter().map(|&v| volume_text(graph, &graph.volumes[v])).collect();
    let longest = texts.iter().map(|t| width_of(t)).max().unwrap_or(0) as u16;
    let column_width = longest.min(room).max(1);
    let columns = ((room + 3) / (column_width + 3)).max(1);
    let rows_needed = (texts.len() as u16).div_ceil(columns);
    let rows = rows_needed.min(max_rows).max(1);
    let shown = (usize::from(rows) * usize::from(columns)).min(texts.len());
    let rect = Rect { x, y, w: inner, h: rows + 2 };
    VolumesPlan { rect, entries, columns, column_width, shown }
}

fn place(
    graph: &Graph,
    width: u16,
    height: u16,
    style: Style,
    collapsed: &BTreeSet<usize>,
    prep: &Prepared<'_>,
) -> MapLayout {
    // What a network box may hold and still fit the screen: the host box's inside
    // (and, with several engines, an engine box's), less the network's border and pad.
    let inner_w = width.saturating_sub(4).max(20);
    let shelf = if graph.hosts.is_empty() { inner_w } else { inner_w.saturating_sub(4).max(16) };
    let room =
        Room { width: shelf.saturating_sub(2 + 2 * style.hpad).max(MIN_BOX_WIDTH as u16), height };
    let sized = size_groups(graph, style, collapsed, room, prep);
    if !graph.hosts.is_empty() {
        return place_hosts(graph, width, height, style, &sized);
    }
    let inner_w = width.saturating_sub(4).max(20);
    let widest = sized.iter().map(|s| s.w).max().unwrap_or(0);
    let shelf_w = inner_w.max(widest);
    let mut layout =
        MapLayout { full_lines: style.lines, compact: style.lines == 0, ..MapLayout::default() };
    let all: Vec<usize> = (0..sized.len()).collect();
    let mut y = place_shelves(&mut layout, graph, &sized, &all, 2, 1 + style.top_pad, shelf_w, 0);
    // Volumes band.
    let host_inner = shelf_w;
    if !graph.volumes.is_empty() {
        // Rows the screen has left over go to the volumes before any are hidden.
        let spare = height.saturating_sub(y + 3);
        let entries = (0..graph.volumes.len()).collect();
        // The band is as wide as the shelves and its text may reach its right border:
        // kept so, as every single-engine map has been drawn that way.
        let room = host_inner.saturating_sub(2);
        let band =
            volumes_band(graph, entries, (2, y), host_inner, room, style.volume_rows.max(spare));
        y += band.rect.h;
        layout.volumes = Some(band);
    }
    let needed_h = y + 1;
    let needed_w = shelf_w + 4;
    framed(layout, (needed_w, needed_h), (width, height))
}

/// Room a host box keeps for its title beside the name: hostname, version and state.
const HOST_TITLE_ROOM: u16 = 32;

/// Several engines: a frame holding one box per engine, packed into rows as networks
/// are packed into shelves, each with its own networks and volumes band inside. An
/// engine with nothing to show still gets a box one line tall.
fn place_hosts(graph: &Graph, width: u16, height: u16, style: Style, sized: &[Sized]) -> MapLayout {
    let first = stack_hosts(graph, width, height, style, sized, style.volume_rows);
    // Rows the screen has left over go to the volumes before any are hidden.
    let truncated =
        first.hosts.iter().filter_map(|h| h.volumes.as_ref()).any(|v| v.shown < v.entries.len());
    let rows = first.hosts.iter().map(|h| h.rect.y).collect::<BTreeSet<_>>().len() as u16;
    let spare = height.saturating_sub(first.needed_h) / rows.max(1);
    if !truncated || spare == 0 {
        return first;
    }
    let more = stack_hosts(graph, width, height, style, sized, style.volume_rows + spare);
    if more.fits { more } else { first }
}

fn stack_hosts(
    graph: &Graph,
    width: u16,
    height: u16,
    style: Style,
    sized: &[Sized],
    volume_rows: u16,
) -> MapLayout {
    let inner_w = width.saturating_sub(4).max(20);
    // Inside a host box: its border and a column of air each side.
    let avail = inner_w.saturating_sub(4).max(16);
    let members: Vec<Vec<usize>> = graph
        .hosts
        .iter()
        .map(|h| (0..sized.len()).filter(|&i| graph.groups[sized[i].group].host == h.id).collect())
        .collect();
    let natural: Vec<u16> = graph
        .hosts
        .iter()
        .zip(&members)
        .map(|(h, members)| {
            let widths: Vec<u16> = members.iter().map(|&i| sized[i].w).collect();
            let widest = widths.iter().copied().max().unwrap_or(0);
            let packed = shelves_of(&widths, avail.max(widest))
                .iter()
                .map(|shelf| natural_width(shelf.iter().map(|&k| widths[k])))
                .max()
                .unwrap_or(0);
            let least = (width_of(&h.name) as u16 + HOST_TITLE_ROOM).min(avail);
            packed.max(least) + 4
        })
        .collect();
    let row_w = inner_w.max(natural.iter().copied().max().unwrap_or(0));
    let mut layout =
        MapLayout { full_lines: style.lines, compact: style.lines == 0, ..MapLayout::default() };
    let mut y = 1 + style.top_pad;
    for row in shelves_of(&natural, row_w) {
        let extra = row_w.saturating_sub(natural_width(row.iter().map(|&h| natural[h])));
        let mut x = 2u16;
        let first_plan = layout.hosts.len();
        let mut row_h = 0u16;
        for (k, &h) in row.iter().enumerate() {
            let w = natural[h] + share(extra, row.len(), k);
            let shelf_w = w - 4;
            let id = graph.hosts[h].id;
            let mut bottom = if members[h].is_empty() {
                // The line that says why it is empty.
                y + 2
            } else {
                place_shelves(
                    &mut layout,
                    graph,
                    sized,
                    &members[h],
                    x + 2,
                    y + 1 + style.top_pad,
                    shelf_w,
                    x,
                )
            };
            let entries: Vec<usize> =
                (0..graph.volumes.len()).filter(|&v| graph.volumes[v].host == id).collect();
            let volumes = (!entries.is_empty()).then(|| {
                // Text stops a column short of the band's right border.
                let room = shelf_w.saturating_sub(4);
                let band =
                    volumes_band(graph, entries, (x + 2, bottom), shelf_w, room, volume_rows);
                bottom += band.rect.h;
                band
            });
            let h = bottom + 1 - y;
            row_h = row_h.max(h);
            layout.hosts.push(HostPlan { host: id, rect: Rect { x, y, w, h }, volumes });
            x += w + 2;
        }
        // A row's boxes share its height, so their bottoms line up; an empty engine's
        // box stays one line tall, its emptiness plain to see.
        for plan in &mut layout.hosts[first_plan..] {
            if plan.rect.h > 3 {
                plan.rect.h = row_h;
            }
        }
        y += row_h + 1;
    }
    let needed_h = y;
    let needed_w = row_w + 4;
    framed(layout, (needed_w, needed_h), (width, height))
}

#[cfg(test)]
mod tests;

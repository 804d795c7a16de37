//! Inspect: the selected container's configuration as a foldable tree, in words rather
//! than JSON. Secret-looking values stay masked until the operator reveals them; the
//! selected value can be copied to the clipboard (OSC 52, through SSH and tmux).

use std::collections::BTreeSet;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Effect, Handled, ListNav, Pane, PaneView, block};
use crate::model::Container;
use crate::model::format::nanos;
use crate::model::sanitize::one_line;
use crate::model::secrets::{is_secret_key, mask_env_value};
use crate::ui::keymap::Action;
use crate::ui::theme::Slot;

/// One line of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub depth: usize,
    pub key: String,
    /// The value as the engine has it; `None` for a section.
    pub value: Option<String>,
    /// The value as shown while secrets are masked, when it differs.
    pub masked: Option<String>,
    /// Sections fold; their path identifies them across rebuilds.
    pub section: Option<String>,
}

#[derive(Debug, Default)]
pub struct InspectView {
    pub id: String,
    pub nav: ListNav,
    pub folded: BTreeSet<String>,
    pub reveal: bool,
    /// The rows shown at the last render (folded sections hide their children).
    visible: Vec<Node>,
}

fn section(key: &str) -> Node {
    Node { depth: 0, key: key.to_string(), value: None, masked: None, section: Some(key.into()) }
}

fn leaf(depth: usize, key: impl Into<String>, value: impl Into<String>) -> Node {
    Node { depth, key: key.into(), value: Some(value.into()), masked: None, section: None }
}

fn secret_leaf(depth: usize, key: &str, value: &str) -> Node {
    let masked = mask_env_value(key, value);
    let mut node = leaf(depth, key, value);
    if masked != value {
        node.masked = Some(masked);
    }
    node
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(|| "–".to_string(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

/// The whole tree of a container, every section unfolded; `host` (the engine, in
/// words) heads it when there are several engines.
pub fn tree(c: &Container, host: Option<&str>) -> Vec<Node> {
    let mut nodes: Vec<Node> = host.map(|h| leaf(0, "host", h)).into_iter().collect();
    nodes.push(section("State"));
    nodes.push(leaf(1, "status", c.state.as_str()));
    if let Some(code) = c.exit_code {
        nodes.push(leaf(1, "exit code", code.to_string()));
    }
    nodes.push(leaf(1, "OOM killed", c.oom_killed.to_string()));
    nodes.push(leaf(1, "restarts", c.restart_count.to_string()));
    nodes.push(leaf(1, "started", time(c.started_at)));
    nodes.push(leaf(1, "finished", time(c.finished_at)));
    if let Some(pid) = c.pid.filter(|p| *p > 0) {
        nodes.push(leaf(1, "pid", pid.to_string()));
    }
    if let Some(error) = &c.error {
        nodes.push(leaf(1, "error", error.clone()));
    }

    nodes.push(section("Config"));
    nodes.push(leaf(1, "id", c.id.clone()));
    nodes.push(leaf(1, "name", c.name.clone()));
    nodes.push(leaf(1, "image", c.image.clone()));
    nodes.push(leaf(1, "created", time(c.created)));
    nodes.push(leaf(1, "entrypoint", c.entrypoint.join(" ")));
    nodes.push(leaf(1, "command", c.cmd.join(" ")));
    nodes.push(leaf(
        1,
        "user",
        c.user.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| "root (image default)".into()),
    ));
    nodes.push(leaf(
        1,
        "restart policy",
        c.restart_policy.as_ref().map_or_else(
            || "no".to_string(),
            |p| match p.maximum_retry_count.filter(|n| *n > 0) {
                Some(n) => format!("{} (at most {n} retries)", p.name),
                None => p.name.clone(),
            },
        ),
    ));
    nodes.push(leaf(1, "read-only root", c.read_only.to_string()));
    nodes.push(leaf(1, "privileged", c.privileged.to_string()));
    if !c.cap_add.is_empty() {
        nodes.push(leaf(1, "capabilities added", c.cap_add.join(", ")));
    }
    if let Some(mode) = &c.network_mode {
        nodes.push(leaf(1, "network mode", mode.clone()));
    }
    if let Some(compose) = &c.compose {
        nodes.push(leaf(1, "compose project", compose.project.clone()));
        nodes.push(leaf(1, "compose service", compose.service.clone()));
    }
    let limits = &c.limits;
    nodes.push(leaf(1, "cpu limit", limits.cpus.map_or("none".into(), |v| format!("{v} CPUs"))));
    nodes.push(leaf(
        1,
        "memory limit",
        limits.memory_bytes.map_or("none".into(), crate::model::format::bytes),
    ));

    nodes.push(section("Health"));
    match &c.healthcheck {
        Some(h) if !h.is_disabled() => {
            nodes.push(leaf(1, "test", h.command()));
            nodes.push(leaf(1, "interval", h.interval_ns.map_or("30s (default)".into(), nanos)));
            nodes.push(leaf(1, "timeout", h.timeout_ns.map_or("30s (default)".into(), nanos)));
            nodes.push(leaf(
                1,
                "retries",
                h.retries.map_or("3 (default)".into(), |r| r.to_string()),
            ));
            nodes.push(leaf(1, "start period", h.start_period_ns.map_or("0s".into(), nanos)));
        }
        _ => nodes.push(leaf(1, "healthcheck", "none")),
    }
    if let Some(health) = &c.health {
        nodes.push(leaf(1, "status", health.status.as_str()));
        nodes.push(leaf(1, "failing streak", health.failing_streak.to_string()));
        for probe in health.log.iter().rev().take(5) {
            let code = probe.exit_code.map_or("?".into(), |c| c.to_string());
            let output = probe.output.lines().next().unwrap_or("").to_string();
            nodes.push(leaf(
                2,
                format!("probe {}", time(probe.start)),
                format!("exit {code} {output}"),
            ));
        }
    }

    nodes.push(section("Mounts"));
    if c.mounts.is_empty() {
        nodes.push(leaf(1, "mounts", "none"));
    }
    for m in &c.mounts {
        let source = m.name.clone().or_else(|| m.source.clone()).unwrap_or_default();
        let mode = if m.read_only { "ro" } else { "rw" };
        nodes.push(leaf(1, m.destination.clone(), format!("{} {source} ({mode})", m.kind)));
    }

    nodes.push(section("Networks"));
    for n in &c.networks {
        let mut value = n.ip.clone().unwrap_or_else(|| "no address".into());
        if !n.aliases.is_empty() {
            value.push_str(&format!("  aliases {}", n.aliases.join(", ")));
        }
        nodes.push(leaf(1, n.name.clone(), value));
    }

    nodes.push(section("Ports"));
    if c.ports.is_empty() {
        nodes.push(leaf(1, "ports", "none"));
    }
    for p in &c.ports {
        let value = match (p.host_ip.as_deref(), p.host_port) {
            (ip, Some(port)) => {
                format!("published on {}:{port}", ip.filter(|i| !i.is_empty()).unwrap_or("0.0.0.0"))
            }
            _ => "exposed only".to_string(),
        };
        nodes.push(leaf(1, format!("{}/{}", p.container_port, p.protocol), value));
    }

    nodes.push(section("Labels"));
    for (key, value) in &c.labels {
        if is_secret_key(key) {
            secret_leaf_into(&mut nodes, key, value);
        } else {
            nodes.push(leaf(1, key.clone(), value.clone()));
        }
    }

    nodes.push(section("Environment"));
    for (key, value) in &c.env {
        nodes.push(secret_leaf(1, key, value));
    }
    nodes
}

fn secret_leaf_into(nodes: &mut Vec<Node>, key: &str, value: &str) {
    let mut node = leaf(1, key, value);
    node.masked = Some("••••••".to_string());
    nodes.push(node);
}

impl InspectView {
    pub fn new(id: &str) -> InspectView {
        InspectView { id: id.to_string(), ..InspectView::default() }
    }

    pub fn len(&self) -> usize {
        self.visible.len()
    }

    pub fn is_empty(&self) -> bool {
        self.visible.is_empty()
    }

    fn rebuild(&mut self, c: &Container, host: Option<&str>) {
        let mut visible = Vec::new();
        let mut hiding = false;
        for node in tree(c, host) {
            if let Some(path) = &node.section {
                hiding = self.folded.contains(path);
                visible.push(node);
            } else if !hiding {
                visible.push(node);
            }
        }
        self.visible = visible;
    }

    /// Folds or unfolds the section the selection is in.
    pub fn toggle(&mut self) {
        let at = self.nav.selected.min(self.visible.len().saturating_sub(1));
        let section = self.visible[..=at.min(self.visible.len().saturating_sub(1))]
            .iter()
            .rev()
            .find_map(|n| n.section.clone());
        if let Some(section) = section {
            if !self.folded.remove(&section) {
                self.folded.insert(section.clone());
            }
            // Keep the selection on the section's title.
            if let Some(row) =
                self.visible.iter().position(|n| n.section.as_ref() == Some(&section))
            {
                self.nav.selected = row;
            }
        }
    }

    /// The selected value as copied: `Err` says why nothing can be.
    pub fn selected_value(&self) -> Result<String, String> {
        let node = self.visible.get(self.nav.selected).ok_or("nothing selected")?;
        let value = node.value.as_ref().ok_or("a section has no value: select a line in it")?;
        if node.masked.is_some() && !self.reveal {
            return Err("this value is a secret: reveal it (r) before copying".to_string());
        }
        Ok(value.clone())
    }
}

/// The engine's name, address and state, when there are several engines to tell apart.
fn host_line(view: &PaneView<'_>, c: &Container) -> Option<String> {
    view.model.multi_host().then(|| {
        let (state, _) = super::host_state(view, c.host);
        let engine = view.model.host(c.host);
        format!("{} ({}) · {state}", engine.name, engine.engine.endpoint)
    })
}

impl Pane for InspectView {
    fn sync(&mut self, view: &PaneView<'_>) {
        match view.model.containers.get(&self.id) {
            Some(c) => self.rebuild(c, host_line(view, c).as_deref()),
            None => self.visible.clear(),
        }
    }

    fn act(&mut self, action: Action, _view: &PaneView<'_>, effects: &mut Vec<Effect>) -> Handled {
        match action {
            Action::ToggleDetail | Action::Pause => self.toggle(),
            Action::Reveal => self.reveal = !self.reveal,
            Action::Copy => match self.selected_value() {
                Ok(value) => {
                    let text = format!("copied {} bytes to the clipboard (OSC 52)", value.len());
                    effects.push(Effect::Copy(value));
                    effects.push(Effect::Say { text, error: false });
                }
                Err(text) => effects.push(Effect::Say { text, error: true }),
            },
            Action::Back | Action::Inspect => effects.push(Effect::Close),
            _ => {
                let moved = self.nav.take_movement(action, self.visible.len());
                if moved != Handled::Pass {
                    return moved;
                }
                // Leaving for another pane closes the tree.
                if action.shows_a_pane() {
                    effects.push(Effect::Close);
                }
                return Handled::Pass;
            }
        }
        Handled::Redraw
    }

    fn selected_container(&self) -> Option<&str> {
        Some(&self.id)
    }

    fn hints(&self) -> Vec<(Action, &'static str)> {
        vec![
            (Action::Back, "close"),
            (Action::ToggleDetail, "fold"),
            (Action::Reveal, "secrets"),
            (Action::Copy, "copy"),
        ]
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let theme = view.theme;
        let Some(c) = view.model.containers.get(&self.id) else {
            return super::message(
                frame,
                area,
                view,
                "Inspect".to_string(),
                "The container is gone.",
            );
        };
        let secrets = self.visible.iter().filter(|n| n.masked.is_some()).count();
        let mut title = format!("Inspect · {}", one_line(&c.name));
        if secrets > 0 || self.reveal {
            title.push_str(if self.reveal {
                " · secrets shown (r hides)"
            } else {
                " · secrets masked (r shows)"
            });
        }
        let outer = block(view, title);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        let range = self.nav.window(self.visible.len(), inner.height as usize);
        let key_width = self
            .visible
            .iter()
            .map(|n| n.key.chars().count() + n.depth * 2)
            .max()
            .unwrap_or(8)
            .min(32);
        let mut lines = Vec::with_capacity(range.len());
        for (i, node) in self.visible[range.clone()].iter().enumerate() {
            let selected = range.start + i == self.nav.selected;
            let mut line = match &node.section {
                Some(path) => {
                    let marker = if self.folded.contains(path) { "▸" } else { "▾" };
                    Line::from(Span::styled(
                        format!("{marker} {}", node.key),
                        theme.style(Slot::Group),
                    ))
                }
                None => {
                    let indent = "  ".repeat(node.depth);
                    let key = format!("{indent}{}", one_line(&node.key));
                    let pad = key_width.saturating_sub(key.chars().count());
                    let (value, slot) = match (&node.masked, self.reveal) {
                        (Some(masked), false) => (masked.clone(), Slot::Muted),
                        (Some(_), true) => (node.value.clone().unwrap_or_default(), Slot::Warning),
                        (None, _) => (node.value.clone().unwrap_or_default(), Slot::Value),
                    };
                    Line::from(vec![
                        Span::styled(
                            format!("{key}{} ", " ".repeat(pad)),
                            theme.style(Slot::Label),
                        ),
                        Span::styled(one_line(&value).into_owned(), theme.style(slot)),
                    ])
                }
            };
            if selected {
                line = theme.selected(line);
            }
            lines.push(line);
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// The OSC 52 sequence that asks the terminal to put `text` on the clipboard.
pub fn osc52(text: &str) -> String {
    format!("\u{1b}]52;c;{}\u{7}", base64(text.as_bytes()))
}

/// Standard base64 with padding (OSC 52 wants it; one small function, no crate).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(osc52("hi"), "\u{1b}]52;c;aGk=\u{7}");
    }

    #[test]
    fn secrets_are_masked_until_revealed_and_sections_fold() {
        let mut c = Container::new("abc", "shop-api-1");
        c.env = vec![
            ("DATABASE_URL".into(), "postgresql://app:hunter2@db:5432/shop".into()),
            ("API_TOKEN".into(), "t0ken".into()),
            ("LOG_LEVEL".into(), "info".into()),
        ];
        let nodes = tree(&c, None);
        let url = nodes.iter().find(|n| n.key == "DATABASE_URL").expect("url");
        assert!(url.masked.as_deref().is_some_and(|m| !m.contains("hunter2")), "{url:?}");
        assert!(nodes.iter().find(|n| n.key == "API_TOKEN").is_some_and(|n| n.masked.is_some()));
        assert!(nodes.iter().find(|n| n.key == "LOG_LEVEL").is_some_and(|n| n.masked.is_none()));

        let mut view = InspectView::new("abc");
        view.rebuild(&c, None);
        let all = view.len();
        view.nav.selected = 1;
        view.toggle();
        view.rebuild(&c, None);
        assert!(view.len() < all, "State folded");
        view.nav.selected = view.visible.iter().position(|n| n.key == "API_TOKEN").expect("row");
        assert!(view.selected_value().is_err(), "a masked secret is not copied");
        view.reveal = true;
        assert_eq!(view.selected_value().as_deref(), Ok("t0ken"));
    }
}

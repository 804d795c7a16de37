//! The detail of the selected container: everything `docker inspect` would be typed
//! for, in words. Strings from the container are sanitised; secrets are masked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{Effect, Handled, Pane, PaneView};
use crate::model::format::{bytes, nanos, percent, rate, short_duration};
use crate::model::ports::PortOutcome;
use crate::model::sanitize::one_line;
use crate::model::secrets::mask_env_value;
use crate::model::{Container, HealthStatus};
use crate::ui::keymap::Action;
use crate::ui::theme::{Slot, Theme};

fn field<'a>(theme: &Theme, label: &'a str, value: impl Into<String>, style: Slot) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<10} "), theme.style(Slot::Label)),
        Span::styled(value.into(), theme.style(style)),
    ])
}

fn section<'a>(theme: &Theme, title: &'a str) -> Line<'a> {
    Line::from(Span::styled(title, theme.style(Slot::Accent)))
}

/// The lines of the detail for one container.
pub fn lines<'a>(c: &'a Container, view: &PaneView<'_>) -> Vec<Line<'a>> {
    let PaneView { model, theme, now, .. } = *view;
    let mut out = Vec::new();
    let state_style = theme.state(c);
    out.push(Line::from(vec![
        Span::styled(one_line(&c.name).into_owned(), theme.style(Slot::Title)),
        Span::styled(format!("  {}", c.id.get(..12).unwrap_or(&c.id)), theme.style(Slot::Muted)),
    ]));
    if model.multi_host() {
        let (state, slot) = super::host_state(view, c.host);
        let host = format!("{} · {state}", one_line(model.host_name(c)));
        out.push(field(theme, "host", host, slot));
    }
    out.push(Line::from(vec![
        Span::styled(format!("{:<10} ", "state"), theme.style(Slot::Label)),
        Span::styled(c.state_brief(), state_style),
        Span::styled(format!("  {}", c.status_text(now)), theme.style(Slot::Muted)),
    ]));
    if c.inspect_pending_since.is_some() {
        let words = "the engine has not answered its inspect (retrying): health, limits, user \
                     and mounts are unknown until it does";
        out.push(field(theme, "inspect", words.to_string(), Slot::Warning));
    }
    if let Some(error) = &c.error {
        out.push(field(theme, "error", one_line(error).into_owned(), Slot::Error));
    }
    if c.oom_killed {
        let limit =
            c.limits.memory_bytes.map(|l| format!(" (limit {})", bytes(l))).unwrap_or_default();
        out.push(field(
            theme,
            "oom",
            format!("killed by the kernel for memory{limit}"),
            Slot::Error,
        ));
    }
    if c.restart_count > 0 {
        out.push(field(theme, "restarts", c.restart_count.to_string(), Slot::Warning));
    }
    out.push(field(theme, "image", one_line(&c.image).into_owned(), Slot::Value));
    if let Some(words) = model.image_updates.describe(&c.id) {
        let slot = match model.image_updates.available(&c.id) {
            Some(_) => Slot::Warning,
            None => Slot::Muted,
        };
        out.push(field(theme, "update", one_line(&words).into_owned(), slot));
    }
    out.push(field(theme, "command", one_line(&c.command).into_owned(), Slot::Value));
    if let Some(info) = &c.compose {
        let mut text = if info.service.is_empty() {
            info.project.clone()
        } else {
            format!("{} / {}", info.project, info.service)
        };
        if let Some(n) = info.container_number {
            text.push_str(&format!(" #{n}"));
        }
        out.push(field(theme, "compose", one_line(&text).into_owned(), Slot::Value));
        if !info.depends_on.is_empty() {
            let deps: Vec<String> = info
                .depends_on
                .iter()
                .map(|d| match d.condition {
                    crate::model::DependencyCondition::Started => d.service.clone(),
                    other => {
                        format!("{} ({})", d.service, other.as_str().trim_start_matches("service_"))
                    }
                })
                .collect();
            out.push(field(theme, "needs", one_line(&deps.join(", ")).into_owned(), Slot::Value));
        }
    }
    let user = match &c.user {
        Some(u) if c.runs_as_root() => format!("{u} (root)"),
        Some(u) => u.clone(),
        None => "root (image default)".to_string(),
    };
    out.push(field(
        theme,
        "user",
        one_line(&user).into_owned(),
        if c.runs_as_root() { Slot::Warning } else { Slot::Value },
    ));
    let mut flags = Vec::new();
    if c.read_only {
        flags.push("read-only rootfs".to_string());
    }
    if c.privileged {
        flags.push("PRIVILEGED".to_string());
    }
    if let Some(policy) = &c.restart_policy {
        flags.push(format!("restart {}", policy.name));
    }
    if !flags.is_empty() {
        out.push(field(theme, "flags", flags.join(", "), Slot::Value));
    }
    port_lines(c, view, &mut out);

    // Health, with the cause on screen.
    let status = c.health_status();
    if let Some(check) = &c.healthcheck {
        out.push(Line::default());
        out.push(section(theme, "Health"));
        let mut line = vec![
            Span::styled(format!("{:<10} ", "status"), theme.style(Slot::Label)),
            Span::styled(status.marked(), theme.health(status)),
        ];
        if let Some(h) = &c.health
            && h.failing_streak > 0
        {
            line.push(Span::styled(
                format!("  failing streak {}", h.failing_streak),
                theme.style(Slot::Warning),
            ));
        }
        out.push(Line::from(line));
        out.push(field(theme, "probe", one_line(&check.command()).into_owned(), Slot::Value));
        let every = [
            check.interval_ns.map(|n| format!("every {}", nanos(n))),
            check.timeout_ns.map(|n| format!("timeout {}", nanos(n))),
            check.retries.map(|n| format!("{n} retries")),
            check.start_period_ns.map(|n| format!("start period {}", nanos(n))),
        ];
        let every: Vec<String> = every.into_iter().flatten().collect();
        if !every.is_empty() {
            out.push(field(theme, "", every.join(", "), Slot::Muted));
        }
        if let Some(h) = &c.health {
            for probe in h.log.iter().rev().take(3) {
                let when = probe
                    .end
                    .or(probe.start)
                    .map(|t| {
                        format!("{} ago", short_duration((now - t).to_std().unwrap_or_default()))
                    })
                    .unwrap_or_default();
                let code = probe.exit_code.map_or("?".to_string(), |c| c.to_string());
                let output = one_line(probe.output.trim()).into_owned();
                let style = if probe.exit_code == Some(0) { Slot::Ok } else { Slot::Error };
                out.push(Line::from(vec![
                    Span::styled(format!("{:<10} ", when), theme.style(Slot::Label)),
                    Span::styled(format!("exit {code} "), theme.style(style)),
                    Span::styled(output, theme.style(Slot::Muted)),
                ]));
            }
        }
    } else if status == HealthStatus::None {
        out.push(field(theme, "health", "no healthcheck", Slot::Muted));
    }

    // Resources now; an unreachable engine's figures are old, so none are shown.
    if c.state.is_running()
        && !super::host_lost(model, c.host)
        && let Some(point) = model.stats.get(&c.id).and_then(|s| s.latest())
    {
        out.push(Line::default());
        out.push(section(theme, "Resources"));
        let cpu = match (point.cpu_percent, c.limits.cpus) {
            (Some(cpu), Some(limit)) => {
                format!("{} ({} of {limit} CPU limit)", percent(cpu), percent(cpu / limit))
            }
            (Some(cpu), None) => percent(cpu),
            (None, _) => "measuring…".to_string(),
        };
        out.push(field(theme, "cpu", cpu, Slot::Value));
        if let Some(used) = point.memory_bytes {
            let text = match point.memory_limit_bytes {
                Some(limit) => format!(
                    "{} / {} ({})",
                    bytes(used),
                    bytes(limit),
                    percent(used as f64 / limit.max(1) as f64 * 100.0)
                ),
                None => bytes(used),
            };
            out.push(field(theme, "memory", text, Slot::Value));
        }
        if let (Some(rx), Some(tx)) = (point.net_rx_bytes, point.net_tx_bytes) {
            let rates = match (point.net_rx_rate, point.net_tx_rate) {
                (Some(r), Some(t)) => format!("  ({} ↓ {} ↑)", rate(r), rate(t)),
                _ => String::new(),
            };
            out.push(field(
                theme,
                "net",
                format!("rx {} tx {}{rates}", bytes(rx), bytes(tx)),
                Slot::Value,
            ));
        }
        if let (Some(r), Some(w)) = (point.block_read_bytes, point.block_write_bytes) {
            out.push(field(
                theme,
                "block",
                format!("read {} write {}", bytes(r), bytes(w)),
                Slot::Value,
            ));
        }
        if let Some(pids) = point.pids {
            let limit = c.limits.pids.map(|l| format!(" / {l}")).unwrap_or_default();
            out.push(field(theme, "pids", format!("{pids}{limit}"), Slot::Value));
        }
    }
    let limits = &c.limits;
    if limits.cpus.is_some()
        || limits.memory_bytes.is_some()
        || limits.memory_reservation_bytes.is_some()
        || limits.pids.is_some()
    {
        let parts = [
            limits.cpus.map(|c| format!("{c} CPU")),
            limits.memory_bytes.map(|m| format!("mem {}", bytes(m))),
            limits.memory_reservation_bytes.map(|m| format!("reserve {}", bytes(m))),
            limits.pids.map(|p| format!("{p} pids")),
        ];
        let parts: Vec<String> = parts.into_iter().flatten().collect();
        out.push(field(theme, "limits", parts.join(", "), Slot::Value));
    } else {
        out.push(field(theme, "limits", "none", Slot::Muted));
    }

    // Wiring.
    out.push(Line::default());
    out.push(section(theme, "Network"));
    let published = c.published_words();
    if !published.is_empty() {
        out.push(field(theme, "published", published, Slot::Value));
    }
    let exposed: Vec<String> = c
        .ports
        .iter()
        .filter(|p| !p.is_published())
        .map(|p| format!("{}/{}", p.container_port, p.protocol))
        .collect();
    if !exposed.is_empty() {
        out.push(field(theme, "exposed", exposed.join(", "), Slot::Muted));
    }
    for n in &c.networks {
        let mut text = n.name.clone();
        if let Some(ip) = &n.ip {
            text.push_str(&format!("  {ip}"));
        }
        if !n.aliases.is_empty() {
            text.push_str(&format!("  ({})", n.aliases.join(", ")));
        }
        out.push(field(theme, "network", one_line(&text).into_owned(), Slot::Value));
    }
    if let Some(mode) = &c.network_mode
        && c.networks.is_empty()
    {
        out.push(field(theme, "mode", one_line(mode).into_owned(), Slot::Value));
    }
    if !c.mounts.is_empty() {
        out.push(Line::default());
        out.push(section(theme, "Mounts"));
        for m in &c.mounts {
            let source = m.name.clone().or_else(|| m.source.clone()).unwrap_or_default();
            let ro = if m.read_only { " (ro)" } else { "" };
            out.push(field(
                theme,
                if m.kind == "volume" { "volume" } else { "bind" },
                one_line(&format!("{source} → {}{ro}", m.destination)).into_owned(),
                Slot::Value,
            ));
        }
    }
    if !c.env.is_empty() {
        out.push(Line::default());
        out.push(section(theme, "Environment (masked)"));
        for (key, value) in &c.env {
            out.push(Line::from(vec![
                Span::styled(one_line(key).into_owned(), theme.style(Slot::Label)),
                Span::styled("=", theme.style(Slot::Muted)),
                Span::styled(
                    one_line(&mask_env_value(key, value)).into_owned(),
                    theme.style(Slot::Value),
                ),
            ]));
        }
    }
    if !c.labels.is_empty() {
        out.push(Line::default());
        out.push(section(theme, "Labels"));
        for (key, value) in &c.labels {
            out.push(Line::from(vec![
                Span::styled(one_line(key).into_owned(), theme.style(Slot::Label)),
                Span::styled("=", theme.style(Slot::Muted)),
                Span::styled(one_line(value).into_owned(), theme.style(Slot::Muted)),
            ]));
        }
    }
    out
}

/// Whether the published ports answer, once the operator has asked: high in the
/// detail, because it is what the operator just asked for. One line per port, with
/// the URL of those that answered HTTP (made a hyperlink after the frame is drawn,
/// where the terminal supports it: see `ui::hyperlink`).
fn port_lines<'a>(c: &Container, view: &PaneView<'_>, out: &mut Vec<Line<'a>>) {
    let theme = view.theme;
    let Some(status) = view.model.port_checks.get(&c.id) else { return };
    out.push(Line::default());
    let mut title = vec![Span::styled("Ports", theme.style(Slot::Accent))];
    if let Some(check) = &status.last {
        let when = super::clock(view, check.at);
        title.push(Span::styled(
            format!("  checked {when} {}", one_line(&check.vantage.words())),
            theme.style(Slot::Muted),
        ));
    }
    if status.checking_since.is_some() {
        title.push(Span::styled("  checking…", theme.style(Slot::Warning)));
    }
    out.push(Line::from(title));
    let Some(check) = &status.last else { return };
    if check.probes.is_empty() {
        out.push(field(theme, "", "no published ports", Slot::Muted));
    }
    for probe in &check.probes {
        let proto = if probe.port.protocol == "tcp" {
            String::new()
        } else {
            format!("/{}", probe.port.protocol)
        };
        let place = format!("{}→{}{proto}", probe.dialled(), probe.port.container_port);
        let slot = match probe.outcome {
            PortOutcome::Listening { .. } => Slot::Ok,
            PortOutcome::Refused | PortOutcome::ClosedAtOnce | PortOutcome::Failed(_) => {
                Slot::Error
            }
            PortOutcome::TimedOut => Slot::Warning,
            PortOutcome::NotChecked(_) => Slot::Muted,
        };
        let mut line = vec![
            Span::styled(format!("{} ", one_line(&place)), theme.style(Slot::Value)),
            Span::styled(one_line(&probe.outcome.words()).into_owned(), theme.style(slot)),
        ];
        if let Some(url) = probe.url() {
            line.push(Span::styled(format!("  {url}"), theme.style(Slot::Label)));
        }
        out.push(Line::from(line));
    }
}

/// The detail of one container, scrolled on its own: beside the containers list, or
/// over the whole body.
#[derive(Debug, Default)]
pub struct DetailPane {
    container: Option<String>,
    scroll: u16,
}

impl DetailPane {
    /// Shows `id`'s detail; a new container starts at the top.
    pub fn show(&mut self, id: Option<&str>) {
        if self.container.as_deref() != id {
            self.container = id.map(String::from);
            self.scroll = 0;
        }
    }

    pub fn to_top(&mut self) {
        self.scroll = 0;
    }
}

impl Pane for DetailPane {
    fn act(&mut self, action: Action, _view: &PaneView<'_>, _: &mut Vec<Effect>) -> Handled {
        match action {
            Action::DetailDown => self.scroll = self.scroll.saturating_add(3),
            Action::DetailUp => self.scroll = self.scroll.saturating_sub(3),
            _ => return Handled::Pass,
        }
        Handled::Redraw
    }

    fn selected_container(&self) -> Option<&str> {
        self.container.as_deref()
    }

    /// Titled with the container's name, whatever the view's title.
    fn render(&mut self, frame: &mut Frame, area: Rect, view: &PaneView<'_>) {
        let container = self.container.as_ref().and_then(|id| view.model.containers.get(id));
        let title = container
            .map_or("Detail".to_string(), |c| format!("Detail · {}", one_line(c.display_name())));
        render(frame, area, container, self.scroll, &PaneView { title: &title, ..*view });
    }
}

fn render(
    frame: &mut Frame,
    area: Rect,
    container: Option<&Container>,
    scroll: u16,
    view: &PaneView<'_>,
) {
    let theme = view.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(view.focused))
        .title(Span::styled(format!(" {} ", view.title), theme.title(view.focused)));
    let body = match container {
        Some(c) => lines(c, view),
        None => vec![Line::from(Span::styled("Nothing selected.", theme.style(Slot::Muted)))],
    };
    let max_scroll = (body.len() as u16).saturating_sub(area.height.saturating_sub(2));
    let paragraph = Paragraph::new(body)
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((scroll.min(max_scroll), 0));
    frame.render_widget(paragraph, area);
}

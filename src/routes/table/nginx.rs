//! nginx's routes: the configuration read from the proxy's container, each proxied
//! location's upstream host resolved to a container the way Docker's DNS would.

use std::net::IpAddr;

use crate::model::Container;
use crate::routes::detect;
use crate::routes::nginx::{self, Action, Context, Location, ProxyTarget, Server};

use super::{
    ProxyNote, Route, RouteKind, RouteTable, host_port_suffix, shared_networks, target_problem,
};

/// Where an upstream host name leads.
enum Resolution<'a> {
    Container(&'a Container),
    /// `localhost`: the proxy's own container.
    Itself,
    /// A container by that name exists, but not on a network the proxy is on.
    Unreachable(&'a Container),
    /// Only on the default bridge network, where Docker's DNS does not answer.
    DefaultBridge(&'a Container),
    /// A dotted name no container answers to: somewhere outside Docker.
    External,
    Nothing,
}

fn resolve<'a>(containers: &[&'a Container], proxy: &Container, host: &str) -> Resolution<'a> {
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    if matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1") {
        return Resolution::Itself;
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        let found = containers.iter().find(|c| {
            c.networks
                .iter()
                .any(|n| n.ip.as_deref().and_then(|i| i.parse::<IpAddr>().ok()) == Some(ip))
        });
        return match found {
            Some(c) if c.id == proxy.id => Resolution::Itself,
            Some(c) if shared_networks(proxy, c).is_empty() => Resolution::Unreachable(c),
            Some(c) => Resolution::Container(c),
            None => Resolution::External,
        };
    }
    // Names Docker's DNS answers on a user network: the container's name, its
    // aliases there (compose adds the service name), and the short id.
    let answers = |c: &Container, network: &str| {
        c.name.eq_ignore_ascii_case(&host)
            || c.id.starts_with(&host) && host.len() >= 12
            || c.networks.iter().any(|n| {
                n.name == network && n.aliases.iter().any(|a| a.eq_ignore_ascii_case(&host))
            })
            || c.service().is_some_and(|s| s.eq_ignore_ascii_case(&host))
    };
    let mut reachable: Vec<&Container> = Vec::new();
    let mut bridge_only: Option<&Container> = None;
    for network in &proxy.networks {
        for c in containers.iter().filter(|c| c.networks.iter().any(|n| n.name == network.name)) {
            if answers(c, &network.name) {
                if network.name == "bridge" {
                    bridge_only.get_or_insert(c);
                } else if !reachable.iter().any(|r| r.id == c.id) {
                    reachable.push(c);
                }
            }
        }
    }
    // Several answer (compose scale, or a name used in two projects): the proxy's own
    // project first, then a running one.
    reachable.sort_by_key(|c| (c.project() != proxy.project(), !c.state.is_running()));
    if let Some(c) = reachable.first() {
        return if c.id == proxy.id { Resolution::Itself } else { Resolution::Container(c) };
    }
    if let Some(c) = bridge_only {
        return Resolution::DefaultBridge(c);
    }
    let elsewhere = containers
        .iter()
        .find(|c| c.id != proxy.id && c.networks.iter().any(|n| answers(c, &n.name)));
    if let Some(c) = elsewhere {
        return Resolution::Unreachable(c);
    }
    if host.contains('.') { Resolution::External } else { Resolution::Nothing }
}

pub fn routes(containers: &[&Container], proxy: &Container, table: &mut RouteTable) {
    let proxy_name = proxy.display_name().to_string();
    let note = |table: &mut RouteTable, message: String| {
        table.notes.push(ProxyNote {
            host_id: 0,
            proxy: proxy_name.clone(),
            proxy_id: Some(proxy.id.clone()),
            message,
        });
    };
    let Some(config) = proxy.proxy_config.as_ref() else {
        return;
    };
    for problem in &config.problems {
        note(table, problem.clone());
    }
    let main = detect::nginx_main_file(proxy);
    let Some(text) = config.files.get(&main) else {
        let mut route = Route::new(RouteKind::Nginx, Some(proxy));
        route.matches = "—".to_string();
        route.target = "configuration not read".to_string();
        let why = config.problems.first().cloned().unwrap_or_else(|| format!("{main} is missing"));
        route.break_with(format!("nginx configuration could not be read: {why}"));
        table.routes.push(route);
        return;
    };
    let prefix = detect::parent(&main).to_string();
    let read =
        nginx::read(&main, text, |pattern| nginx::resolve_include(&config.files, &prefix, pattern));
    for finding in &read.findings {
        note(table, format!("{}:{}: {}", finding.file, finding.line, finding.message));
    }
    if read.servers.is_empty() {
        note(table, format!("{main} defines no server: nginx routes nothing here"));
    }
    for server in &read.servers {
        server_rows(containers, proxy, &read, server, table);
    }
}

fn entry(proxy: &Container, server: &Server) -> String {
    let mut parts: Vec<String> = Vec::new();
    for listen in &server.listens {
        let mut text = match (&listen.unix, listen.port) {
            (Some(path), _) => format!("unix:{path}"),
            (None, Some(port)) => format!("listen {port}{}", host_port_suffix(proxy, port)),
            (None, None) => format!("listen {}", listen.raw),
        };
        if listen.ssl {
            text.push_str(" ssl");
        }
        if listen.udp {
            text.push_str(" udp");
        }
        if !parts.contains(&text) {
            parts.push(text);
        }
    }
    parts.join(", ")
}

fn server_rows(
    containers: &[&Container],
    proxy: &Container,
    read: &nginx::Routes,
    server: &Server,
    table: &mut RouteTable,
) {
    let names: Vec<&str> = server
        .server_names
        .iter()
        .map(String::as_str)
        .filter(|n| !n.is_empty() && *n != "_")
        .collect();
    let host = (!names.is_empty()).then(|| names.join(", "));
    let base = |what: &str| {
        let mut route = Route::new(RouteKind::Nginx, Some(proxy));
        route.entrypoint = entry(proxy, server);
        route.host = host.clone();
        route.tls = server.ssl.then(|| "tls".to_string());
        route.name = Some(format!("{}:{} {what}", server.file, server.line));
        if !proxy.state.is_running() {
            route.break_with(format!("{} is not running", proxy.display_name()));
        }
        route
    };
    if server.context == Context::Stream {
        if let Some(target) = &server.proxy {
            let mut route = base("stream server");
            route.matches = "every TCP connection".to_string();
            route.rule = Some(format!("proxy_pass {}", target.raw));
            proxy_targets(containers, proxy, read, target, Context::Stream, &route, table);
        }
        return;
    }
    if let Some(Action::Return { code, target }) = &server.server_return {
        let mut route = base("server return");
        route.matches = match &host {
            Some(host) => format!("host {host}"),
            None => "every request".to_string(),
        };
        route.rule = Some("return".to_string());
        route.target = return_text(*code, target.as_deref());
        table.routes.push(route);
        return;
    }
    for location in &server.locations {
        let mut route = base(&format!("location {}", location.path));
        route.path = Some(location_path(location));
        route.rule = Some(format!("location {}", location_words(location)));
        route.matches = match &host {
            Some(host) => format!("host {host} and {}", describe_location(location)),
            None => describe_location(location),
        };
        route.websocket = location.websocket;
        if location.conditional {
            route.note = Some("only under an `if` in the location".to_string());
        }
        match &location.action {
            Action::Proxy(target) => {
                proxy_targets(containers, proxy, read, target, Context::Http, &route, table);
            }
            Action::Return { code, target } => {
                route.target = return_text(*code, target.as_deref());
                table.routes.push(route);
            }
            Action::Static { root, alias, try_files } => {
                let dir = alias.clone().or_else(|| root.clone()).unwrap_or_else(|| "html".into());
                route.target = format!("files {dir}");
                if try_files.iter().any(|t| t.starts_with('@') || t.starts_with('=')) {
                    route.target.push_str(&format!(" (try_files {})", try_files.join(" ")));
                }
                route.target_id = Some(proxy.id.clone());
                route.target_container = Some(proxy.display_name().to_string());
                route.target_name = Some(proxy.name.clone());
                route.target_state = Some(proxy.state_and_health());
                table.routes.push(route);
            }
        }
    }
}

fn return_text(code: Option<u16>, target: Option<&str>) -> String {
    match (code, target) {
        (Some(code), Some(target)) => format!("return {code} {target}"),
        (Some(code), None) => format!("return {code}"),
        (None, Some(target)) => format!("return {target}"),
        (None, None) => "return".to_string(),
    }
}

fn location_words(location: &Location) -> String {
    let modifier = location.modifier.as_str();
    if modifier.is_empty() {
        location.path.clone()
    } else {
        format!("{modifier} {}", location.path)
    }
}

/// The path as the table shows it: `/api/*` for a prefix, `= /health` exact,
/// `~ regex` as written.
fn location_path(location: &Location) -> String {
    let path = match location.modifier {
        nginx::Modifier::Prefix | nginx::Modifier::PrefixNoRegex => {
            if location.path.ends_with('*') {
                location.path.clone()
            } else {
                format!("{}*", location.path)
            }
        }
        nginx::Modifier::Exact => location.path.clone(),
        _ => format!("{} {}", location.modifier.as_str(), location.path),
    };
    match location.parents.last() {
        Some(parent) => format!("{path} (in {parent})"),
        None => path,
    }
}

fn describe_location(location: &Location) -> String {
    match location.modifier {
        nginx::Modifier::Exact => format!("path {}", location.path),
        nginx::Modifier::Prefix | nginx::Modifier::PrefixNoRegex => {
            format!("path {}*", location.path.trim_end_matches('*'))
        }
        _ => format!("path matching {}", location.path),
    }
}

fn proxy_targets(
    containers: &[&Container],
    proxy: &Container,
    read: &nginx::Routes,
    target: &ProxyTarget,
    context: Context,
    base: &Route,
    table: &mut RouteTable,
) {
    let scheme = target.scheme.as_deref().map(|s| format!("{s}://")).unwrap_or_default();
    if let Some(path) = &target.unix {
        let mut route = base.clone();
        route.target = format!("unix:{path}");
        route.note = Some("a socket inside the proxy's container".to_string());
        table.routes.push(route);
        return;
    }
    if !target.unresolved.is_empty() {
        let mut route = base.clone();
        route.target = format!("{} (decided per request)", target.raw);
        route.note =
            Some(format!("the target depends on {} at request time", target.unresolved.join(", ")));
        table.routes.push(route);
        return;
    }
    // One row per upstream server; a plain host is a group of one.
    let servers: Vec<(String, Option<u16>, bool)> =
        match target.upstream.as_deref().and_then(|name| read.upstream(context, name)) {
            Some(upstream) => upstream
                .servers
                .iter()
                .filter(|s| s.unix.is_none())
                .map(|s| (s.host.clone(), s.port.or(Some(80)), s.backup || s.down))
                .collect(),
            None => vec![(target.host.clone(), target.effective_port(), false)],
        };
    if servers.is_empty() {
        let mut route = base.clone();
        route.target = format!("upstream {} (empty)", target.upstream.as_deref().unwrap_or(""));
        route.break_with("the upstream group has no server");
        table.routes.push(route);
        return;
    }
    let group = target.upstream.as_deref().map(|u| format!("upstream {u}: ")).unwrap_or_default();
    for (host, port, standby) in servers {
        let mut route = base.clone();
        let port_text = port.map(|p| format!(":{p}")).unwrap_or_default();
        match resolve(containers, proxy, &host) {
            Resolution::Container(c) => {
                route.reach(c, port);
                route.target = format!("{group}{scheme}{}", route.target);
                if let Some(problem) = target_problem(c, port, false) {
                    route.break_with(problem);
                }
            }
            Resolution::Itself => {
                route.target = format!("{group}{scheme}{host}{port_text} (the proxy itself)");
                route.target_id = Some(proxy.id.clone());
                route.target_container = Some(proxy.display_name().to_string());
                route.target_name = Some(proxy.name.clone());
                route.target_port = port;
            }
            Resolution::Unreachable(c) => {
                route.reach(c, port);
                route.target = format!("{group}{scheme}{}", route.target);
                route.break_with(format!(
                    "upstream host `{host}` is {}, which shares no network with {} ({} is on {})",
                    c.display_name(),
                    proxy.display_name(),
                    c.display_name(),
                    super::network_list(c)
                ));
            }
            Resolution::DefaultBridge(c) => {
                route.reach(c, port);
                route.target = format!("{group}{scheme}{}", route.target);
                route.break_with(format!(
                    "upstream host `{host}` is only on the default bridge network, where \
                     Docker's DNS does not resolve names"
                ));
            }
            Resolution::External => {
                route.target = format!("{group}{scheme}{host}{port_text} (outside Docker)");
            }
            Resolution::Nothing => {
                route.target = format!("{group}{scheme}{host}{port_text} → nothing");
                route.break_with(format!(
                    "upstream host `{host}` resolves to no container on {}'s networks ({})",
                    proxy.display_name(),
                    super::network_list(proxy)
                ));
            }
        }
        if standby {
            route.note = Some("backup or down server of the upstream".to_string());
        }
        table.routes.push(route);
    }
}

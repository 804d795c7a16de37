//! Traefik's routes: every container's `traefik.*` labels read the way the Docker
//! provider reads them, under the static configuration of the Traefik that sees them.

use crate::model::Container;
use crate::routes::traefik_labels::{self, ContainerRoutes, Exposure, FindingKind};
use crate::routes::traefik_rule::Protocol;
use crate::routes::traefik_static::{self, DEFAULT_CONFIG_FILES, StaticConfig};

use super::{
    ProxyNote, Route, RouteKind, RouteTable, exposed_ports, host_port_suffix, network_problem,
    shared_networks, target_problem,
};

/// Traefik's static configuration, as the container runs it: a configuration file in
/// a default place or named by `--configFile` wins over flags and environment.
pub fn static_config(proxy: &Container) -> (StaticConfig, Vec<String>) {
    let mut notes = Vec::new();
    let flags_in_entrypoint = proxy.entrypoint.iter().any(|a| a.starts_with("--"));
    let args: Vec<&String> = if flags_in_entrypoint {
        proxy.entrypoint.iter().chain(&proxy.cmd).collect()
    } else {
        proxy.cmd.iter().collect()
    };
    let env: Vec<String> = proxy.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let from_flags = traefik_static::from_container(&args, &env);
    let files = proxy.proxy_config.as_ref().map(|c| &c.files);
    let named = match &from_flags.source {
        traefik_static::StaticSource::FileNotRead(file) => Some(file.clone()),
        _ => None,
    };
    let candidates: Vec<String> =
        named.into_iter().chain(DEFAULT_CONFIG_FILES.iter().map(|f| f.to_string())).collect();
    for file in candidates {
        let Some(text) = files.and_then(|f| f.get(&file)) else { continue };
        let parsed = if file.ends_with(".toml") {
            traefik_static::from_toml(&file, text)
        } else {
            traefik_static::from_yaml(&file, text)
        };
        match parsed {
            Ok(config) => return (config, notes),
            Err(error) => notes.push(error.to_string()),
        }
    }
    (from_flags, notes)
}

/// Which Traefik instances a labelled container belongs to: those it shares a network
/// with, else those of its compose project, else all of them (and then the route says
/// the network is missing).
fn proxies_for<'a>(target: &Container, traefiks: &[&'a Container]) -> Vec<&'a Container> {
    let sharing: Vec<&Container> = traefiks
        .iter()
        .filter(|t| t.id == target.id || !shared_networks(t, target).is_empty())
        .copied()
        .collect();
    if !sharing.is_empty() {
        return sharing;
    }
    let same_project: Vec<&Container> = traefiks
        .iter()
        .filter(|t| t.project().is_some() && t.project() == target.project())
        .copied()
        .collect();
    if !same_project.is_empty() {
        return same_project;
    }
    traefiks.to_vec()
}

fn has_traefik_labels(c: &Container) -> bool {
    c.labels.keys().any(|k| k.starts_with("traefik."))
}

pub fn routes(containers: &[&Container], traefiks: &[&Container], table: &mut RouteTable) {
    let labelled: Vec<&Container> =
        containers.iter().filter(|c| has_traefik_labels(c)).copied().collect();
    if traefiks.is_empty() {
        orphans(&labelled, table);
        return;
    }
    for proxy in traefiks {
        let (config, notes) = static_config(proxy);
        let proxy_name = proxy.display_name().to_string();
        for message in notes.into_iter().chain(config.notes.iter().cloned()) {
            table.notes.push(ProxyNote {
                host_id: 0,
                proxy: proxy_name.clone(),
                proxy_id: Some(proxy.id.clone()),
                message,
            });
        }
        if let Some(problems) = proxy.proxy_config.as_ref().map(|c| &c.problems) {
            for message in problems {
                table.notes.push(ProxyNote {
                    host_id: 0,
                    proxy: proxy_name.clone(),
                    proxy_id: Some(proxy.id.clone()),
                    message: message.clone(),
                });
            }
        }
        let settings = config.provider_settings();
        let members: Vec<&Container> = labelled
            .iter()
            .filter(|c| proxies_for(c, traefiks).iter().any(|t| t.id == proxy.id))
            .copied()
            .collect();
        let read: Vec<ContainerRoutes> = members
            .iter()
            .map(|c| traefik_labels::read_labels(&c.name, &c.labels, &exposed_ports(c), &settings))
            .collect();
        let findings = traefik_labels::cross_check(&read, Some(&config));
        let unlabelled_exposed = if settings.exposed_by_default {
            containers.iter().filter(|c| !has_traefik_labels(c) && c.id != proxy.id).count()
        } else {
            0
        };
        if unlabelled_exposed > 0 {
            table.notes.push(ProxyNote {
                host_id: 0,
                proxy: proxy_name.clone(),
                proxy_id: Some(proxy.id.clone()),
                message: format!(
                    "exposedByDefault is on: {unlabelled_exposed} containers without traefik \
                     labels also get a router with the default rule (not listed)"
                ),
            });
        }
        redirects(proxy, &config, table);
        for (container, routes) in members.iter().zip(&read) {
            rows(proxy, &config, container, routes, &read, &members, &findings, table);
        }
    }
}

/// Entry points that redirect every request (`web` to `websecure`).
fn redirects(proxy: &Container, config: &StaticConfig, table: &mut RouteTable) {
    for ep in config.entrypoints.iter().filter(|e| e.redirect_to.is_some()) {
        let mut route = Route::new(RouteKind::Traefik, Some(proxy));
        route.entrypoint = entry_text(proxy, config, &ep.name);
        route.matches = "every request".to_string();
        let to = ep.redirect_to.clone().unwrap_or_default();
        let scheme = ep.redirect_scheme.clone().unwrap_or_else(|| "https".to_string());
        route.target = format!("redirect to {to} ({scheme})");
        route.name = Some(format!("entrypoint {}", ep.name));
        if config.entrypoint(&to).is_none() {
            route.break_with(format!("redirects to entry point `{to}`, which does not exist"));
        } else if !proxy.state.is_running() {
            route.break_with(format!("{} is not running", proxy.display_name()));
        }
        table.routes.push(route);
    }
}

fn entry_text(proxy: &Container, config: &StaticConfig, name: &str) -> String {
    match config.entrypoint(name).and_then(|e| e.port) {
        Some(port) => format!("{name} :{port}{}", host_port_suffix(proxy, port)),
        None => name.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn rows(
    proxy: &Container,
    config: &StaticConfig,
    container: &Container,
    read: &ContainerRoutes,
    all: &[ContainerRoutes],
    members: &[&Container],
    findings: &[traefik_labels::Finding],
    table: &mut RouteTable,
) {
    let proxy_name = proxy.display_name();
    if let Exposure::NotEnabled { .. } = read.exposure {
        return;
    }
    for finding in read.findings.iter().filter(|f| f.router.is_none()) {
        if matches!(finding.kind, FindingKind::LegacyLabel | FindingKind::MiddlewareInvalid) {
            table.notes.push(ProxyNote {
                host_id: 0,
                proxy: proxy_name.to_string(),
                proxy_id: Some(proxy.id.clone()),
                message: format!("{}: {}", container.display_name(), finding.message),
            });
        }
    }
    if let Exposure::Rejected { reason } = &read.exposure
        && read.routers.is_empty()
    {
        let mut route = Route::new(RouteKind::Traefik, Some(proxy));
        route.matches = "—".to_string();
        route.reach(container, None);
        route
            .break_with(format!("Traefik ignores {}'s labels: {reason}", container.display_name()));
        table.routes.push(route);
        return;
    }
    for router in &read.routers {
        let mut route = Route::new(RouteKind::Traefik, Some(proxy));
        route.name = Some(router.name.clone());
        let entrypoints: Vec<String> = if router.entrypoints.is_empty() {
            config.default_entrypoints().iter().map(|e| e.name.clone()).collect()
        } else {
            router.entrypoints.clone()
        };
        route.entrypoint =
            entrypoints.iter().map(|e| entry_text(proxy, config, e)).collect::<Vec<_>>().join(", ");
        let mut middlewares: Vec<String> = Vec::new();
        let mut tls = router.tls || router.cert_resolver.is_some();
        let mut resolver = router.cert_resolver.clone();
        for name in &entrypoints {
            if let Some(ep) = config.entrypoint(name) {
                middlewares.extend(ep.middlewares.iter().cloned());
                tls |= ep.tls;
                resolver = resolver.or_else(|| ep.cert_resolver.clone());
            }
        }
        middlewares.extend(router.middlewares.iter().cloned());
        route.middlewares = middlewares;
        if tls || router.tls_passthrough {
            route.tls = Some(match (&resolver, router.tls_passthrough) {
                (_, true) => "passthrough".to_string(),
                (Some(r), _) => r.clone(),
                (None, _) => "tls".to_string(),
            });
        }
        match &router.rule {
            Some(rule) => {
                route.rule = Some(rule.text.clone());
                match &rule.parsed {
                    Ok(parsed) => {
                        let hosts = parsed.hosts();
                        route.host = (!hosts.is_empty()).then(|| hosts.join(", "));
                        let mut paths = parsed.path_prefixes();
                        paths.iter_mut().for_each(|p| {
                            if !p.ends_with('*') {
                                p.push('*')
                            }
                        });
                        paths.extend(parsed.paths());
                        route.path = (!paths.is_empty()).then(|| paths.join(", "));
                        route.matches = parsed.describe();
                    }
                    Err(error) => {
                        route.matches = "rule does not parse".to_string();
                        let label = format!(
                            "traefik.{}.routers.{}.rule",
                            if router.protocol == Protocol::Tcp { "tcp" } else { "http" },
                            router.name
                        );
                        route.break_with(format!(
                            "rule does not parse: {error} (label `{label}={}`)",
                            rule.text
                        ));
                    }
                }
            }
            None => route.matches = "no rule".to_string(),
        }
        if router.protocol == Protocol::Tcp {
            route.matches = format!("TCP {}", route.matches);
        }
        // What this router's own findings and the checks across containers say.
        // A duplicate is reported once, on the second router; its message names both.
        let named_in = format!("`{}` ({})", router.name, read.container);
        let own = read.findings.iter().chain(findings).filter(|f| match f.kind {
            FindingKind::RuleSuspect => false,
            FindingKind::DuplicateRule => f.message.contains(&named_in),
            _ => f.router.as_deref() == Some(router.name.as_str()) && f.container == read.container,
        });
        for finding in own {
            route.break_with(finding.message.clone());
        }
        if let Exposure::Rejected { reason } = &read.exposure {
            route.break_with(format!(
                "Traefik ignores {}'s labels: {reason}",
                container.display_name()
            ));
        }
        // The target: the service's container, which may be another one.
        let service_name = router.service.clone();
        match service_name.as_deref() {
            Some(internal) if internal.ends_with("@internal") => {
                route.target = format!("{internal} (Traefik itself)");
                route.target_id = Some(proxy.id.clone());
                route.target_container = Some(proxy_name.to_string());
                route.target_name = Some(proxy.name.clone());
                route.target_state = Some(proxy.state_and_health());
            }
            Some(name) => {
                let owner = all
                    .iter()
                    .zip(members)
                    .find(|(r, _)| r.is_active() && r.service(router.protocol, name).is_some())
                    .or_else(|| {
                        all.iter()
                            .zip(members)
                            .find(|(r, _)| r.service(router.protocol, name).is_some())
                    });
                match owner {
                    Some((routes, target)) => {
                        let service = routes.service(router.protocol, name);
                        let port = service.and_then(|s| s.port);
                        route.reach(target, port);
                        if service.is_some_and(|s| s.scheme.as_deref() == Some("https")) {
                            route.target = format!("https://{}", route.target);
                        }
                        if !proxy.state.is_running() {
                            route.break_with(format!("{proxy_name} is not running"));
                        }
                        if let Some(problem) = network_problem(proxy, target) {
                            route.break_with(problem);
                        }
                        if let Some(problem) = target_problem(target, port, true) {
                            route.break_with(problem);
                        }
                        if let Some(network) = &routes.network
                            && !target.networks.iter().any(|n| &n.name == network)
                        {
                            route.note = Some(format!(
                                "Traefik's network `{network}` is not one of {}'s; it falls \
                                 back to the first network",
                                target.display_name()
                            ));
                        }
                        if port.is_none() {
                            route.break_with(format!(
                                "service `{name}` has no port: no port label and nothing exposed"
                            ));
                        }
                    }
                    None => {
                        route.target = format!("service {name} → nothing");
                        route.break_with(format!(
                            "router `{}` names service `{name}`, which no container defines",
                            router.name
                        ));
                    }
                }
            }
            None => {
                route.target = "no service".to_string();
                route.break_with(format!("router `{}` has no service", router.name));
            }
        }
        table.routes.push(route);
    }
}

/// Labelled containers with no Traefik on the host: their routes go nowhere.
fn orphans(labelled: &[&Container], table: &mut RouteTable) {
    for c in labelled {
        let enabled = c.labels.get("traefik.enable").and_then(|v| traefik_labels::parse_go_bool(v));
        if enabled == Some(false) {
            continue;
        }
        let read = traefik_labels::read_labels(
            &c.name,
            &c.labels,
            &exposed_ports(c),
            &traefik_labels::ProviderSettings::default(),
        );
        for router in read.routers.iter().filter(|r| !r.implicit) {
            let mut route = Route::new(RouteKind::Traefik, None);
            route.proxy = "(no Traefik)".to_string();
            route.name = Some(router.name.clone());
            route.rule = router.rule.as_ref().map(|r| r.text.clone());
            route.matches = router
                .parsed_rule()
                .map(|r| r.describe())
                .unwrap_or_else(|| "rule does not parse".to_string());
            route.host =
                router.parsed_rule().map(|r| r.hosts().join(", ")).filter(|h| !h.is_empty());
            let port = router
                .service
                .as_deref()
                .and_then(|s| read.service(router.protocol, s))
                .and_then(|s| s.port);
            route.reach(c, port);
            route.break_with("no Traefik container runs on this host to serve it");
            table.routes.push(route);
        }
    }
}

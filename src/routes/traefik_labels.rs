//! Traefik's dynamic configuration as its Docker provider reads it from container labels:
//! routers, services and middlewares, with the provider's implicit defaults applied, and
//! the problems that can be seen from labels alone.
//!
//! This module owns the label vocabulary (`traefik.enable`, `traefik.http.routers.*`,
//! `traefik.tcp.*`...) and the provider's rules for filling gaps (one implicit service,
//! one implicit router, the default rule, the lowest exposed port). It is pure: the
//! caller passes labels, the container name and its exposed ports, and joins the result
//! to live containers elsewhere. It does not decide whether a target is running, healthy
//! or reachable; that needs the engine's view.
//!
//! [`read_labels`] reads one container. [`cross_check`] looks across every container the
//! provider sees, because Traefik merges them into one namespace: a router may use a
//! service or middleware that another container defines, and two containers may claim
//! the same rule.

use std::collections::{BTreeMap, BTreeSet};

use super::traefik_rule::{self, Protocol, Rule, RuleError, RuleNote};
use super::traefik_static::StaticConfig;
pub use super::traefik_static::{DEFAULT_RULE, ProviderSettings, parse_go_bool};

/// Whether Traefik routes to a container at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exposure {
    /// Traefik builds routers and services from this container.
    Active,
    /// `traefik.enable` is false, or missing while `exposedByDefault` is false.
    NotEnabled { reason: String },
    /// Traefik refuses the container's labels as a whole (an option it does not know,
    /// a value of the wrong type, no port to reach it on); the findings say why.
    Rejected { reason: String },
}

/// Where a router's rule came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterRule {
    /// The text Traefik parses: the label value, or the evaluated default rule.
    pub text: String,
    /// True when the text is the provider's default rule, not a label.
    pub from_default: bool,
    pub parsed: Result<Rule, RuleError>,
    pub notes: Vec<RuleNote>,
}

/// One HTTP or TCP router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Router {
    pub name: String,
    pub protocol: Protocol,
    /// True when the provider created the router because the container defined none.
    pub implicit: bool,
    pub rule: Option<RouterRule>,
    /// Entry point names; empty means Traefik's default entry points.
    pub entrypoints: Vec<String>,
    pub middlewares: Vec<String>,
    /// The service the router sends to, from its label or assigned by the provider.
    pub service: Option<String>,
    /// True when the provider assigned the service (the router named none).
    pub service_implicit: bool,
    pub tls: bool,
    pub cert_resolver: Option<String>,
    pub tls_options: Option<String>,
    /// TCP only: TLS is passed through to the service, not terminated.
    pub tls_passthrough: bool,
    /// The `priority` label; `None` (or 0) means Traefik's default, the rule's length.
    pub priority: Option<i64>,
    /// The `ruleSyntax` label (v3 accepts `v2` rules per router with it).
    pub rule_syntax: Option<String>,
    /// Set when Traefik drops this router; the findings say why.
    pub dropped: bool,
}

impl Router {
    fn new(name: &str, protocol: Protocol) -> Router {
        Router {
            name: name.to_string(),
            protocol,
            implicit: false,
            rule: None,
            entrypoints: Vec::new(),
            middlewares: Vec::new(),
            service: None,
            service_implicit: false,
            tls: false,
            cert_resolver: None,
            tls_options: None,
            tls_passthrough: false,
            priority: None,
            rule_syntax: None,
            dropped: false,
        }
    }

    /// The priority Traefik sorts routers by: the label, or else the rule's length.
    pub fn effective_priority(&self) -> i64 {
        match self.priority {
            Some(p) if p != 0 => p,
            _ => self.rule.as_ref().map(|r| traefik_rule::default_priority(&r.text)).unwrap_or(0),
        }
    }

    /// The parsed rule, when there is one and it parses.
    pub fn parsed_rule(&self) -> Option<&Rule> {
        self.rule.as_ref().and_then(|r| r.parsed.as_ref().ok())
    }

    /// What Traefik compares when the same router name comes from several containers.
    fn definition(&self) -> impl PartialEq + '_ {
        (
            self.rule.as_ref().map(|r| &r.text),
            &self.entrypoints,
            &self.middlewares,
            &self.service,
            (self.tls, &self.cert_resolver, &self.tls_options, self.tls_passthrough),
            self.priority,
        )
    }
}

/// One load-balancer service of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub protocol: Protocol,
    /// True when the provider created it because the container defined none.
    pub implicit: bool,
    /// The port Traefik sends to: the port label, else the container's lowest exposed port.
    pub port: Option<u16>,
    /// True when `port` came from a `...loadbalancer.server.port` label.
    pub port_from_label: bool,
    /// `...loadbalancer.server.scheme` (`http` when absent).
    pub scheme: Option<String>,
    /// `weighted`, `mirroring` or `failover` services have no server of their own.
    pub kind: String,
}

/// One middleware a container defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Middleware {
    pub name: String,
    pub protocol: Protocol,
    /// The middleware type as written in the label, lower-cased: `ratelimit`, `headers`,
    /// `redirectscheme`... Several when the labels give more than one (Traefik refuses).
    pub kinds: Vec<String>,
    /// For a `chain`, the middlewares it runs.
    pub chain: Vec<String>,
    /// The option labels below the type, lower-cased key to value; compared when the
    /// same middleware name comes from several containers.
    pub options: BTreeMap<String, String>,
}

/// What kind of problem a finding is, so the caller can map it to a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// Traefik cannot decode the container's labels and ignores all of them.
    LabelsRejected,
    /// A router's rule does not parse.
    RuleInvalid,
    /// A rule parses but Traefik would refuse or misread it (single quotes, v2/v3
    /// syntax mix, a path without `/`, a matcher of the other protocol).
    RuleSuspect,
    /// A router has no rule and no default rule applies.
    NoRule,
    /// The default rule template could not be evaluated here.
    DefaultRuleUnreadable,
    /// A router names a service that no active container defines.
    MissingService,
    /// A router names a middleware that no active container defines.
    MissingMiddleware,
    /// A router names no service and the container defines several.
    TooManyServices,
    /// A service has no port: no port label and nothing exposed.
    NoPort,
    /// Two routers have the same rule and priority on a shared entry point.
    DuplicateRule,
    /// The same router or middleware name is defined differently on two containers.
    ConflictingDefinition,
    /// A router uses an entry point Traefik does not define.
    UnknownEntryPoint,
    /// A router uses a certificate resolver Traefik does not define.
    UnknownCertResolver,
    /// Traefik v1 labels (`traefik.frontend.rule`...), which v2 and v3 ignore.
    LegacyLabel,
    /// A middleware Traefik cannot build from its labels (several types in one).
    MiddlewareInvalid,
}

/// A problem seen from labels (and, for [`cross_check`], Traefik's static configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    /// The container whose labels show the problem.
    pub container: String,
    pub router: Option<String>,
    /// The label at fault, `key=value`, when one is.
    pub label: Option<String>,
    /// In words, for the operator.
    pub message: String,
}

/// Everything Traefik's Docker provider makes of one container's labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRoutes {
    pub container: String,
    /// The name the provider gives implicit routers and services: the compose service
    /// and project (`web-shop`), or else the container name, normalised.
    pub default_name: String,
    /// The `traefik.enable` label, when present and readable.
    pub enable_label: Option<bool>,
    pub exposure: Exposure,
    /// `traefik.docker.network`, else the provider's network setting.
    pub network: Option<String>,
    pub routers: Vec<Router>,
    pub services: Vec<Service>,
    pub middlewares: Vec<Middleware>,
    pub findings: Vec<Finding>,
}

impl ContainerRoutes {
    pub fn is_active(&self) -> bool {
        self.exposure == Exposure::Active
    }

    pub fn router(&self, protocol: Protocol, name: &str) -> Option<&Router> {
        self.routers.iter().find(|r| r.protocol == protocol && r.name == name)
    }

    pub fn service(&self, protocol: Protocol, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.protocol == protocol && s.name == name)
    }
}

/// Traefik's `normalize`: runs of anything but letters and digits become one `-`, and
/// leading or trailing runs go.
pub fn normalize(name: &str) -> String {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

const COMPOSE_PROJECT: &str = "com.docker.compose.project";
const COMPOSE_SERVICE: &str = "com.docker.compose.service";

/// The provider's name for a container's implicit router and service.
pub fn default_name(container: &str, labels: &BTreeMap<String, String>) -> String {
    match (labels.get(COMPOSE_SERVICE), labels.get(COMPOSE_PROJECT)) {
        (Some(service), Some(project)) => normalize(&format!("{service}_{project}")),
        _ => normalize(container),
    }
}

/// HTTP middleware types Traefik knows (lower-cased), v2 and v3.
const HTTP_MIDDLEWARES: &[&str] = &[
    "addprefix",
    "basicauth",
    "buffering",
    "chain",
    "circuitbreaker",
    "compress",
    "contenttype",
    "digestauth",
    "errors",
    "forwardauth",
    "grpcweb",
    "headers",
    "ipallowlist",
    "ipwhitelist",
    "inflightreq",
    "passtlsclientcert",
    "plugin",
    "ratelimit",
    "redirectregex",
    "redirectscheme",
    "replacepath",
    "replacepathregex",
    "retry",
    "stripprefix",
    "stripprefixregex",
];

const TCP_MIDDLEWARES: &[&str] = &["inflightconn", "ipallowlist", "ipwhitelist"];

/// Traefik v1 label roots, ignored since v2.
const V1_ROOTS: &[&str] =
    &["frontend", "frontends", "backend", "backends", "port", "protocol", "weight", "tags"];

/// Reads one container's Traefik labels and applies the Docker provider's defaults.
///
/// `container` is the container's name (a leading `/` is ignored); `exposed_ports` are
/// the ports it exposes or publishes, of which Traefik takes the lowest when a service
/// has no port label.
pub fn read_labels(
    container: &str,
    labels: &BTreeMap<String, String>,
    exposed_ports: &[u16],
    settings: &ProviderSettings,
) -> ContainerRoutes {
    let container = container.trim_start_matches('/');
    let mut reader = Reader {
        container: container.to_string(),
        routers: Vec::new(),
        services: Vec::new(),
        middlewares: Vec::new(),
        findings: Vec::new(),
        rejected: None,
        udp: false,
        enable: None,
        network: None,
        v1_labels: Vec::new(),
    };
    for (key, value) in labels {
        reader.label(key, value);
    }
    if !reader.v1_labels.is_empty() {
        let keys = reader.v1_labels.join(", ");
        reader.finding(
            FindingKind::LegacyLabel,
            None,
            None,
            format!("Traefik v1 labels ({keys}) are ignored by Traefik v2 and v3"),
        );
    }
    let enabled = reader.enable.unwrap_or(settings.exposed_by_default);
    let mut routes = ContainerRoutes {
        container: container.to_string(),
        default_name: default_name(container, labels),
        enable_label: reader.enable,
        exposure: Exposure::Active,
        network: reader.network.clone().or_else(|| settings.network.clone()),
        routers: Vec::new(),
        services: Vec::new(),
        middlewares: Vec::new(),
        findings: Vec::new(),
    };
    if !enabled {
        // Traefik filters on `traefik.enable` before it decodes anything else, so the
        // other labels of a disabled container cannot be wrong.
        reader.findings.clear();
        routes.exposure = Exposure::NotEnabled {
            reason: match reader.enable {
                Some(false) => "traefik.enable is false".to_string(),
                _ => "exposedByDefault is false and traefik.enable is not true".to_string(),
            },
        };
    } else if let Some(reason) = reader.rejected.clone() {
        routes.exposure = Exposure::Rejected { reason };
    } else {
        apply_defaults(
            &mut reader,
            &routes.default_name,
            container,
            labels,
            exposed_ports,
            settings,
        );
        if let Some(reason) = reader.rejected.clone() {
            routes.exposure = Exposure::Rejected { reason };
        }
    }
    if enabled {
        let invalid: Vec<String> = reader
            .middlewares
            .iter()
            .filter(|m| m.kinds.len() > 1)
            .map(|m| {
                format!(
                    "middleware `{}` has several types ({}); Traefik accepts one per middleware",
                    m.name,
                    m.kinds.join(", ")
                )
            })
            .collect();
        for message in invalid {
            reader.finding(FindingKind::MiddlewareInvalid, None, None, message);
        }
        let mut rule_findings = Vec::new();
        for router in &reader.routers {
            rule_findings.extend(rule_findings_for(router));
        }
        for (kind, router, label, message) in rule_findings {
            let label = label.as_ref().map(|(k, v)| (k.as_str(), v.as_str()));
            reader.finding(kind, Some(&router), label, message);
        }
    }
    routes.routers = reader.routers;
    routes.services = reader.services;
    routes.middlewares = reader.middlewares;
    routes.findings = reader.findings;
    routes
}

struct Reader {
    container: String,
    routers: Vec<Router>,
    services: Vec<Service>,
    middlewares: Vec<Middleware>,
    findings: Vec<Finding>,
    /// Why Traefik refuses the labels, if it does (the first reason).
    rejected: Option<String>,
    udp: bool,
    enable: Option<bool>,
    network: Option<String>,
    v1_labels: Vec<String>,
}

impl Reader {
    fn finding(
        &mut self,
        kind: FindingKind,
        router: Option<&str>,
        label: Option<(&str, &str)>,
        message: String,
    ) {
        self.findings.push(Finding {
            kind,
            container: self.container.clone(),
            router: router.map(str::to_string),
            label: label.map(|(k, v)| format!("{k}={v}")),
            message,
        });
    }

    /// Traefik refuses the whole container's labels when one of them does not decode.
    fn reject(&mut self, key: &str, value: &str, why: String) {
        let message = format!("Traefik cannot read `{key}` ({why}) and ignores this container");
        if self.rejected.is_none() {
            self.rejected = Some(format!("`{key}`: {why}"));
        }
        self.finding(FindingKind::LabelsRejected, None, Some((key, value)), message);
    }

    fn label(&mut self, key: &str, value: &str) {
        let parts: Vec<&str> = key.split('.').collect();
        let lower: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
        let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
        match lower.as_slice() {
            ["traefik", "enable"] => match parse_go_bool(value) {
                Some(enable) => self.enable = Some(enable),
                None => self.reject(key, value, format!("`{value}` is not true or false")),
            },
            ["traefik", "docker", "network"] => self.network = Some(value.trim().to_string()),
            ["traefik", "docker", ..] => {}
            ["traefik", "http" | "tcp" | "udp", ..] => self.dynamic(key, value, &parts, &lower),
            ["traefik", root, ..] if V1_ROOTS.contains(root) => {
                self.v1_labels.push(key.to_string())
            }
            _ => {}
        }
    }

    fn dynamic(&mut self, key: &str, value: &str, parts: &[&str], lower: &[&str]) {
        let protocol = match lower.get(1) {
            Some(&"http") => Protocol::Http,
            Some(&"tcp") => Protocol::Tcp,
            _ => {
                self.udp = true;
                return;
            }
        };
        let (Some(section), Some(name)) = (lower.get(2), parts.get(3)) else {
            return;
        };
        let rest = lower.get(4..).unwrap_or(&[]);
        if name.is_empty() {
            self.reject(key, value, "empty name".to_string());
            return;
        }
        match *section {
            "routers" => self.router_option(protocol, name, rest, key, value),
            "services" => self.service_option(protocol, name, rest, key, value),
            "middlewares" => self.middleware_option(protocol, name, rest, key, value),
            "serverstransports" => {}
            other => {
                let hint = if other == "router" || other == "service" || other == "middleware" {
                    format!(" (did you mean `{other}s`?)")
                } else {
                    String::new()
                };
                self.reject(key, value, format!("no section `{other}`{hint}"));
            }
        }
    }

    fn router_mut(&mut self, protocol: Protocol, name: &str) -> &mut Router {
        let index = match self.routers.iter().position(|r| r.protocol == protocol && r.name == name)
        {
            Some(index) => index,
            None => {
                self.routers.push(Router::new(name, protocol));
                self.routers.len() - 1
            }
        };
        &mut self.routers[index]
    }

    fn router_option(
        &mut self,
        protocol: Protocol,
        name: &str,
        rest: &[&str],
        key: &str,
        value: &str,
    ) {
        let option = rest.join(".");
        let list = || value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        match option.as_str() {
            "" => {
                self.router_mut(protocol, name);
            }
            "rule" => {
                let text = value.to_string();
                let router = self.router_mut(protocol, name);
                router.rule = Some(rule_from_text(text, false));
            }
            "rulesyntax" => self.router_mut(protocol, name).rule_syntax = Some(value.to_string()),
            "entrypoints" => self.router_mut(protocol, name).entrypoints = list().collect(),
            "middlewares" => self.router_mut(protocol, name).middlewares = list().collect(),
            "service" => {
                let service = value.trim().to_string();
                self.router_mut(protocol, name).service =
                    if service.is_empty() { None } else { Some(service) };
            }
            "priority" => match value.trim().parse::<i64>() {
                Ok(priority) => self.router_mut(protocol, name).priority = Some(priority),
                Err(_) => self.reject(key, value, format!("`{value}` is not a whole number")),
            },
            "tls" => match parse_go_bool(value) {
                Some(tls) => {
                    let router = self.router_mut(protocol, name);
                    router.tls = router.tls || tls;
                }
                None => self.reject(key, value, format!("`{value}` is not true or false")),
            },
            "tls.certresolver" => {
                let router = self.router_mut(protocol, name);
                router.tls = true;
                router.cert_resolver = Some(value.trim().to_string());
            }
            "tls.options" => {
                let router = self.router_mut(protocol, name);
                router.tls = true;
                router.tls_options = Some(value.trim().to_string());
            }
            "tls.passthrough" if protocol == Protocol::Tcp => match parse_go_bool(value) {
                Some(passthrough) => {
                    let router = self.router_mut(protocol, name);
                    router.tls = true;
                    router.tls_passthrough = passthrough;
                }
                None => self.reject(key, value, format!("`{value}` is not true or false")),
            },
            o if o.starts_with("tls.domains[") => self.router_mut(protocol, name).tls = true,
            o if o.starts_with("observability.") && protocol == Protocol::Http => {
                self.router_mut(protocol, name);
            }
            other => {
                let known: &[&str] = &["rule", "entrypoints", "middlewares", "service", "priority"];
                let hint = known
                    .iter()
                    .find(|k| other.len() + 1 == k.len() && k.starts_with(other))
                    .map(|k| format!(" (did you mean `{k}`?)"))
                    .unwrap_or_default();
                let what = if protocol == Protocol::Http { "router" } else { "TCP router" };
                self.reject(key, value, format!("no {what} option `{other}`{hint}"));
            }
        }
    }

    fn service_option(
        &mut self,
        protocol: Protocol,
        name: &str,
        rest: &[&str],
        key: &str,
        value: &str,
    ) {
        let Some(kind) = rest.first() else {
            return;
        };
        if !matches!(*kind, "loadbalancer" | "weighted" | "mirroring" | "failover") {
            self.reject(key, value, format!("no service type `{kind}`"));
            return;
        }
        let index =
            match self.services.iter().position(|s| s.protocol == protocol && s.name == name) {
                Some(index) => index,
                None => {
                    self.services.push(Service {
                        name: name.to_string(),
                        protocol,
                        implicit: false,
                        port: None,
                        port_from_label: false,
                        scheme: None,
                        kind: kind.to_string(),
                    });
                    self.services.len() - 1
                }
            };
        match rest.get(1..).unwrap_or(&[]) {
            ["server", "port"] => match value.trim().parse::<u16>() {
                Ok(port) if port > 0 => {
                    self.services[index].port = Some(port);
                    self.services[index].port_from_label = true;
                }
                _ => {
                    let message = format!(
                        "service `{name}` has port `{value}`, which is not a port number: \
                         Traefik cannot reach it"
                    );
                    self.finding(FindingKind::NoPort, None, Some((key, value)), message);
                    self.services[index].port_from_label = true;
                }
            },
            ["server", "scheme"] => self.services[index].scheme = Some(value.trim().to_string()),
            _ => {}
        }
    }

    fn middleware_option(
        &mut self,
        protocol: Protocol,
        name: &str,
        rest: &[&str],
        key: &str,
        value: &str,
    ) {
        let Some(kind) = rest.first() else {
            return;
        };
        let known = match protocol {
            Protocol::Http => HTTP_MIDDLEWARES,
            Protocol::Tcp => TCP_MIDDLEWARES,
        };
        if !known.contains(kind) {
            self.reject(key, value, format!("no middleware type `{kind}`"));
            return;
        }
        let index =
            match self.middlewares.iter().position(|m| m.protocol == protocol && m.name == name) {
                Some(index) => index,
                None => {
                    self.middlewares.push(Middleware {
                        name: name.to_string(),
                        protocol,
                        kinds: Vec::new(),
                        chain: Vec::new(),
                        options: BTreeMap::new(),
                    });
                    self.middlewares.len() - 1
                }
            };
        let middleware = &mut self.middlewares[index];
        if !middleware.kinds.iter().any(|k| k == kind) {
            middleware.kinds.push(kind.to_string());
        }
        let option = rest.join(".");
        if option == "chain.middlewares" {
            middleware.chain = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        }
        middleware.options.insert(option, value.to_string());
    }
}

fn rule_from_text(text: String, from_default: bool) -> RouterRule {
    match traefik_rule::parse_with_notes(&text) {
        Ok((rule, notes)) => RouterRule { text, from_default, parsed: Ok(rule), notes },
        Err(err) => RouterRule { text, from_default, parsed: Err(err), notes: Vec::new() },
    }
}

/// The Docker provider's gap filling, in Traefik's order: TCP services and routers,
/// then (unless the container is TCP/UDP only) HTTP services, then HTTP routers.
fn apply_defaults(
    reader: &mut Reader,
    default_name: &str,
    container: &str,
    labels: &BTreeMap<String, String>,
    exposed_ports: &[u16],
    settings: &ProviderSettings,
) {
    let lowest_exposed = exposed_ports.iter().copied().filter(|p| *p > 0).min();
    let has = |reader: &Reader, p: Protocol| {
        reader.routers.iter().any(|r| r.protocol == p)
            || reader.services.iter().any(|s| s.protocol == p)
    };
    let tcp = has(reader, Protocol::Tcp);
    let http = has(reader, Protocol::Http)
        || reader.middlewares.iter().any(|m| m.protocol == Protocol::Http);
    if tcp {
        fill_services(reader, Protocol::Tcp, default_name, lowest_exposed);
        if reader.rejected.is_some() {
            return;
        }
        fill_routers(reader, Protocol::Tcp, None);
    }
    if (tcp || reader.udp) && !http {
        return;
    }
    fill_services(reader, Protocol::Http, default_name, lowest_exposed);
    if reader.rejected.is_some() {
        // Traefik stops at the first service without a port; it builds no routers.
        return;
    }
    let http_routers = reader.routers.iter().filter(|r| r.protocol == Protocol::Http).count();
    let http_services = reader.services.iter().filter(|s| s.protocol == Protocol::Http).count();
    if http_routers == 0 {
        if http_services > 1 {
            reader.finding(
                FindingKind::TooManyServices,
                None,
                None,
                format!(
                    "no router: the container defines {http_services} services and no router, \
                     so Traefik creates none"
                ),
            );
        } else {
            let mut router = Router::new(default_name, Protocol::Http);
            router.implicit = true;
            reader.routers.push(router);
        }
    }
    let default_rule = settings
        .default_rule
        .as_deref()
        .map(|template| evaluate_default_rule(template, default_name, container, labels));
    fill_routers(reader, Protocol::Http, default_rule);
}

fn fill_services(
    reader: &mut Reader,
    protocol: Protocol,
    default_name: &str,
    lowest_exposed: Option<u16>,
) {
    if !reader.services.iter().any(|s| s.protocol == protocol) {
        reader.services.push(Service {
            name: default_name.to_string(),
            protocol,
            implicit: true,
            port: None,
            port_from_label: false,
            scheme: None,
            kind: "loadbalancer".to_string(),
        });
    }
    let mut missing = Vec::new();
    let mut not_lb = Vec::new();
    for service in reader.services.iter_mut().filter(|s| s.protocol == protocol) {
        if service.kind != "loadbalancer" {
            not_lb.push((service.name.clone(), service.kind.clone()));
            continue;
        }
        if service.port_from_label {
            continue;
        }
        service.port = lowest_exposed;
        if service.port.is_none() {
            missing.push(service.name.clone());
        }
    }
    for (name, kind) in not_lb {
        // The provider gives every service of a container a server; only load balancers
        // have one, so any other type makes it give up on the container.
        let message = format!(
            "service `{name}` is a `{kind}` service, which the Docker provider cannot fill \
             with this container, so Traefik ignores this container"
        );
        if reader.rejected.is_none() {
            reader.rejected = Some(format!("service `{name}` is not a load balancer"));
        }
        reader.finding(FindingKind::LabelsRejected, None, None, message);
    }
    for name in missing {
        let message = format!(
            "service `{name}` has no port: no `loadbalancer.server.port` label and the container \
             exposes none, so Traefik ignores this container"
        );
        if reader.rejected.is_none() {
            reader.rejected = Some(format!("service `{name}` has no port"));
        }
        reader.finding(FindingKind::NoPort, None, None, message);
    }
}

fn fill_routers(
    reader: &mut Reader,
    protocol: Protocol,
    default_rule: Option<Result<String, String>>,
) {
    let services: Vec<String> =
        reader.services.iter().filter(|s| s.protocol == protocol).map(|s| s.name.clone()).collect();
    let mut findings = Vec::new();
    for router in reader.routers.iter_mut().filter(|r| r.protocol == protocol) {
        if router.rule.is_none() {
            match (&default_rule, protocol) {
                (Some(Ok(text)), Protocol::Http) if !text.is_empty() => {
                    router.rule = Some(rule_from_text(text.clone(), true));
                }
                (Some(Err(why)), Protocol::Http) => {
                    findings.push((
                        FindingKind::DefaultRuleUnreadable,
                        router.name.clone(),
                        format!("router `{}` has no rule and the default rule {why}", router.name),
                    ));
                }
                _ => {
                    router.dropped = true;
                    findings.push((
                        FindingKind::NoRule,
                        router.name.clone(),
                        format!("router `{}` has no rule, so Traefik drops it", router.name),
                    ));
                    continue;
                }
            }
        }
        if router.service.is_none() {
            if let [only] = services.as_slice() {
                router.service = Some(only.clone());
                router.service_implicit = true;
            } else {
                router.dropped = true;
                findings.push((
                    FindingKind::TooManyServices,
                    router.name.clone(),
                    format!(
                        "router `{}` names no service and the container defines {}, so Traefik \
                         drops it",
                        router.name,
                        services.join(", ")
                    ),
                ));
            }
        }
    }
    for (kind, router, message) in findings {
        reader.finding(kind, Some(&router), None, message);
    }
}

type RuleFinding = (FindingKind, String, Option<(String, String)>, String);

fn rule_findings_for(router: &Router) -> Vec<RuleFinding> {
    let Some(rule) = &router.rule else {
        return Vec::new();
    };
    let section = if router.protocol == Protocol::Http { "http" } else { "tcp" };
    let label = (!rule.from_default)
        .then(|| (format!("traefik.{section}.routers.{}.rule", router.name), rule.text.clone()));
    let source = if rule.from_default { "default rule" } else { "rule" };
    let mut out = Vec::new();
    let mut suspect = |message: String| {
        out.push((FindingKind::RuleSuspect, router.name.clone(), label.clone(), message));
    };
    match &rule.parsed {
        Err(err) => {
            let message =
                format!("router `{}`: {source} `{}` does not parse: {err}", router.name, rule.text);
            return vec![(FindingKind::RuleInvalid, router.name.clone(), label, message)];
        }
        Ok(parsed) => {
            for note in &rule.notes {
                suspect(format!("router `{}`: {}", router.name, note.message));
            }
            let foreign = parsed.foreign_matchers(router.protocol);
            if !foreign.is_empty() {
                let names: Vec<&str> = foreign.iter().map(|k| k.name()).collect();
                let what = if router.protocol == Protocol::Http { "an HTTP" } else { "a TCP" };
                suspect(format!(
                    "router `{}`: {} cannot be used in {what} rule",
                    router.name,
                    names.join(", ")
                ));
            }
            let v2_declared =
                router.rule_syntax.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("v2"));
            match parsed.syntax() {
                traefik_rule::Syntax::Neither => suspect(format!(
                    "router `{}`: the rule mixes v2-only and v3-only matchers; no Traefik \
                     version accepts it",
                    router.name
                )),
                traefik_rule::Syntax::V2 if !v2_declared => suspect(format!(
                    "router `{}`: the rule uses v2 syntax, which Traefik v3 rejects unless the \
                     router sets ruleSyntax=v2",
                    router.name
                )),
                _ => {}
            }
        }
    }
    out
}

/// Evaluates the common forms of a `defaultRule` Go template: `{{ .Name }}`,
/// `{{ .ContainerName }}`, `{{ index .Labels "key" }}`, and the functions `normalize`,
/// `lower` and `upper`, called or piped. Anything else is reported, not guessed.
pub fn evaluate_default_rule(
    template: &str,
    default_name: &str,
    container: &str,
    labels: &BTreeMap<String, String>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(rest.get(..start).unwrap_or(""));
        let after = rest.get(start + 2..).unwrap_or("");
        let Some(end) = after.find("}}") else {
            return Err(format!("template `{template}` has an unclosed `{{{{`"));
        };
        let action = after.get(..end).unwrap_or("");
        let action = action.strip_prefix('-').unwrap_or(action);
        let action = action.strip_suffix('-').unwrap_or(action);
        let tokens = template_tokens(action)
            .ok_or_else(|| format!("template `{template}` has an unclosed string"))?;
        let model = TemplateModel { name: default_name, container, labels };
        let value = model.pipeline(&tokens).ok_or_else(|| {
            format!(
                "template `{template}` uses `{}`, which portolan cannot evaluate",
                action.trim()
            )
        })?;
        out.push_str(&value);
        rest = after.get(end + 2..).unwrap_or("");
    }
    out.push_str(rest);
    Ok(out)
}

fn template_tokens(action: &str) -> Option<Vec<String>> {
    let mut tokens = Vec::new();
    let mut chars = action.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '|' => {
                tokens.push(c.to_string());
                chars.next();
            }
            '"' | '`' => {
                chars.next();
                let mut text = String::from(c);
                loop {
                    let next = chars.next()?;
                    if next == '\\' && c == '"' {
                        text.push(chars.next()?);
                        continue;
                    }
                    if next == c {
                        break;
                    }
                    text.push(next);
                }
                tokens.push(text);
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '|' | '"' | '`') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(word);
            }
        }
    }
    Some(tokens)
}

struct TemplateModel<'a> {
    name: &'a str,
    container: &'a str,
    labels: &'a BTreeMap<String, String>,
}

impl TemplateModel<'_> {
    /// `cmd | fn | fn`: each stage gets the previous value as its last argument.
    fn pipeline(&self, tokens: &[String]) -> Option<String> {
        let mut value: Option<String> = None;
        for stage in tokens.split(|t| t == "|") {
            let mut args: Vec<Value> = self.arguments(stage)?;
            if let Some(piped) = value.take() {
                args.push(Value::Text(piped));
            }
            value = Some(self.call(args)?);
        }
        value
    }

    fn arguments(&self, tokens: &[String]) -> Option<Vec<Value>> {
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(token) = tokens.get(i) {
            if token == "(" {
                let mut depth = 0usize;
                let mut end = i;
                for (j, t) in tokens.iter().enumerate().skip(i) {
                    match t.as_str() {
                        "(" => depth += 1,
                        ")" => {
                            depth = depth.checked_sub(1)?;
                            if depth == 0 {
                                end = j;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                if depth != 0 {
                    return None;
                }
                out.push(Value::Text(self.pipeline(tokens.get(i + 1..end)?)?));
                i = end + 1;
                continue;
            }
            out.push(match token.as_str() {
                ".Name" => Value::Text(self.name.to_string()),
                ".ContainerName" => Value::Text(self.container.to_string()),
                ".Labels" => Value::Labels,
                t if t.starts_with('"') || t.starts_with('`') => {
                    Value::Text(t.get(1..).unwrap_or("").to_string())
                }
                t => Value::Func(t.to_string()),
            });
            i += 1;
        }
        Some(out)
    }

    fn call(&self, args: Vec<Value>) -> Option<String> {
        match args.as_slice() {
            [Value::Text(text)] => Some(text.clone()),
            [Value::Func(f), Value::Text(text)] => match f.as_str() {
                "normalize" => Some(normalize(text)),
                "lower" => Some(text.to_lowercase()),
                "upper" => Some(text.to_uppercase()),
                _ => None,
            },
            [Value::Func(f), Value::Labels, Value::Text(key)] if f == "index" => {
                Some(self.labels.get(key).cloned().unwrap_or_default())
            }
            _ => None,
        }
    }
}

enum Value {
    Text(String),
    Labels,
    Func(String),
}

/// Finds what only shows across containers: routers and middlewares that name something
/// no active container defines, routers defined differently on two containers, routers
/// that claim the same requests, and (given Traefik's static configuration) entry points
/// and certificate resolvers that do not exist. `containers` should be every container
/// the Docker provider sees; inactive ones define nothing.
pub fn cross_check(containers: &[ContainerRoutes], traefik: Option<&StaticConfig>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let active: Vec<&ContainerRoutes> = containers.iter().filter(|c| c.is_active()).collect();
    let finding = |kind, container: &str, router: Option<&str>, message: String| Finding {
        kind,
        container: container.to_string(),
        router: router.map(str::to_string),
        label: None,
        message,
    };

    let mut services: BTreeSet<(Protocol, &str)> = BTreeSet::new();
    let mut middlewares: BTreeSet<(Protocol, &str)> = BTreeSet::new();
    for c in &active {
        services.extend(c.services.iter().map(|s| (s.protocol, s.name.as_str())));
        middlewares.extend(c.middlewares.iter().map(|m| (m.protocol, m.name.as_str())));
    }
    let inactive_defines = |protocol: Protocol, name: &str, service: bool| {
        containers.iter().filter(|c| !c.is_active()).find(|c| {
            if service {
                c.service(protocol, name).is_some()
            } else {
                c.middlewares.iter().any(|m| m.protocol == protocol && m.name == name)
            }
        })
    };

    // Routers and middlewares defined on several containers must agree.
    let mut seen_routers: BTreeMap<(Protocol, &str), &ContainerRoutes> = BTreeMap::new();
    let mut seen_middlewares: BTreeMap<(Protocol, &str), (&ContainerRoutes, &Middleware)> =
        BTreeMap::new();
    let mut conflicting: BTreeSet<(Protocol, &str)> = BTreeSet::new();
    for c in &active {
        for router in c.routers.iter().filter(|r| !r.dropped) {
            let key = (router.protocol, router.name.as_str());
            match seen_routers.get(&key) {
                None => {
                    seen_routers.insert(key, c);
                }
                Some(first) => {
                    let same = first
                        .router(router.protocol, &router.name)
                        .is_some_and(|r| r.definition() == router.definition());
                    if !same && conflicting.insert(key) {
                        findings.push(finding(
                            FindingKind::ConflictingDefinition,
                            &c.container,
                            Some(&router.name),
                            format!(
                                "router `{}` is defined differently on {} and {}, so Traefik \
                                 drops it",
                                router.name, first.container, c.container
                            ),
                        ));
                    }
                }
            }
        }
        for m in &c.middlewares {
            let key = (m.protocol, m.name.as_str());
            match seen_middlewares.get(&key) {
                None => {
                    seen_middlewares.insert(key, (c, m));
                }
                Some((first, first_m)) => {
                    if (&first_m.kinds, &first_m.options) != (&m.kinds, &m.options) {
                        findings.push(finding(
                            FindingKind::ConflictingDefinition,
                            &c.container,
                            None,
                            format!(
                                "middleware `{}` is defined differently on {} and {}, so \
                                 Traefik drops it",
                                m.name, first.container, c.container
                            ),
                        ));
                    }
                }
            }
        }
    }

    // References.
    for c in &active {
        for router in c.routers.iter().filter(|r| !r.dropped) {
            if let Some(service) = &router.service
                && !service.contains('@')
                && !services.contains(&(router.protocol, service))
            {
                let elsewhere = inactive_defines(router.protocol, service, true)
                    .map(|o| format!(" (only {}, which Traefik ignores, defines it)", o.container))
                    .unwrap_or_default();
                findings.push(finding(
                    FindingKind::MissingService,
                    &c.container,
                    Some(&router.name),
                    format!(
                        "router `{}` uses service `{service}`, which no container defines{elsewhere}",
                        router.name
                    ),
                ));
            }
            for m in &router.middlewares {
                if !m.contains('@') && !middlewares.contains(&(router.protocol, m)) {
                    let elsewhere = inactive_defines(router.protocol, m, false)
                        .map(|o| {
                            format!(" (only {}, which Traefik ignores, defines it)", o.container)
                        })
                        .unwrap_or_default();
                    findings.push(finding(
                        FindingKind::MissingMiddleware,
                        &c.container,
                        Some(&router.name),
                        format!(
                            "router `{}` uses middleware `{m}`, which no container defines{elsewhere}",
                            router.name
                        ),
                    ));
                }
            }
        }
        for m in &c.middlewares {
            for member in &m.chain {
                if !member.contains('@') && !middlewares.contains(&(m.protocol, member)) {
                    findings.push(finding(
                        FindingKind::MissingMiddleware,
                        &c.container,
                        None,
                        format!(
                            "chain middleware `{}` runs `{member}`, which no container defines",
                            m.name
                        ),
                    ));
                }
            }
        }
    }

    // Same rule, same priority, overlapping entry points.
    let mut candidates: Vec<(&ContainerRoutes, &Router, Rule)> = Vec::new();
    for c in &active {
        for router in c.routers.iter().filter(|r| !r.dropped) {
            if let Some(rule) = router.parsed_rule() {
                candidates.push((c, router, rule.normalized()));
            }
        }
    }
    let mut reported: BTreeSet<(Protocol, &str, &str)> = BTreeSet::new();
    for (i, (ca, a, rule_a)) in candidates.iter().enumerate() {
        for (cb, b, rule_b) in candidates.iter().skip(i + 1) {
            if a.protocol != b.protocol
                || a.name == b.name
                || rule_a != rule_b
                || a.effective_priority() != b.effective_priority()
                || !entrypoints_overlap(&a.entrypoints, &b.entrypoints)
            {
                continue;
            }
            let (first, second) =
                if a.name <= b.name { (&a.name, &b.name) } else { (&b.name, &a.name) };
            if !reported.insert((a.protocol, first.as_str(), second.as_str())) {
                continue;
            }
            let text = a.rule.as_ref().map(|r| r.text.as_str()).unwrap_or_default();
            findings.push(finding(
                FindingKind::DuplicateRule,
                &cb.container,
                Some(&b.name),
                format!(
                    "routers `{}` ({}) and `{}` ({}) have the same rule `{text}` and priority \
                     {}: Traefik sends each request to only one of them, and which one is not \
                     defined",
                    a.name,
                    ca.container,
                    b.name,
                    cb.container,
                    a.effective_priority()
                ),
            ));
        }
    }

    if let Some(traefik) = traefik.filter(|t| t.is_known()) {
        for c in &active {
            for router in c.routers.iter().filter(|r| !r.dropped) {
                for ep in &router.entrypoints {
                    if traefik.entrypoint(ep).is_none() {
                        findings.push(finding(
                            FindingKind::UnknownEntryPoint,
                            &c.container,
                            Some(&router.name),
                            format!(
                                "router `{}` listens on entry point `{ep}`, which Traefik does \
                                 not define (it has {})",
                                router.name,
                                traefik.entrypoint_names().join(", ")
                            ),
                        ));
                    }
                }
                if let Some(resolver) = &router.cert_resolver
                    && traefik.cert_resolver(resolver).is_none()
                {
                    findings.push(finding(
                        FindingKind::UnknownCertResolver,
                        &c.container,
                        Some(&router.name),
                        format!(
                            "router `{}` asks certificate resolver `{resolver}`, which \
                             Traefik does not define",
                            router.name
                        ),
                    ));
                }
            }
        }
    }
    findings
}

/// Routers with no entry points listen on all default ones, so they overlap with any.
fn entrypoints_overlap(a: &[String], b: &[String]) -> bool {
    a.is_empty() || b.is_empty() || a.iter().any(|x| b.iter().any(|y| x.eq_ignore_ascii_case(y)))
}

#[cfg(test)]
mod tests;

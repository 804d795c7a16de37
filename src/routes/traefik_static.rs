//! Traefik's static configuration as far as routes need it: entry points and their ports,
//! HTTP-to-HTTPS redirections, the Docker provider's options, the API dashboard and the
//! certificate resolvers.
//!
//! This module owns reading that configuration from the Traefik container's
//! command-line arguments, its `TRAEFIK_*` environment, or its `traefik.yml` /
//! `traefik.toml` text. Each source is flattened to the same dotted keys and read by one
//! function, so the three agree. It is pure; fetching the container's args, environment
//! or file is the engine's job.
//!
//! Traefik uses exactly one source: a configuration file if one is named (`--configFile`)
//! or found in its default places ([`DEFAULT_CONFIG_FILES`], then the same names under
//! `$XDG_CONFIG_HOME/`, `$HOME/.config/` and the working directory), else the arguments,
//! else the environment. A file found there wins even over arguments, so the caller
//! looks for one first (through the archive endpoint) and reads it with [`from_yaml`] or
//! [`from_toml`]; [`from_container`] follows the rest of the order.

use std::collections::BTreeMap;

/// Where Traefik looks for its configuration file before anything else, in order.
pub const DEFAULT_CONFIG_FILES: &[&str] =
    &["/etc/traefik/traefik.toml", "/etc/traefik/traefik.yaml", "/etc/traefik/traefik.yml"];

/// Traefik's `providers.docker.defaultRule` when none is configured.
pub const DEFAULT_RULE: &str = "Host(`{{ normalize .Name }}`)";

/// The Docker provider options that change how labels are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// `providers.docker.exposedByDefault`: whether containers without
    /// `traefik.enable=true` are routed.
    pub exposed_by_default: bool,
    /// `providers.docker.defaultRule`, a Go template; `None` when routers without a rule
    /// get none.
    pub default_rule: Option<String>,
    /// `providers.docker.network`: the network Traefik reaches containers on, unless a
    /// container's `traefik.docker.network` label says otherwise.
    pub network: Option<String>,
}

impl Default for ProviderSettings {
    fn default() -> Self {
        ProviderSettings {
            exposed_by_default: true,
            default_rule: Some(DEFAULT_RULE.to_string()),
            network: None,
        }
    }
}

/// Go's `strconv.ParseBool`, which Traefik uses for every boolean label.
pub fn parse_go_bool(value: &str) -> Option<bool> {
    match value.trim() {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Where a [`StaticConfig`] was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaticSource {
    Arguments,
    Environment,
    /// A configuration file's text, by its name.
    File(String),
    /// The arguments name a configuration file (`--configFile`), which Traefik reads
    /// instead of them; its text is needed to know the configuration.
    FileNotRead(String),
    /// No arguments and no `TRAEFIK_*` environment: Traefik's defaults, unless a
    /// `traefik.yml` or `traefik.toml` sits in `/etc/traefik/`, `$HOME/.config/` or the
    /// working directory.
    Defaults,
}

/// One entry point: a named address Traefik listens on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPoint {
    pub name: String,
    /// As written: `:443`, `0.0.0.0:80`, `[::]:8443/tcp`.
    pub address: String,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub udp: bool,
    /// True when Traefik creates it itself (`http` on :80 when none is configured,
    /// `traefik` on :8080 for the insecure API).
    pub implicit: bool,
    /// v3 `asDefault`: routers without entry points attach to these only.
    pub as_default: bool,
    /// `http.redirections.entryPoint.to`: every request is redirected there.
    pub redirect_to: Option<String>,
    pub redirect_scheme: Option<String>,
    /// `http.tls`: routers on this entry point terminate TLS by default.
    pub tls: bool,
    pub cert_resolver: Option<String>,
    /// `http.middlewares`: applied to every router on this entry point.
    pub middlewares: Vec<String>,
}

impl EntryPoint {
    fn new(name: &str) -> EntryPoint {
        EntryPoint {
            name: name.to_string(),
            address: String::new(),
            host: None,
            port: None,
            udp: false,
            implicit: false,
            as_default: false,
            redirect_to: None,
            redirect_scheme: None,
            tls: false,
            cert_resolver: None,
            middlewares: Vec::new(),
        }
    }

    fn set_address(&mut self, address: &str) {
        self.address = address.trim().to_string();
        let (hostport, proto) = match self.address.rsplit_once('/') {
            Some((hostport, proto)) => (hostport, proto),
            None => (self.address.as_str(), "tcp"),
        };
        self.udp = proto.eq_ignore_ascii_case("udp");
        let (host, port) = match hostport.rsplit_once(':') {
            Some((host, port)) => (host, port),
            None => ("", hostport),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.host = (!host.is_empty()).then(|| host.to_string());
        self.port = port.parse().ok();
    }
}

/// How an ACME certificate resolver proves control of a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    TlsAlpn,
    Http { entrypoint: Option<String> },
    Dns { provider: Option<String> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertResolver {
    pub name: String,
    pub email: Option<String>,
    pub storage: Option<String>,
    pub ca_server: Option<String>,
    pub challenges: Vec<Challenge>,
}

#[derive(Default)]
struct ResolverBuilder {
    email: Option<String>,
    storage: Option<String>,
    ca_server: Option<String>,
    tls: bool,
    http: Option<Option<String>>,
    dns: Option<Option<String>>,
}

impl ResolverBuilder {
    fn build(self, name: String) -> CertResolver {
        let mut challenges = Vec::new();
        if self.tls {
            challenges.push(Challenge::TlsAlpn);
        }
        if let Some(entrypoint) = self.http {
            challenges.push(Challenge::Http { entrypoint });
        }
        if let Some(provider) = self.dns {
            challenges.push(Challenge::Dns { provider });
        }
        CertResolver {
            name,
            email: self.email,
            storage: self.storage,
            ca_server: self.ca_server,
            challenges,
        }
    }
}

/// The Docker provider's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerProvider {
    pub exposed_by_default: bool,
    pub network: Option<String>,
    /// `None` means Traefik's default rule.
    pub default_rule: Option<String>,
    pub endpoint: Option<String>,
    pub constraints: Option<String>,
    /// Configured as `providers.swarm` (v3) or `providers.docker.swarmMode` (v2).
    pub swarm: bool,
}

impl Default for DockerProvider {
    fn default() -> Self {
        DockerProvider {
            exposed_by_default: true,
            network: None,
            default_rule: None,
            endpoint: None,
            constraints: None,
            swarm: false,
        }
    }
}

impl DockerProvider {
    /// The options [`read_labels`](super::traefik_labels::read_labels) needs.
    pub fn settings(&self) -> ProviderSettings {
        let defaults = ProviderSettings::default();
        ProviderSettings {
            exposed_by_default: self.exposed_by_default,
            default_rule: self.default_rule.clone().or(defaults.default_rule),
            network: self.network.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Api {
    pub dashboard: bool,
    /// The API and dashboard served on the `traefik` entry point without a router.
    pub insecure: bool,
}

/// What Traefik's static configuration says about routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticConfig {
    pub source: StaticSource,
    /// Entry points, configured and implicit, in name order.
    pub entrypoints: Vec<EntryPoint>,
    /// `None` when the Docker provider is not enabled.
    pub docker: Option<DockerProvider>,
    /// The file provider's directory or file, where `@file` middlewares live.
    pub file_provider: Option<String>,
    pub api: Option<Api>,
    pub cert_resolvers: Vec<CertResolver>,
    /// Things worth telling the operator about how this was read.
    pub notes: Vec<String>,
}

impl StaticConfig {
    fn empty(source: StaticSource) -> StaticConfig {
        StaticConfig {
            source,
            entrypoints: Vec::new(),
            docker: None,
            file_provider: None,
            api: None,
            cert_resolvers: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Whether this is the configuration Traefik runs with, as far as the source goes:
    /// false for a file that was not read and for bare defaults (a configuration file
    /// may exist). Arguments and environment count as known; the caller has checked
    /// [`DEFAULT_CONFIG_FILES`] before trusting them.
    pub fn is_known(&self) -> bool {
        !matches!(self.source, StaticSource::FileNotRead(_) | StaticSource::Defaults)
    }

    /// Entry point by name; Traefik's flag and environment loaders do not keep case, so
    /// names compare without it.
    pub fn entrypoint(&self, name: &str) -> Option<&EntryPoint> {
        self.entrypoints.iter().find(|e| e.name.eq_ignore_ascii_case(name))
    }

    pub fn entrypoint_names(&self) -> Vec<&str> {
        self.entrypoints.iter().map(|e| e.name.as_str()).collect()
    }

    /// Entry points by published port, to join Traefik's port bindings to them.
    pub fn entrypoint_for_port(&self, port: u16) -> Option<&EntryPoint> {
        self.entrypoints.iter().find(|e| e.port == Some(port) && !e.udp)
    }

    pub fn cert_resolver(&self, name: &str) -> Option<&CertResolver> {
        self.cert_resolvers.iter().find(|r| r.name == name)
    }

    /// The entry points a router with no `entrypoints` label attaches to: those marked
    /// `asDefault`, or all of them (TCP ones) when none is.
    pub fn default_entrypoints(&self) -> Vec<&EntryPoint> {
        let tcp = self.entrypoints.iter().filter(|e| !e.udp);
        if self.entrypoints.iter().any(|e| e.as_default) {
            tcp.filter(|e| e.as_default).collect()
        } else {
            tcp.collect()
        }
    }

    /// Provider settings for reading labels; Traefik's defaults when the Docker provider
    /// is off or unknown.
    pub fn provider_settings(&self) -> ProviderSettings {
        self.docker.as_ref().map(DockerProvider::settings).unwrap_or_default()
    }
}

/// Why a configuration file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaticFileError {
    #[error("{file} is not valid YAML: {reason}")]
    Yaml { file: String, reason: String },
    #[error("{file} is not valid TOML: {reason}")]
    Toml { file: String, reason: String },
}

/// Reads what Traefik would read from a container, given its arguments (the command
/// after the entrypoint; a leading `traefik` is skipped) and its environment
/// (`KEY=VALUE`), assuming no configuration file sits in a default place (see
/// [`DEFAULT_CONFIG_FILES`]): Traefik would read that file instead.
pub fn from_container(args: &[impl AsRef<str>], env: &[impl AsRef<str>]) -> StaticConfig {
    let pairs = flag_pairs(args);
    if let Some((_, file)) = pairs.iter().find(|(k, _)| {
        matches!(k.to_ascii_lowercase().as_str(), "configfile" | "traefik.configfile")
    }) {
        let mut config = StaticConfig::empty(StaticSource::FileNotRead(file.clone()));
        config.notes.push(format!(
            "Traefik reads its configuration from {file} and ignores the other arguments"
        ));
        return config;
    }
    if !pairs.is_empty() {
        return from_pairs(StaticSource::Arguments, pairs);
    }
    let env_pairs = env_pairs(env);
    if !env_pairs.is_empty() {
        return from_pairs(StaticSource::Environment, env_pairs);
    }
    let mut config = from_pairs(StaticSource::Defaults, Vec::new());
    config.notes.push(
        "no arguments or TRAEFIK_* variables: Traefik uses a traefik.yml or traefik.toml in \
         /etc/traefik/ if there is one, else its defaults"
            .to_string(),
    );
    config
}

/// Reads Traefik's command-line arguments: `--entrypoints.websecure.address=:443`,
/// `--entryPoints.web.address :80`, `--api.insecure` (a bare flag is `true`).
pub fn from_args(args: &[impl AsRef<str>]) -> StaticConfig {
    from_pairs(StaticSource::Arguments, flag_pairs(args))
}

/// Reads `TRAEFIK_*` environment variables (`TRAEFIK_ENTRYPOINTS_WEB_ADDRESS=:80`).
pub fn from_env(env: &[impl AsRef<str>]) -> StaticConfig {
    from_pairs(StaticSource::Environment, env_pairs(env))
}

/// Reads a `traefik.yml` (or `.yaml`).
pub fn from_yaml(file: &str, text: &str) -> Result<StaticConfig, StaticFileError> {
    use yaml_rust2::{Yaml, YamlLoader};
    let docs = YamlLoader::load_from_str(text)
        .map_err(|e| StaticFileError::Yaml { file: file.to_string(), reason: e.to_string() })?;
    fn flatten(prefix: &str, node: &Yaml, out: &mut Vec<(String, String)>) {
        let key = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
        match node {
            Yaml::Hash(map) if map.is_empty() => out.push((prefix.to_string(), "true".into())),
            Yaml::Hash(map) => {
                for (k, v) in map {
                    let name = match k {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        _ => continue,
                    };
                    flatten(&key(&name), v, out);
                }
            }
            Yaml::Array(items) => {
                let values: Vec<String> = items.iter().filter_map(scalar).collect();
                out.push((prefix.to_string(), values.join(",")));
            }
            Yaml::Null => out.push((prefix.to_string(), "true".into())),
            other => {
                if let Some(value) = scalar(other) {
                    out.push((prefix.to_string(), value));
                }
            }
        }
    }
    fn scalar(node: &Yaml) -> Option<String> {
        match node {
            Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
            Yaml::Integer(i) => Some(i.to_string()),
            Yaml::Boolean(b) => Some(b.to_string()),
            _ => None,
        }
    }
    let mut pairs = Vec::new();
    if let Some(doc) = docs.first() {
        flatten("", doc, &mut pairs);
    }
    Ok(from_pairs(StaticSource::File(file.to_string()), pairs))
}

/// Reads a `traefik.toml`.
pub fn from_toml(file: &str, text: &str) -> Result<StaticConfig, StaticFileError> {
    let table: toml::Table = toml::from_str(text)
        .map_err(|e| StaticFileError::Toml { file: file.to_string(), reason: e.to_string() })?;
    fn flatten(prefix: &str, value: &toml::Value, out: &mut Vec<(String, String)>) {
        match value {
            toml::Value::Table(t) if t.is_empty() => out.push((prefix.to_string(), "true".into())),
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    flatten(&key, v, out);
                }
            }
            toml::Value::Array(items) => {
                let values: Vec<String> = items
                    .iter()
                    .filter_map(|v| match v {
                        toml::Value::String(s) => Some(s.clone()),
                        toml::Value::Table(_) | toml::Value::Array(_) => None,
                        other => Some(other.to_string()),
                    })
                    .collect();
                out.push((prefix.to_string(), values.join(",")));
            }
            toml::Value::String(s) => out.push((prefix.to_string(), s.clone())),
            other => out.push((prefix.to_string(), other.to_string())),
        }
    }
    let mut pairs = Vec::new();
    for (k, v) in &table {
        flatten(k, v, &mut pairs);
    }
    Ok(from_pairs(StaticSource::File(file.to_string()), pairs))
}

/// Keys whose flag takes a value even when written `--key value` (a bare flag is `true`).
const VALUE_SUFFIXES: &[&str] = &[
    "address",
    "network",
    "defaultrule",
    "endpoint",
    "constraints",
    "to",
    "scheme",
    "email",
    "storage",
    "caserver",
    "entrypoint",
    "provider",
    "certresolver",
    "configfile",
    "middlewares",
    "directory",
    "filename",
];

fn flag_pairs(args: &[impl AsRef<str>]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut iter = args.iter().map(AsRef::as_ref).peekable();
    while let Some(arg) = iter.next() {
        let Some(flag) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            continue;
        };
        let (key, value) = match flag.split_once('=') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => {
                let lower = flag.to_ascii_lowercase();
                let takes_value =
                    VALUE_SUFFIXES.iter().any(|s| lower == *s || lower.ends_with(&format!(".{s}")));
                match iter.peek() {
                    Some(next) if takes_value && !next.starts_with('-') => {
                        let value = next.to_string();
                        iter.next();
                        (flag.to_string(), value)
                    }
                    _ => (flag.to_string(), "true".to_string()),
                }
            }
        };
        let key = key.strip_prefix("traefik.").map(str::to_string).unwrap_or(key);
        if !key.is_empty() {
            pairs.push((key, value));
        }
    }
    pairs
}

fn env_pairs(env: &[impl AsRef<str>]) -> Vec<(String, String)> {
    env.iter()
        .filter_map(|entry| {
            let (name, value) = entry.as_ref().split_once('=')?;
            let rest = name.strip_prefix("TRAEFIK_")?;
            Some((rest.to_ascii_lowercase().replace('_', "."), value.to_string()))
        })
        .collect()
}

fn from_pairs(source: StaticSource, pairs: Vec<(String, String)>) -> StaticConfig {
    let mut config = StaticConfig::empty(source);
    let mut entrypoints: BTreeMap<String, EntryPoint> = BTreeMap::new();
    let mut resolvers: BTreeMap<String, ResolverBuilder> = BTreeMap::new();
    let truthy = |v: &str| parse_go_bool(v).unwrap_or(false);
    for (key, value) in pairs {
        let parts: Vec<&str> = key.split('.').collect();
        let lower_owned: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
        let lower: Vec<&str> = lower_owned.iter().map(String::as_str).collect();
        let value = value.trim();
        match lower.as_slice() {
            ["entrypoints", _, rest @ ..] => {
                let name = parts.get(1).copied().unwrap_or_default();
                let ep = entrypoints
                    .entry(name.to_ascii_lowercase())
                    .or_insert_with(|| EntryPoint::new(name));
                match rest {
                    ["address"] => ep.set_address(value),
                    ["asdefault"] => ep.as_default = truthy(value),
                    ["http", "redirections", "entrypoint", "to"] => {
                        ep.redirect_to = Some(value.to_string())
                    }
                    ["http", "redirections", "entrypoint", "scheme"] => {
                        ep.redirect_scheme = Some(value.to_string())
                    }
                    ["http", "tls"] => ep.tls = truthy(value),
                    ["http", "tls", "certresolver"] => {
                        ep.tls = true;
                        ep.cert_resolver = Some(value.to_string());
                    }
                    ["http", "tls", ..] => ep.tls = true,
                    ["http", "middlewares"] => {
                        ep.middlewares = value
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    }
                    _ => {}
                }
            }
            ["providers", "docker" | "swarm", rest @ ..] => {
                let swarm = lower.get(1) == Some(&"swarm");
                if rest.is_empty() && !truthy(value) {
                    continue;
                }
                let docker = config.docker.get_or_insert_with(DockerProvider::default);
                docker.swarm |= swarm;
                match rest {
                    ["exposedbydefault"] => docker.exposed_by_default = truthy(value),
                    ["network"] => docker.network = Some(value.to_string()),
                    ["defaultrule"] => docker.default_rule = Some(value.to_string()),
                    ["endpoint"] => docker.endpoint = Some(value.to_string()),
                    ["constraints"] => docker.constraints = Some(value.to_string()),
                    ["swarmmode"] => docker.swarm |= truthy(value),
                    _ => {}
                }
            }
            ["providers", "file", "directory" | "filename"] => {
                config.file_provider = Some(value.to_string())
            }
            ["api", rest @ ..] => {
                if rest.is_empty() && !truthy(value) {
                    continue;
                }
                let api = config.api.get_or_insert(Api { dashboard: true, insecure: false });
                match rest {
                    ["dashboard"] => api.dashboard = truthy(value),
                    ["insecure"] => api.insecure = truthy(value),
                    _ => {}
                }
            }
            ["certificatesresolvers", _, "acme", rest @ ..] => {
                let name = parts.get(1).copied().unwrap_or_default();
                let resolver = resolvers.entry(name.to_string()).or_default();
                match rest {
                    ["email"] => resolver.email = Some(value.to_string()),
                    ["storage"] => resolver.storage = Some(value.to_string()),
                    ["caserver"] => resolver.ca_server = Some(value.to_string()),
                    ["tlschallenge"] => resolver.tls |= truthy(value),
                    ["tlschallenge", ..] => resolver.tls = true,
                    ["httpchallenge", "entrypoint"] => {
                        resolver.http = Some(Some(value.to_string()))
                    }
                    ["httpchallenge", ..] => {
                        resolver.http.get_or_insert(None);
                    }
                    ["dnschallenge", "provider"] => resolver.dns = Some(Some(value.to_string())),
                    ["dnschallenge", ..] => {
                        resolver.dns.get_or_insert(None);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    // Traefik's own defaults: `http` on :80 when no entry point is configured, and the
    // `traefik` entry point on :8080 for the insecure API.
    if entrypoints.is_empty() {
        let mut ep = EntryPoint::new("http");
        ep.set_address(":80");
        ep.implicit = true;
        entrypoints.insert("http".to_string(), ep);
    }
    if config.api.is_some_and(|a| a.insecure) && !entrypoints.contains_key("traefik") {
        let mut ep = EntryPoint::new("traefik");
        ep.set_address(":8080");
        ep.implicit = true;
        entrypoints.insert("traefik".to_string(), ep);
    }
    for ep in entrypoints.values() {
        if ep.address.is_empty() && !ep.implicit {
            config.notes.push(format!("entry point `{}` has no address", ep.name));
        }
        if let Some(to) = &ep.redirect_to
            && !entrypoints.contains_key(&to.to_ascii_lowercase())
        {
            config.notes.push(format!(
                "entry point `{}` redirects to `{to}`, which is not defined",
                ep.name
            ));
        }
    }
    config.entrypoints = entrypoints.into_values().collect();
    config.cert_resolvers =
        resolvers.into_iter().map(|(name, builder)| builder.build(name)).collect();
    config
}

#[cfg(test)]
mod tests;

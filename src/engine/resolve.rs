//! Which engine the operator means, by the docker CLI's rules: `-H`, `DOCKER_HOST`,
//! the TLS flags and `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`, and docker contexts
//! (`--context`, `DOCKER_CONTEXT`, `currentContext` in `$DOCKER_CONFIG/config.json`).
//!
//! bollard does not read contexts, so the store is read here: the metadata in
//! `contexts/meta/<sha256 of the name>/meta.json`, the TLS files in
//! `contexts/tls/<sha256 of the name>/docker/`. Reads files and nothing else;
//! connecting is `connect`'s job.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::endpoint::{DEFAULT_SOCKET, Endpoint, TlsFiles};
use super::error::ConnectError;

/// What the operator said, in flags and in the environment, before any file is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choice {
    /// `-H`/`--host`.
    pub host: Option<String>,
    /// `--context`/`-c`.
    pub context: Option<String>,
    /// `DOCKER_CONTEXT`.
    pub docker_context: Option<String>,
    /// `DOCKER_HOST`.
    pub docker_host: Option<String>,
    /// `--tlsverify`, or a non-empty `DOCKER_TLS_VERIFY`.
    pub tls_verify: bool,
    /// A non-empty `DOCKER_TLS`: TLS without checking the engine's certificate.
    pub tls_unverified: bool,
    /// `--tlscacert`, `--tlscert`, `--tlskey`.
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// `DOCKER_CERT_PATH`.
    pub cert_path: Option<PathBuf>,
    /// `DOCKER_CONFIG`, else `~/.docker`: the default certificate directory.
    pub config_dir: Option<PathBuf>,
}

const DEFAULT_CONTEXT: &str = "default";

/// An engine the operator named, and where they named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub endpoint: Endpoint,
    pub by: NamedBy,
}

/// Where an engine was named, as `--print-engines` tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamedBy {
    HostFlag,
    ContextFlag,
    DockerHost,
    DockerContext,
    /// `currentContext` in this config.json.
    CurrentContext(PathBuf),
    /// `--tlsverify` or `DOCKER_TLS_VERIFY` with no address: the docker CLI's TLS default.
    TlsVerify,
}

impl std::fmt::Display for NamedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NamedBy::HostFlag => write!(f, "-H/--host"),
            NamedBy::ContextFlag => write!(f, "--context"),
            NamedBy::DockerHost => write!(f, "DOCKER_HOST"),
            NamedBy::DockerContext => write!(f, "DOCKER_CONTEXT"),
            NamedBy::CurrentContext(path) => write!(f, "currentContext in {}", path.display()),
            NamedBy::TlsVerify => write!(f, "TLS verification with no address (its default)"),
        }
    }
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(rename = "currentContext", default)]
    current_context: Option<String>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "Endpoints", default)]
    endpoints: MetaEndpoints,
}

#[derive(Deserialize, Default)]
struct MetaEndpoints {
    docker: Option<DockerEndpoint>,
}

#[derive(Deserialize, Default)]
struct DockerEndpoint {
    #[serde(rename = "Host", default)]
    host: Option<String>,
    #[serde(rename = "SkipTLSVerify", default)]
    skip_tls_verify: bool,
}

/// Where the docker CLI files a context: the hex sha256 of its name.
pub fn context_id(name: &str) -> String {
    format!("{:x}", Sha256::digest(name.as_bytes()))
}

/// The names of the contexts in the store, and `default`, which always exists.
fn known_contexts(meta_dir: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::from([DEFAULT_CONTEXT.to_string()]);
    let entries = std::fs::read_dir(meta_dir).into_iter().flatten().flatten();
    for entry in entries {
        let Ok(text) = std::fs::read_to_string(entry.path().join("meta.json")) else { continue };
        if let Ok(meta) = serde_json::from_str::<Meta>(&text) {
            names.insert(meta.name);
        }
    }
    names
}

fn bad_config(path: &Path, detail: &str) -> ConnectError {
    ConnectError::BadContext {
        name: "(current)".into(),
        detail: format!("cannot read {}: {detail}", path.display()),
    }
}

/// The docker CLI's default address when TLS is on and no host is given.
const DEFAULT_TLS_HOST: &str = "tcp://localhost:2376";

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

impl Choice {
    /// Fills in what the environment says; `self` holds the flags.
    pub fn with_env(mut self, var: impl Fn(&str) -> Option<String>) -> Choice {
        self.docker_host = non_empty(var("DOCKER_HOST"));
        self.docker_context = non_empty(var("DOCKER_CONTEXT"));
        self.tls_verify |= non_empty(var("DOCKER_TLS_VERIFY")).is_some();
        self.tls_unverified = non_empty(var("DOCKER_TLS")).is_some();
        self.cert_path = non_empty(var("DOCKER_CERT_PATH")).map(PathBuf::from);
        self.config_dir = non_empty(var("DOCKER_CONFIG"))
            .map(PathBuf::from)
            .or_else(|| non_empty(var("HOME")).map(|home| Path::new(&home).join(".docker")));
        self
    }

    /// The engine meant, as the docker CLI would pick it: when nothing names one, the
    /// root socket.
    pub fn resolve(&self) -> Result<Endpoint, ConnectError> {
        Ok(match self.named()? {
            Some(named) => named.endpoint,
            None => Endpoint::Unix(PathBuf::from(DEFAULT_SOCKET)),
        })
    }

    /// The engine the flags, the environment or the docker config name, and which of
    /// them named it; `None` when none does (or only the `default` context, which means
    /// "the engine on this machine"): then it is up to `discover` to find one.
    pub fn named(&self) -> Result<Option<Named>, ConnectError> {
        if self.context.is_some() && self.host.is_some() {
            return Err(ConnectError::HostAndContext);
        }
        match self.context_name()? {
            Some((name, by)) if name != DEFAULT_CONTEXT => {
                let endpoint = self.context_endpoint(&name)?;
                let endpoint = Endpoint::Context { name, endpoint: Box::new(endpoint) };
                Ok(Some(Named { endpoint, by }))
            }
            _ => self.default_context(),
        }
    }

    /// The docker CLI's order: `--context`; then `-H` or `DOCKER_HOST` mean the default
    /// context; then `DOCKER_CONTEXT`; then `currentContext` in config.json.
    fn context_name(&self) -> Result<Option<(String, NamedBy)>, ConnectError> {
        if let Some(name) = &self.context {
            return Ok(Some((name.clone(), NamedBy::ContextFlag)));
        }
        if self.host.is_some() || self.docker_host.is_some() {
            return Ok(None);
        }
        if let Some(name) = &self.docker_context {
            return Ok(Some((name.clone(), NamedBy::DockerContext)));
        }
        let Some(dir) = &self.config_dir else { return Ok(None) };
        let path = dir.join("config.json");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(bad_config(&path, &e.to_string())),
        };
        let config: ConfigFile =
            serde_json::from_str(&text).map_err(|e| bad_config(&path, &e.to_string()))?;
        Ok(config
            .current_context
            .filter(|name| !name.is_empty())
            .map(|name| (name, NamedBy::CurrentContext(path))))
    }

    fn context_endpoint(&self, name: &str) -> Result<Endpoint, ConnectError> {
        let store = self.config_dir.clone().unwrap_or_default().join("contexts");
        let id = context_id(name);
        let path = store.join("meta").join(&id).join("meta.json");
        let bad = |detail: String| ConnectError::BadContext { name: name.to_string(), detail };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let known = known_contexts(&store.join("meta")).into_iter().collect::<Vec<_>>();
                return Err(ConnectError::UnknownContext {
                    name: name.to_string(),
                    known: known.join(", "),
                });
            }
            Err(e) => return Err(bad(format!("{}: {e}", path.display()))),
        };
        let meta: Meta =
            serde_json::from_str(&text).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        let docker = meta.endpoints.docker.unwrap_or_default();
        let host = docker.host.filter(|h| !h.trim().is_empty()).ok_or_else(|| {
            bad(format!("{} names no docker endpoint (Endpoints.docker.Host)", path.display()))
        })?;
        match Endpoint::parse(&host)? {
            Endpoint::Tcp { host, port, .. } => {
                let dir = store.join("tls").join(&id).join("docker");
                let file = |name: &str| Some(dir.join(name)).filter(|p| p.exists());
                let (ca, cert, key) = (file("ca.pem"), file("cert.pem"), file("key.pem"));
                if ca.is_none() && cert.is_none() && key.is_none() {
                    return Ok(Endpoint::Tcp { host, port, tls: None });
                }
                if docker.skip_tls_verify {
                    return Err(bad(
                        "SkipTLSVerify: connecting without verifying the engine's certificate is not supported".into(),
                    ));
                }
                let ca = ca.ok_or_else(|| ConnectError::TlsFile {
                    path: dir.join("ca.pem").display().to_string(),
                    detail: "no such file (the context has TLS files but no CA)".into(),
                })?;
                let client = match (cert, key) {
                    (Some(cert), Some(key)) => Some((cert, key)),
                    _ => None,
                };
                Ok(Endpoint::Tcp { host, port, tls: Some(TlsFiles { ca, client }) })
            }
            other => Ok(other),
        }
    }

    /// The default context: `-H`, `DOCKER_HOST` or (with `--tlsverify` alone) the
    /// docker CLI's TLS address, with TLS settings; `None` when it is the local engine.
    fn default_context(&self) -> Result<Option<Named>, ConnectError> {
        let tls = self.tls_verify || self.tls_unverified;
        let (address, by) = match (&self.host, &self.docker_host) {
            (Some(host), _) => (host.as_str(), NamedBy::HostFlag),
            (None, Some(docker_host)) => (docker_host.as_str(), NamedBy::DockerHost),
            (None, None) if self.tls_verify => (DEFAULT_TLS_HOST, NamedBy::TlsVerify),
            (None, None) => return Ok(None),
        };
        let endpoint = match Endpoint::parse(address)? {
            // As with the docker CLI, TLS settings concern tcp addresses only.
            Endpoint::Tcp { host, port, .. } if tls => {
                if !self.tls_verify {
                    return Err(ConnectError::Unsupported {
                        detail: "TLS without verifying the engine's certificate (DOCKER_TLS without DOCKER_TLS_VERIFY) is not supported".into(),
                    });
                }
                Endpoint::Tcp { host, port, tls: Some(self.tls_files()?) }
            }
            other => other,
        };
        Ok(Some(Named { endpoint, by }))
    }

    /// The docker CLI's defaults: `ca.pem`, `cert.pem`, `key.pem` in `DOCKER_CERT_PATH`,
    /// else in the config directory; a default client certificate that is not there is
    /// simply not sent, one named by a flag must exist.
    fn tls_files(&self) -> Result<TlsFiles, ConnectError> {
        let dir = self.cert_path.clone().or_else(|| self.config_dir.clone()).unwrap_or_default();
        let ca = self.ca.clone().unwrap_or_else(|| dir.join("ca.pem"));
        let pick = |flag: &Option<PathBuf>, name: &str| match flag {
            Some(path) => Some(path.clone()),
            None => Some(dir.join(name)).filter(|p| p.exists()),
        };
        let client = match (pick(&self.cert, "cert.pem"), pick(&self.key, "key.pem")) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            (Some(cert), None) => {
                return Err(ConnectError::TlsFile {
                    path: cert.display().to_string(),
                    detail: "a client certificate needs its key (--tlskey or key.pem)".into(),
                });
            }
            (None, Some(key)) => {
                return Err(ConnectError::TlsFile {
                    path: key.display().to_string(),
                    detail: "a client key needs its certificate (--tlscert or cert.pem)".into(),
                });
            }
        };
        Ok(TlsFiles { ca, client })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn tls_follows_the_docker_cli() {
        let dir = std::env::temp_dir().join(format!("portolan-resolve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let certs = dir.to_string_lossy().to_string();
        // DOCKER_TLS_VERIFY alone: the default TLS address, ca.pem from DOCKER_CERT_PATH,
        // no client certificate when there is none.
        let choice = Choice::default()
            .with_env(env(&[("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", &certs)]));
        assert_eq!(
            choice.resolve().expect("resolves"),
            Endpoint::Tcp {
                host: "localhost".into(),
                port: 2376,
                tls: Some(TlsFiles { ca: dir.join("ca.pem"), client: None })
            }
        );
        // With a client certificate there, both are used.
        std::fs::write(dir.join("cert.pem"), "x").expect("write");
        std::fs::write(dir.join("key.pem"), "x").expect("write");
        let Endpoint::Tcp { tls: Some(files), .. } = choice.resolve().expect("resolves") else {
            panic!("tls expected");
        };
        assert_eq!(files.client, Some((dir.join("cert.pem"), dir.join("key.pem"))));
        // Flags win over the directory; --tlsverify works without the variable.
        let choice = Choice {
            host: Some("tcp://10.0.0.1:2376".into()),
            tls_verify: true,
            ca: Some("/flags/ca.pem".into()),
            ..Choice::default()
        }
        .with_env(env(&[("DOCKER_CERT_PATH", &certs)]));
        let Endpoint::Tcp { host, tls: Some(files), .. } = choice.resolve().expect("resolves")
        else {
            panic!("tls expected");
        };
        assert_eq!(host, "10.0.0.1");
        assert_eq!(files.ca, PathBuf::from("/flags/ca.pem"));
        // The certificate directory defaults to DOCKER_CONFIG, then ~/.docker.
        let choice = Choice { tls_verify: true, ..Choice::default() }
            .with_env(env(&[("HOME", "/home/me"), ("DOCKER_HOST", "tcp://h:1")]));
        let Endpoint::Tcp { tls: Some(files), .. } = choice.resolve().expect("resolves") else {
            panic!("tls expected");
        };
        assert_eq!(files.ca, PathBuf::from("/home/me/.docker/ca.pem"));
        // TLS settings leave a unix socket alone; no TLS without being asked.
        let choice =
            Choice { host: Some("unix:///s.sock".into()), tls_verify: true, ..Default::default() };
        assert_eq!(choice.resolve().expect("unix"), Endpoint::Unix("/s.sock".into()));
        let choice = Choice::default().with_env(env(&[("DOCKER_HOST", "tcp://h:1")]));
        assert_eq!(
            choice.resolve().expect("plain"),
            Endpoint::Tcp { host: "h".into(), port: 1, tls: None }
        );
        // Unverified TLS is refused in words.
        let choice =
            Choice::default().with_env(env(&[("DOCKER_TLS", "1"), ("DOCKER_HOST", "tcp://h:1")]));
        assert!(matches!(choice.resolve(), Err(ConnectError::Unsupported { .. })));
        // A key without its certificate is an error, named.
        let choice = Choice {
            host: Some("tcp://h:1".into()),
            tls_verify: true,
            key: Some("/k.pem".into()),
            cert_path: Some("/nonexistent".into()),
            ..Choice::default()
        };
        assert!(matches!(choice.resolve(), Err(ConnectError::TlsFile { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Writes a context the way `docker context create` files it.
    fn write_context(config: &Path, name: &str, host: &str, skip_verify: bool, tls: bool) {
        let id = context_id(name);
        let meta = config.join("contexts/meta").join(&id);
        std::fs::create_dir_all(&meta).expect("dir");
        let doc = serde_json::json!({
            "Name": name,
            "Metadata": {},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_verify}}
        });
        std::fs::write(meta.join("meta.json"), doc.to_string()).expect("write");
        if tls {
            let dir = config.join("contexts/tls").join(&id).join("docker");
            std::fs::create_dir_all(&dir).expect("dir");
            for file in ["ca.pem", "cert.pem", "key.pem"] {
                std::fs::write(dir.join(file), "x").expect("write");
            }
        }
    }

    #[test]
    fn context_ids_are_the_docker_clis() {
        // The sha256 of "abc", in lowercase hex, as the docker CLI names the directory.
        assert_eq!(context_id("default").len(), 64);
        assert_eq!(
            context_id("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn contexts_follow_the_docker_cli_precedence() {
        let config = std::env::temp_dir().join(format!("portolan-ctx-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&config);
        std::fs::create_dir_all(&config).expect("dir");
        std::fs::write(config.join("config.json"), r#"{"auths":{},"currentContext":"cur"}"#)
            .expect("write");
        write_context(&config, "cur", "unix:///cur.sock", false, false);
        write_context(&config, "env", "unix:///env.sock", false, false);
        write_context(&config, "secure", "tcp://10.1.2.3:2376", false, true);
        write_context(&config, "lax", "tcp://10.1.2.3:2376", true, true);
        let dir = config.to_string_lossy().to_string();
        let resolve = |flags: Choice, vars: &[(&str, &str)]| {
            let mut all = vec![("DOCKER_CONFIG", dir.as_str())];
            all.extend_from_slice(vars);
            flags.with_env(env(&all)).resolve()
        };
        let named = |name: &str, socket: &str| Endpoint::Context {
            name: name.into(),
            endpoint: Box::new(Endpoint::Unix(socket.into())),
        };
        // currentContext, then DOCKER_CONTEXT, then --context.
        assert_eq!(resolve(Choice::default(), &[]).expect("cur"), named("cur", "/cur.sock"));
        assert_eq!(
            resolve(Choice::default(), &[("DOCKER_CONTEXT", "env")]).expect("env"),
            named("env", "/env.sock")
        );
        let flag = Choice { context: Some("cur".into()), ..Choice::default() };
        assert_eq!(
            resolve(flag.clone(), &[("DOCKER_CONTEXT", "env")]).expect("flag"),
            named("cur", "/cur.sock")
        );
        // DOCKER_HOST beats DOCKER_CONTEXT and currentContext, not --context.
        let host = [("DOCKER_HOST", "unix:///h.sock"), ("DOCKER_CONTEXT", "env")];
        assert_eq!(
            resolve(Choice::default(), &host).expect("host"),
            Endpoint::Unix("/h.sock".into())
        );
        assert_eq!(resolve(flag, &host).expect("flag"), named("cur", "/cur.sock"));
        // -H means the default context; with --context it is an error.
        let h = Choice { host: Some("unix:///flag.sock".into()), ..Choice::default() };
        assert_eq!(resolve(h, &[]).expect("-H"), Endpoint::Unix("/flag.sock".into()));
        let both = Choice {
            host: Some("unix:///flag.sock".into()),
            context: Some("cur".into()),
            ..Choice::default()
        };
        assert_eq!(resolve(both, &[]), Err(ConnectError::HostAndContext));
        // `default` is the usual resolution.
        let default = Choice { context: Some("default".into()), ..Choice::default() };
        assert_eq!(
            resolve(default, &[]).expect("default"),
            Endpoint::Unix(crate::engine::endpoint::DEFAULT_SOCKET.into())
        );
        // An unknown context is named, with the ones that exist.
        let nope = Choice { context: Some("nope".into()), ..Choice::default() };
        assert_eq!(
            resolve(nope, &[]),
            Err(ConnectError::UnknownContext {
                name: "nope".into(),
                known: "cur, default, env, lax, secure".into()
            })
        );
        // TLS material comes from the context's own directory.
        let secure = Choice { context: Some("secure".into()), ..Choice::default() };
        let tls_dir = config.join("contexts/tls").join(context_id("secure")).join("docker");
        assert_eq!(
            resolve(secure, &[]).expect("secure"),
            Endpoint::Context {
                name: "secure".into(),
                endpoint: Box::new(Endpoint::Tcp {
                    host: "10.1.2.3".into(),
                    port: 2376,
                    tls: Some(TlsFiles {
                        ca: tls_dir.join("ca.pem"),
                        client: Some((tls_dir.join("cert.pem"), tls_dir.join("key.pem"))),
                    }),
                }),
            }
        );
        let lax = Choice { context: Some("lax".into()), ..Choice::default() };
        assert!(matches!(resolve(lax, &[]), Err(ConnectError::BadContext { .. })));
        // What named each engine, for `--print-engines`; nothing, or only the
        // `default` context, leaves the choice to discovery.
        let by = |flags: Choice, vars: &[(&str, &str)]| {
            let mut all = vec![("DOCKER_CONFIG", dir.as_str())];
            all.extend_from_slice(vars);
            flags.with_env(env(&all)).named().expect("resolves").map(|named| named.by)
        };
        let config_json = config.join("config.json");
        assert_eq!(by(Choice::default(), &[]), Some(NamedBy::CurrentContext(config_json.clone())));
        assert_eq!(
            by(Choice::default(), &[("DOCKER_CONTEXT", "env")]),
            Some(NamedBy::DockerContext)
        );
        assert_eq!(by(Choice::default(), &[("DOCKER_CONTEXT", "default")]), None);
        assert_eq!(
            by(Choice::default(), &[("DOCKER_HOST", "tcp://h:1")]),
            Some(NamedBy::DockerHost)
        );
        let h = Choice { host: Some("unix:///flag.sock".into()), ..Choice::default() };
        assert_eq!(by(h, &[("DOCKER_HOST", "tcp://h:1")]), Some(NamedBy::HostFlag));
        let c = Choice { context: Some("env".into()), ..Choice::default() };
        assert_eq!(by(c, &[]), Some(NamedBy::ContextFlag));
        std::fs::write(&config_json, r#"{"currentContext":"default"}"#).expect("write");
        assert_eq!(by(Choice::default(), &[]), None);
        std::fs::write(&config_json, r#"{"auths":{}}"#).expect("write");
        assert_eq!(by(Choice::default(), &[]), None);
        assert_eq!(by(Choice::default(), &[("DOCKER_TLS_VERIFY", "1")]), Some(NamedBy::TlsVerify));
        assert_eq!(
            resolve(Choice::default(), &[]).expect("default"),
            Endpoint::Unix(DEFAULT_SOCKET.into()),
            "resolve still means the root socket when nothing is named"
        );
        // A broken config.json is reported, not ignored.
        std::fs::write(config.join("config.json"), "{").expect("write");
        assert!(matches!(resolve(Choice::default(), &[]), Err(ConnectError::BadContext { .. })));
        let _ = std::fs::remove_dir_all(&config);
    }
}

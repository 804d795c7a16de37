//! Reaching an engine: open a connection the way its address asks (unix socket, TCP,
//! TLS, an ssh tunnel), check that a Docker engine answers, and read what it says of
//! itself. A failure comes back as a [`ConnectError`] that names the cause, because
//! "cannot connect" is the one message an operator cannot act on.
//!
//! It also settles which Engine API version the requests name (see [`negotiate`]).

use std::time::Duration;

use bollard::Docker;

use super::endpoint::{self, Endpoint};
use super::error::ConnectError;
use super::{ssh, tls};
use crate::model::{EngineInfo, EngineKind};

/// How long portolan waits for an engine before saying it cannot reach it.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Connects, checks that a Docker engine answers, and reads what it says of itself,
/// all within `limit`.
pub async fn connect(
    endpoint: &Endpoint,
    limit: Duration,
) -> Result<(Docker, EngineInfo), ConnectError> {
    let deadline = tokio::time::Instant::now() + limit;
    endpoint::probe(endpoint, limit).await?;
    let shown = endpoint.to_string();
    let docker = match endpoint.target() {
        Endpoint::Ssh(tunnel) => {
            let socket = tunnel.open(limit, &shown).await?;
            ssh::client(&socket, 120).map_err(|e| ConnectError::Other {
                endpoint: shown.clone(),
                detail: e.to_string(),
            })?
        }
        target => client(target, &shown)?,
    };
    let timed_out =
        || ConnectError::TimedOut { endpoint: shown.clone(), seconds: limit.as_secs().max(1) };
    let version = match tokio::time::timeout_at(deadline, docker.version()).await {
        Err(_) => return Err(timed_out()),
        Ok(Ok(version)) => version,
        Ok(Err(e)) => {
            if let Endpoint::Ssh(tunnel) = endpoint.target() {
                // The remote side's words (ssh's, or docker's on the remote host) say more
                // than bollard's "connection closed"; they may take a moment to arrive.
                for _ in 0..10 {
                    if let Some(detail) = tunnel.last_error() {
                        return Err(ConnectError::Ssh { endpoint: shown, detail });
                    }
                    tokio::time::sleep(Duration::from_millis(30)).await;
                }
            }
            return Err(tls::classify(&shown, &e).unwrap_or_else(|| ConnectError::NotAnEngine {
                endpoint: shown.clone(),
                detail: e.to_string(),
            }));
        }
    };
    let docker = match negotiate(version.api_version.as_deref(), version.min_api_version.as_deref())
    {
        Some(api) => {
            tracing::debug!(endpoint = %shown, %api, "requests name this Engine API version");
            pin(docker, api)
        }
        None => {
            tracing::warn!(
                endpoint = %shown,
                engine = ?version.api_version,
                minimum = ?version.min_api_version,
                "no Engine API version both sides speak; requests stay unversioned"
            );
            docker
        }
    };
    // `info` is a nicety: an engine whose info does not parse is still an engine.
    let info = tokio::time::timeout_at(deadline, docker.info()).await.ok().and_then(Result::ok);
    let kind =
        EngineKind::from_components(version.components.iter().flatten().map(|c| c.name.as_str()));
    let info = EngineInfo {
        endpoint: shown.clone(),
        kind,
        version: version.version,
        api_version: version.api_version,
        os: info.as_ref().and_then(|i| i.operating_system.clone()),
        hostname: info.as_ref().and_then(|i| i.name.clone()),
        cpus: info.as_ref().and_then(|i| i.ncpu).and_then(|n| u32::try_from(n).ok()),
        memory_bytes: info.as_ref().and_then(|i| i.mem_total).and_then(|m| u64::try_from(m).ok()),
        cgroup_version: info.as_ref().and_then(|i| i.cgroup_version).map(|v| v.to_string()),
    };
    Ok((docker, info))
}

/// A bollard client for an address (not a context: its target).
fn client(endpoint: &Endpoint, shown: &str) -> Result<Docker, ConnectError> {
    let other = |e: bollard::errors::Error| ConnectError::Other {
        endpoint: shown.to_string(),
        detail: e.to_string(),
    };
    match endpoint {
        Endpoint::Unix(path) => {
            Docker::connect_with_unix(&path.to_string_lossy(), 120, bollard::API_DEFAULT_VERSION)
                .map_err(other)
        }
        Endpoint::Tcp { host, port, tls: None } => Docker::connect_with_http(
            &format!("http://{host}:{port}"),
            120,
            bollard::API_DEFAULT_VERSION,
        )
        .map_err(other),
        Endpoint::Tcp { host, port, tls: Some(files) } => {
            tls::check_files(files)?;
            tls::install_provider();
            // bollard reads an unreadable client certificate as "none": an empty path is
            // how to say there is none.
            let none = std::path::PathBuf::new();
            let (cert, key) = files.client.as_ref().map_or((&none, &none), |(c, k)| (c, k));
            Docker::connect_with_ssl(
                &format!("tcp://{host}:{port}"),
                key,
                cert,
                &files.ca,
                120,
                bollard::API_DEFAULT_VERSION,
            )
            .map_err(|e| match e {
                bollard::errors::Error::CertPathError { path }
                | bollard::errors::Error::CertParseError { path } => ConnectError::TlsFile {
                    path: path.display().to_string(),
                    detail: "not a readable PEM certificate file".into(),
                },
                e => other(e),
            })
        }
        Endpoint::Context { endpoint, .. } | Endpoint::Found { endpoint, .. } => {
            client(endpoint, shown)
        }
        Endpoint::Ssh(tunnel) => Err(ConnectError::Other {
            endpoint: shown.to_string(),
            detail: format!("{} needs its tunnel opened first", tunnel.target),
        }),
    }
}

/// An Engine API version, `1.41`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

impl ApiVersion {
    pub fn parse(text: &str) -> Option<ApiVersion> {
        let (major, minor) = text.trim().trim_start_matches('v').split_once('.')?;
        Some(ApiVersion { major: major.parse().ok()?, minor: minor.parse().ok()? })
    }

    /// The newest version bollard's models describe.
    pub fn newest_known() -> ApiVersion {
        let known = bollard::API_DEFAULT_VERSION;
        ApiVersion { major: known.major_version as u32, minor: known.minor_version as u32 }
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The version requests should name, as the docker CLI negotiates it: the engine's own
/// when portolan's models know it, else the newest they know, so a newer engine
/// answers in shapes portolan decodes. `None` when the engine no longer serves that
/// (its minimum is above it) or does not say: requests then stay unversioned and the
/// engine answers in its own version, which decoding tolerates field by field.
///
/// bollard puts its own version in no request path (its `Url::join` with an absolute
/// path drops the `/v1.xx` prefix; bollard#736), so its `negotiate_version` would
/// change nothing on the wire: the version is pinned here instead, from the `/version`
/// answer `connect` reads anyway.
pub fn negotiate(engine: Option<&str>, engine_min: Option<&str>) -> Option<ApiVersion> {
    let engine = ApiVersion::parse(engine?)?;
    let chosen = engine.min(ApiVersion::newest_known());
    match engine_min.and_then(ApiVersion::parse) {
        Some(min) if chosen < min => None,
        _ => Some(chosen),
    }
}

/// A request path that names `api`: `/containers/json?all=1` becomes
/// `/v1.41/containers/json?all=1`; a path that names a version already gets `api` in
/// its place.
pub fn pin_path(path_and_query: &str, api: ApiVersion) -> String {
    let rest = path_and_query
        .strip_prefix("/v")
        .and_then(|tail| {
            let (version, rest) = tail.split_at(tail.find('/').unwrap_or(tail.len()));
            ApiVersion::parse(version).map(|_| rest)
        })
        .unwrap_or(path_and_query);
    let rest = if rest.starts_with('/') { rest.to_string() } else { format!("/{rest}") };
    format!("/v{api}{rest}")
}

/// Makes every request of this client (and of its clones) name `api`. bollard keeps
/// one request modifier: this is it.
fn pin(docker: Docker, api: ApiVersion) -> Docker {
    docker.with_request_modifier(move |mut request| {
        let uri = request.uri();
        let Some(path_and_query) = uri.path_and_query().map(|p| p.as_str().to_string()) else {
            return request;
        };
        let whole = uri.to_string();
        let Some(base) = whole.strip_suffix(path_and_query.as_str()) else { return request };
        let pinned = format!("{base}{}", pin_path(&path_and_query, api));
        if let Ok(uri) = pinned.parse() {
            *request.uri_mut() = uri;
        }
        request
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::query_parameters::ListContainersOptions;

    #[test]
    fn the_version_is_the_lower_of_the_two_unless_the_engine_refuses_it() {
        let newest = ApiVersion::newest_known();
        let v = |text: &str| ApiVersion::parse(text).unwrap();
        // This machine's engine: Docker 20.10.
        assert_eq!(negotiate(Some("1.41"), Some("1.12")), Some(v("1.41")));
        assert_eq!(negotiate(Some("1.51"), Some("1.24")), Some(v("1.51").min(newest)));
        // An engine newer than the models: they name theirs, so the answer decodes.
        assert_eq!(negotiate(Some("1.99"), Some("1.44")), Some(newest));
        // An engine whose minimum is above what the models know: stay unversioned.
        assert_eq!(negotiate(Some("2.5"), Some("2.0")), None);
        assert_eq!(negotiate(None, None), None);
        assert_eq!(negotiate(Some("garbage"), None), None);
        assert!(v("1.9") < v("1.41"), "minor versions compare as numbers");
    }

    #[test]
    fn paths_name_the_version_once() {
        let api = ApiVersion { major: 1, minor: 41 };
        assert_eq!(pin_path("/containers/json?all=true", api), "/v1.41/containers/json?all=true");
        assert_eq!(pin_path("/v1.53/containers/json", api), "/v1.41/containers/json");
        assert_eq!(pin_path("/version", api), "/v1.41/version");
        // A path that merely starts with a v is not a version.
        assert_eq!(pin_path("/volumes/x", api), "/v1.41/volumes/x");
    }

    #[tokio::test]
    async fn every_request_of_a_pinned_client_names_the_version() {
        // A transport that records what it is asked and answers nothing.
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        let transport = move |request: bollard::BollardRequest| {
            record.lock().unwrap().push(request.uri().to_string());
            async { Err(bollard::errors::Error::RequestTimeoutError) }
        };
        let docker = Docker::connect_with_custom_transport(
            transport,
            Some("unix://2f72756e2f646f636b65722e736f636b"),
            1,
            bollard::API_DEFAULT_VERSION,
        )
        .unwrap();
        let docker = pin(docker, ApiVersion { major: 1, minor: 41 });
        let _ = docker.version().await;
        let _ = docker.clone().list_containers(None::<ListContainersOptions>).await;
        let uris = seen.lock().unwrap().clone();
        assert_eq!(uris.len(), 2, "{uris:?}");
        assert!(uris[0].ends_with("/v1.41/version"), "{uris:?}");
        assert!(uris[1].contains("/v1.41/containers/json"), "{uris:?}");
    }
}

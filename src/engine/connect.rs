//! Reaching an engine: open a connection the way its address asks (unix socket, TCP,
//! TLS, an ssh tunnel), check that a Docker engine answers, and read what it says of
//! itself. A failure comes back as a [`ConnectError`] that names the cause, because
//! "cannot connect" is the one message an operator cannot act on.

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
        Endpoint::Context { endpoint, .. } => client(endpoint, shown),
        Endpoint::Ssh(tunnel) => Err(ConnectError::Other {
            endpoint: shown.to_string(),
            detail: format!("{} needs its tunnel opened first", tunnel.target),
        }),
    }
}

//! What Podman says only through its own API: which pod each container belongs to.
//!
//! Podman's Docker-compatible API (`/containers/json`, `/containers/{id}/json`) leaves
//! the pod out, while its libpod API lists it with every container. This module asks
//! that one question of a Podman engine, with a plain HTTP GET on the same address,
//! and nothing else: everything else goes through bollard like for Docker.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use serde::Deserialize;

use super::endpoint::Endpoint;
use super::error::EngineError;

/// Podman 4.0 is the oldest libpod API whose container list carries `PodName`.
const LIBPOD_LIST: &str = "/v4.0.0/libpod/containers/json?all=true";

#[derive(Debug, Deserialize)]
struct Listed {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "PodName", default)]
    pod_name: Option<String>,
}

/// The pod of every container in a pod, by container id, from a libpod container
/// list. Containers in no pod are left out.
pub fn parse_pods(body: &[u8]) -> Result<HashMap<String, String>, serde_json::Error> {
    let listed: Vec<Listed> = serde_json::from_slice(body)?;
    Ok(listed
        .into_iter()
        .filter_map(|c| Some((c.id, c.pod_name.filter(|p| !p.trim().is_empty())?)))
        .collect())
}

/// Asks a Podman engine which pod each container is in, within `limit`.
pub async fn pods(
    endpoint: &Endpoint,
    limit: Duration,
) -> Result<HashMap<String, String>, EngineError> {
    let during = "read Podman's pods";
    let body = tokio::time::timeout(limit, get(endpoint, limit, LIBPOD_LIST))
        .await
        .map_err(|_| EngineError::TimedOut.during(during))?
        .map_err(|detail| EngineError::Connection(detail).during(during))?;
    parse_pods(&body).map_err(|e| EngineError::Unexpected(e.to_string()).during(during))
}

async fn get(endpoint: &Endpoint, limit: Duration, path: &str) -> Result<Bytes, String> {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let response = match endpoint.target() {
        Endpoint::Unix(socket) => {
            let client = Client::builder(TokioExecutor::new())
                .build::<_, Empty<Bytes>>(hyperlocal::UnixConnector);
            client.get(hyperlocal::Uri::new(socket, path).into()).await
        }
        Endpoint::Ssh(tunnel) => {
            let socket =
                tunnel.open(limit, &endpoint.to_string()).await.map_err(|e| e.to_string())?;
            let client = Client::builder(TokioExecutor::new())
                .build::<_, Empty<Bytes>>(hyperlocal::UnixConnector);
            client.get(hyperlocal::Uri::new(socket, path).into()).await
        }
        Endpoint::Tcp { host, port, tls: None } => {
            let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
            let uri = format!("http://{host}:{port}{path}").parse().map_err(|e| format!("{e}"))?;
            client.get(uri).await
        }
        // The TLS client lives inside bollard; pods are worth no second one.
        Endpoint::Tcp { tls: Some(_), .. } => {
            return Err("pods are not read over TLS".into());
        }
        // `target()` has looked through both already.
        Endpoint::Context { .. } | Endpoint::Found { .. } => {
            return Err("unresolved context".into());
        }
    }
    .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        return Err(format!("HTTP {status}: {}", text.trim()));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_come_from_the_libpod_list() {
        // Trimmed from Podman 4.3.1's answer.
        let body = br#"[
            {"Id":"aaa","Names":["web"],"Pod":"p1id","PodName":"shop","Created":"2026-12-05T17:20:53Z"},
            {"Id":"bbb","Names":["solo"],"Pod":"","PodName":""},
            {"Id":"ccc","Names":["old"]}
        ]"#;
        let pods = parse_pods(body).unwrap();
        assert_eq!(pods.len(), 1);
        assert_eq!(pods["aaa"], "shop");
        assert!(parse_pods(b"{}").is_err());
    }
}

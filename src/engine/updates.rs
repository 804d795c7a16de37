//! Image updates: whether a container's tag now points at a newer image in its
//! registry, and carrying an update out with a rollback.
//!
//! The check asks the engine's own distribution endpoint (`/distribution/{name}/json`),
//! which talks to the registry with the daemon's TLS setup and mirrors, and compares
//! the manifest digest with the local image's `RepoDigests`. Credentials come from the
//! user's docker config (`auths`, base64 `user:pass`); credential helpers are not run.
//!
//! An update pulls the tag, then re-creates the container with the same configuration:
//! through compose when a project owns it, otherwise by the API (rename the old one to
//! `NAME-portolan-old`, stop it, create the new one from its configuration, start it).
//! It then waits for the new container to become healthy within its healthcheck's
//! window; if it does not, it rolls back (the old container, or for compose the old
//! image retagged and the service re-created) and says so. Every step is a line of a
//! run in the Compose pane.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bollard::Docker;
use bollard::auth::DockerCredentials;
use chrono::Utc;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::compose_cli;
use super::endpoint::Endpoint;
use super::error::EngineError;
use crate::model::Update;
use crate::model::compose_runs::{ComposeTarget, ComposeVerb, LineKind, RunUpdate};
use crate::model::image_updates::{CheckFailure, UpdateCheck, Verdict, short_digest};

/// How long one registry question may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a container without a healthcheck must keep running to count as up.
const NO_HEALTHCHECK_WAIT: Duration = Duration::from_secs(5);
/// Added to a healthcheck's window: the engine's first probe is not instantaneous.
const WINDOW_SLACK: Duration = Duration::from_secs(3);
/// The suffix the old container carries while its replacement proves itself.
pub const OLD_SUFFIX: &str = "-portolan-old";

/// The registry host a reference names: the first path component when it looks like
/// a host (a dot, a port or `localhost`), otherwise Docker Hub.
pub fn registry_host(reference: &str) -> String {
    let name = reference.split('@').next().unwrap_or(reference);
    match name.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.to_string()
        }
        _ => "docker.io".to_string(),
    }
}

/// The repository and tag of a reference (`latest` when it names none).
pub fn repo_and_tag(reference: &str) -> (String, String) {
    let name = reference.split('@').next().unwrap_or(reference);
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[slash..].rsplit_once(':') {
        Some((_, tag)) => (name[..name.len() - tag.len() - 1].to_string(), tag.to_string()),
        None => (name.to_string(), "latest".to_string()),
    }
}

/// Decodes standard base64 (the docker config's `auth`); `None` when it is not.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in text.trim().bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The credentials the docker config (`config.json`'s text) holds for `host`.
pub fn credentials_in(config: &str, host: &str) -> Option<DockerCredentials> {
    let json: serde_json::Value = serde_json::from_str(config).ok()?;
    let auths = json.get("auths")?.as_object()?;
    let hub = host == "docker.io";
    let entry = auths.iter().find_map(|(key, value)| {
        let key_host = key
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default();
        let matches = key_host == host
            || (hub && matches!(key_host, "index.docker.io" | "registry-1.docker.io"));
        matches.then_some(value)
    })?;
    let auth = entry.get("auth")?.as_str()?;
    let decoded = String::from_utf8(base64_decode(auth)?).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some(DockerCredentials {
        username: Some(username.to_string()),
        password: Some(password.to_string()),
        serveraddress: Some(host.to_string()),
        ..Default::default()
    })
}

/// Where the docker CLI keeps its config.
fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(Path::new(&dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|home| Path::new(&home).join(".docker/config.json"))
}

/// The user's credentials for `host`, if the docker config has them.
pub fn credentials(host: &str) -> Option<DockerCredentials> {
    let text = std::fs::read_to_string(docker_config_path()?).ok()?;
    credentials_in(&text, host)
}

/// What a failed distribution request means, in the model's words.
pub fn classify(status: Option<u16>, message: &str, host: &str, reference: &str) -> CheckFailure {
    let lower = message.to_ascii_lowercase();
    if status == Some(429) || lower.contains("toomanyrequests") || lower.contains("rate limit") {
        return CheckFailure::RateLimited(host.to_string());
    }
    let unreachable = [
        "connection refused",
        "no such host",
        "i/o timeout",
        "dial tcp",
        "network is unreachable",
        "no route to host",
        "connection reset",
        "timeout exceeded",
        "temporary failure in name resolution",
    ];
    if unreachable.iter().any(|w| lower.contains(w)) {
        return CheckFailure::Unreachable(host.to_string());
    }
    if matches!(status, Some(401) | Some(403))
        || lower.contains("unauthorized")
        || lower.contains("authentication required")
        || lower.contains("denied")
    {
        return CheckFailure::Unauthorized(host.to_string());
    }
    if status == Some(404) || lower.contains("manifest unknown") || lower.contains("not found") {
        return CheckFailure::UnknownManifest(reference.to_string());
    }
    CheckFailure::Other(crate::model::sanitize::one_line(message).into_owned())
}

/// One container to check: its id and the image reference it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckTarget {
    pub id: String,
    pub image: String,
}

/// Checks each container's image against its registry, each image once, and reports
/// all of them in one update. A registry that did not answer is not asked again in
/// the same round.
pub async fn check(docker: Docker, targets: Vec<CheckTarget>, updates: mpsc::Sender<Update>) {
    let mut remote: HashMap<String, Result<String, CheckFailure>> = HashMap::new();
    let mut dead: HashMap<String, CheckFailure> = HashMap::new();
    let mut checks = Vec::new();
    for target in targets {
        let verdict = check_one(&docker, &target, &mut remote, &mut dead).await;
        checks.push(UpdateCheck { id: target.id, image: target.image, at: Utc::now(), verdict });
    }
    let _ = updates.send(Update::UpdatesChecked(checks)).await;
}

/// The digest the registry's tag points at, or why there is none.
async fn remote_digest(docker: &Docker, reference: &str) -> Result<String, CheckFailure> {
    let host = registry_host(reference);
    let asked = docker.inspect_registry_image(reference, credentials(&host));
    match tokio::time::timeout(CHECK_TIMEOUT, asked).await {
        Err(_) => Err(CheckFailure::Unreachable(host)),
        Ok(Ok(answer)) => answer
            .descriptor
            .digest
            .ok_or_else(|| CheckFailure::Other("the registry named no digest".into())),
        Ok(Err(bollard::errors::Error::DockerResponseServerError { status_code, message })) => {
            Err(classify(Some(status_code), &message, &host, reference))
        }
        Ok(Err(error)) => Err(CheckFailure::Other(EngineError::from(error).to_string())),
    }
}

/// One container: the digests of the image it runs against what its tag points at
/// now. `remote` keeps the registry's answers of this round by reference, `dead` the
/// registries that did not answer.
async fn check_one(
    docker: &Docker,
    target: &CheckTarget,
    remote: &mut HashMap<String, Result<String, CheckFailure>>,
    dead: &mut HashMap<String, CheckFailure>,
) -> Verdict {
    let inspected = match docker.inspect_container(&target.id, None).await {
        Ok(inspected) => inspected,
        Err(error) => return Verdict::NotChecked(EngineError::from(error).to_string()),
    };
    let reference = inspected
        .config
        .as_ref()
        .and_then(|c| c.image.clone())
        .unwrap_or_else(|| target.image.clone());
    if reference.contains('@') {
        return Verdict::NotChecked("the image is named by digest: it cannot change".into());
    }
    if reference.starts_with("sha256:") {
        return Verdict::NotChecked("the container names its image by id, not by a tag".into());
    }
    let image_id = inspected.image.unwrap_or_default();
    let local = match docker.inspect_image(&image_id).await {
        Ok(image) => image.repo_digests.unwrap_or_default(),
        Err(error) => {
            return Verdict::NotChecked(format!(
                "its image is not here any more: {}",
                EngineError::from(error)
            ));
        }
    };
    let host = registry_host(&reference);
    let answer = match (remote.get(&reference), dead.get(&host)) {
        (Some(answer), _) => answer.clone(),
        (None, Some(failure)) => Err(failure.clone()),
        (None, None) => {
            let answer = remote_digest(docker, &reference).await;
            if let Err(failure @ CheckFailure::Unreachable(_)) = &answer {
                dead.insert(host, failure.clone());
            }
            remote.insert(reference.clone(), answer.clone());
            answer
        }
    };
    let remote = match answer {
        Ok(digest) => digest,
        Err(failure) => return Verdict::Failed(failure),
    };
    let (repo, _) = repo_and_tag(&reference);
    let ours: Vec<&str> = local
        .iter()
        .filter(|d| d.split('@').next() == Some(repo.as_str()))
        .filter_map(|d| d.split('@').nth(1))
        .collect();
    if ours.contains(&remote.as_str()) {
        Verdict::UpToDate { digest: remote }
    } else if local.is_empty() {
        Verdict::NotChecked(
            "the image was built here and never pushed or pulled: nothing to compare".into(),
        )
    } else {
        Verdict::Available { local: ours.first().map(|d| d.to_string()), remote }
    }
}

/// What the UI asks: update container `id`, reported as run `run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRequest {
    pub run: u64,
    pub id: String,
    pub name: String,
    /// Its compose service, when a project owns it: re-created through compose.
    pub compose: Option<ComposeTarget>,
}

/// Writes the lines of one run.
struct Reporter {
    id: u64,
    updates: mpsc::Sender<Update>,
}

impl Reporter {
    async fn line(&self, kind: LineKind, text: impl Into<String>) {
        let lines = vec![(kind, text.into())];
        let _ =
            self.updates.send(Update::Run(Box::new(RunUpdate::Lines { id: self.id, lines }))).await;
    }

    async fn step(&self, text: impl Into<String>) {
        self.line(LineKind::Step, text).await;
    }

    async fn problem(&self, text: impl Into<String>) {
        self.line(LineKind::Problem, text).await;
    }

    async fn end(&self, ok: bool, status: impl Into<String>) {
        let ended = RunUpdate::Ended { id: self.id, at: Utc::now(), ok, status: status.into() };
        let _ = self.updates.send(Update::Run(Box::new(ended))).await;
    }
}

/// Carries out an update and reports every step as run `request.run`.
pub async fn update(
    docker: Docker,
    endpoint: Endpoint,
    request: UpdateRequest,
    host: crate::model::HostId,
    updates: mpsc::Sender<Update>,
) {
    let name = request.name.trim_start_matches('/').to_string();
    let title = format!("update {name}");
    let started =
        RunUpdate::Started { id: request.run, host, title, command: None, at: Utc::now() };
    if updates.send(Update::Run(Box::new(started))).await.is_err() {
        return;
    }
    let report = Reporter { id: request.run, updates };
    let (ok, status) = match carry_out(&docker, &endpoint, &request, &name, &report).await {
        Ok(status) => (true, status),
        Err(status) => (false, status),
    };
    if !ok {
        report.problem(status.clone()).await;
    }
    report.end(ok, status).await;
}

async fn carry_out(
    docker: &Docker,
    endpoint: &Endpoint,
    request: &UpdateRequest,
    name: &str,
    report: &Reporter,
) -> Result<String, String> {
    let engine = |e: bollard::errors::Error| EngineError::from(e).to_string();
    report.step(format!("inspecting {name}")).await;
    let old = docker.inspect_container(&request.id, None).await.map_err(engine)?;
    let reference = old.config.as_ref().and_then(|c| c.image.clone()).unwrap_or_default();
    if reference.is_empty() || reference.starts_with("sha256:") || reference.contains('@') {
        return Err(format!("{name} names its image by id or digest: there is no tag to update"));
    }
    let old_image = old.image.clone().unwrap_or_default();
    report.step(format!("pulling {reference}")).await;
    pull(docker, &reference, report).await?;
    let new_image = docker.inspect_image(&reference).await.map_err(engine)?.id.unwrap_or_default();
    if new_image == old_image {
        return Ok(format!("{name} already runs the newest {reference}"));
    }
    report
        .step(format!("{reference}: {} → {}", short_digest(&old_image), short_digest(&new_image)))
        .await;
    match &request.compose {
        Some(target) => {
            via_compose(docker, endpoint, target, name, &request.id, &reference, &old_image, report)
                .await
        }
        None => via_api(docker, old, name, &reference, report).await,
    }
}

/// Pulls `reference`, reporting each new status (not every progress tick).
async fn pull(docker: &Docker, reference: &str, report: &Reporter) -> Result<(), String> {
    use bollard::query_parameters::CreateImageOptions;
    let (repo, tag) = repo_and_tag(reference);
    let options =
        CreateImageOptions { from_image: Some(repo), tag: Some(tag), ..Default::default() };
    let host = registry_host(reference);
    let mut stream = docker.create_image(Some(options), None, credentials(&host));
    let mut last = String::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                let status = info.status.unwrap_or_default();
                if matches!(status.as_str(), "Downloading" | "Extracting" | "Waiting") {
                    continue;
                }
                let line = match info.id {
                    Some(id) => format!("{id}: {status}"),
                    None => status,
                };
                if line != last && !line.is_empty() {
                    report.line(LineKind::Output, line.clone()).await;
                    last = line;
                }
            }
            Err(bollard::errors::Error::DockerResponseServerError { status_code, message }) => {
                let failure = classify(Some(status_code), &message, &host, reference);
                return Err(format!("the pull failed: {}", failure.describe()));
            }
            Err(error) => return Err(format!("the pull failed: {}", EngineError::from(error))),
        }
    }
    Ok(())
}

/// Where [`create_body`] leaves the networks to connect after the create (taken out
/// before the body is sent).
const MORE_NETWORKS: &str = "PortolanMoreNetworks";

/// The body that creates a container like `old` from `image`: its own settings kept,
/// what it only inherited from its old image left out so the new image's apply.
pub fn create_body(
    old: &serde_json::Value,
    old_image_config: &serde_json::Value,
    image: &str,
) -> serde_json::Value {
    use serde_json::{Map, Value};
    let mut config = old.get("Config").cloned().unwrap_or_else(|| Value::Object(Map::new()));
    let inherited = |key: &str, config: &Value| {
        let mine = config.get(key).filter(|v| !v.is_null());
        let theirs = old_image_config.get(key).filter(|v| !v.is_null());
        mine.is_some() && mine == theirs
    };
    if let Some(object) = config.as_object_mut() {
        for key in [
            "Cmd",
            "Entrypoint",
            "Healthcheck",
            "WorkingDir",
            "User",
            "ExposedPorts",
            "Volumes",
            "StopSignal",
            "Shell",
            "OnBuild",
        ] {
            if inherited(key, &Value::Object(object.clone())) {
                object.remove(key);
            }
        }
        if let Some(Value::Array(env)) = object.get("Env").cloned() {
            let image_env =
                old_image_config.get("Env").and_then(Value::as_array).cloned().unwrap_or_default();
            let own: Vec<Value> = env.into_iter().filter(|e| !image_env.contains(e)).collect();
            object.insert("Env".into(), Value::Array(own));
        }
        if let Some(Value::Object(labels)) = object.get("Labels").cloned() {
            let image_labels = old_image_config.get("Labels").and_then(Value::as_object);
            let own: Map<String, Value> = labels
                .into_iter()
                .filter(|(k, v)| image_labels.and_then(|l| l.get(k)) != Some(v))
                .collect();
            object.insert("Labels".into(), Value::Object(own));
        }
        // The engine's default hostname is the old container's short id.
        let id = old.get("Id").and_then(Value::as_str).unwrap_or_default();
        let hostname = object.get("Hostname").and_then(Value::as_str).unwrap_or_default();
        if !hostname.is_empty() && id.starts_with(hostname) {
            object.remove("Hostname");
        }
        object.insert("Image".into(), Value::String(image.to_string()));
        if let Some(host_config) = old.get("HostConfig") {
            let mut host_config = host_config.clone();
            keep_anonymous_volumes(old, &mut host_config);
            object.insert("HostConfig".into(), host_config);
        }
        let networks = old
            .pointer("/NetworkSettings/Networks")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut endpoints = Map::new();
        let short: String = id.chars().take(12).collect();
        for (network, settings) in networks {
            let mut endpoint = Map::new();
            for key in ["IPAMConfig", "Links", "DriverOpts", "MacAddress"] {
                if let Some(value) = settings.get(key).filter(|v| !v.is_null()) {
                    endpoint.insert(key.into(), value.clone());
                }
            }
            if let Some(Value::Array(aliases)) = settings.get("Aliases") {
                let aliases: Vec<Value> = aliases
                    .iter()
                    .filter(|a| a.as_str() != Some(short.as_str()))
                    .cloned()
                    .collect();
                endpoint.insert("Aliases".into(), Value::Array(aliases));
            }
            endpoints.insert(network, Value::Object(endpoint));
        }
        // Engines before API 1.44 take one network at create: the one the host
        // config names first, the others are connected before the start.
        let primary = old
            .pointer("/HostConfig/NetworkMode")
            .and_then(Value::as_str)
            .filter(|mode| endpoints.contains_key(*mode))
            .map(String::from)
            .or_else(|| endpoints.keys().next().cloned());
        if let Some(primary) = primary {
            let mut first = Map::new();
            if let Some(settings) = endpoints.get(&primary) {
                first.insert(primary.clone(), settings.clone());
            }
            let mut networking = Map::new();
            networking.insert("EndpointsConfig".into(), Value::Object(first));
            object.insert("NetworkingConfig".into(), Value::Object(networking));
            let others: Map<String, Value> =
                endpoints.into_iter().filter(|(name, _)| *name != primary).collect();
            if !others.is_empty() {
                object.insert(MORE_NETWORKS.into(), Value::Object(others));
            }
        }
    }
    config
}

/// Volumes the old container has that its configuration does not name (an image's
/// `VOLUME`, `-v /path`): the new container mounts the same ones, so their data
/// carries over instead of starting empty.
fn keep_anonymous_volumes(old: &serde_json::Value, host_config: &mut serde_json::Value) {
    use serde_json::Value;
    let binds: Vec<String> = host_config
        .get("Binds")
        .and_then(Value::as_array)
        .map(|b| b.iter().filter_map(Value::as_str).map(String::from).collect())
        .unwrap_or_default();
    let mut targets: Vec<String> =
        binds.iter().filter_map(|b| b.split(':').nth(1)).map(String::from).collect();
    if let Some(mounts) = host_config.get("Mounts").and_then(Value::as_array) {
        targets.extend(mounts.iter().filter_map(|m| m.get("Target")?.as_str()).map(String::from));
    }
    let mut more = Vec::new();
    for mount in old.get("Mounts").and_then(Value::as_array).into_iter().flatten() {
        let field = |k: &str| mount.get(k).and_then(Value::as_str).unwrap_or_default();
        if field("Type") != "volume" || field("Name").is_empty() {
            continue;
        }
        let destination = field("Destination");
        if destination.is_empty() || targets.iter().any(|t| t == destination) {
            continue;
        }
        let read_only = mount.get("RW").and_then(Value::as_bool) == Some(false);
        let suffix = if read_only { ":ro" } else { "" };
        more.push(Value::String(format!("{}:{destination}{suffix}", field("Name"))));
    }
    if more.is_empty() {
        return;
    }
    if let Some(object) = host_config.as_object_mut() {
        let mut all: Vec<Value> = binds.into_iter().map(Value::String).collect();
        all.extend(more);
        object.insert("Binds".into(), Value::Array(all));
    }
}

async fn rename(docker: &Docker, id: &str, name: &str) -> Result<(), String> {
    use bollard::query_parameters::RenameContainerOptions;
    let options = RenameContainerOptions { name: name.to_string() };
    docker.rename_container(id, options).await.map_err(|e| EngineError::from(e).to_string())
}

async fn stop(docker: &Docker, id: &str) -> Result<(), String> {
    use bollard::query_parameters::StopContainerOptions;
    let options = StopContainerOptions { t: Some(10), signal: None };
    match docker.stop_container(id, Some(options)).await {
        Ok(()) => Ok(()),
        // 304: it was not running.
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 304, .. }) => Ok(()),
        Err(error) => Err(EngineError::from(error).to_string()),
    }
}

async fn remove(docker: &Docker, id: &str) -> Result<(), String> {
    use bollard::query_parameters::RemoveContainerOptions;
    let options = RemoveContainerOptions { force: true, v: false, link: false };
    docker.remove_container(id, Some(options)).await.map_err(|e| EngineError::from(e).to_string())
}

async fn via_api(
    docker: &Docker,
    old: bollard::models::ContainerInspectResponse,
    name: &str,
    reference: &str,
    report: &Reporter,
) -> Result<String, String> {
    let engine = |e: bollard::errors::Error| EngineError::from(e).to_string();
    let old_id = old.id.clone().unwrap_or_default();
    let old_json = serde_json::to_value(&old).map_err(|e| e.to_string())?;
    let old_image = old.image.clone().unwrap_or_default();
    let image_config = docker
        .inspect_image(&old_image)
        .await
        .ok()
        .and_then(|i| serde_json::to_value(i.config).ok())
        .unwrap_or(serde_json::Value::Null);
    let mut body = create_body(&old_json, &image_config, reference);
    let more_networks = body
        .as_object_mut()
        .and_then(|o| o.remove(MORE_NETWORKS))
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    let body: bollard::models::ContainerCreateBody = serde_json::from_value(body)
        .map_err(|e| format!("cannot repeat its configuration: {e}"))?;
    if old.host_config.as_ref().and_then(|h| h.auto_remove) == Some(true) {
        return Err(format!(
            "{name} was started with --rm: stopping it would remove it, and with it the \
             way back; re-create it yourself with the new image"
        ));
    }
    let was_running = old.state.as_ref().and_then(|s| s.running).unwrap_or(false);
    let parked = format!("{name}{OLD_SUFFIX}");
    report.step(format!("renaming {name} to {parked}")).await;
    rename(docker, &old_id, &parked).await?;
    report.step(format!("stopping {parked}")).await;
    if let Err(why) = stop(docker, &old_id).await {
        restore(docker, &old_id, None, name, was_running, report).await;
        return Err(format!("could not stop the old container: {why}; it was left as it was"));
    }
    report.step(format!("creating {name} with the same configuration from {reference}")).await;
    use bollard::query_parameters::CreateContainerOptions;
    let options = CreateContainerOptions { name: Some(name.to_string()), ..Default::default() };
    let new_id = match docker.create_container(Some(options), body).await {
        Ok(created) => created.id,
        Err(error) => {
            let why = engine(error);
            restore(docker, &old_id, None, name, was_running, report).await;
            return Err(format!("could not create the new container ({why}): rolled back"));
        }
    };
    for (network, settings) in more_networks {
        report.step(format!("connecting {name} to {network}")).await;
        let settings: bollard::models::EndpointSettings =
            serde_json::from_value(settings).unwrap_or_default();
        let request = bollard::models::NetworkConnectRequest {
            container: new_id.clone(),
            endpoint_config: Some(settings),
        };
        if let Err(error) = docker.connect_network(&network, request).await {
            let why = engine(error);
            restore(docker, &old_id, Some(&new_id), name, was_running, report).await;
            return Err(format!("could not connect it to {network} ({why}): rolled back"));
        }
    }
    report.step(format!("starting {name}")).await;
    if let Err(error) = docker.start_container(&new_id, None).await {
        let why = engine(error);
        restore(docker, &old_id, Some(&new_id), name, was_running, report).await;
        return Err(format!(
            "the new container did not start ({why}): rolled back, {name} runs its old image again"
        ));
    }
    if let Err(why) = wait_healthy(docker, &new_id, report).await {
        restore(docker, &old_id, Some(&new_id), name, was_running, report).await;
        return Err(format!("{why}: rolled back, {name} runs its old image again"));
    }
    report.step(format!("removing {parked}")).await;
    if let Err(why) = remove(docker, &old_id).await {
        report.problem(format!("could not remove {parked}: {why}")).await;
    }
    Ok(format!("updated {name} to {}", short_digest(&new_id)))
}

/// Puts the old container back: the new one removed, the old one renamed back and
/// started again when it ran before.
async fn restore(
    docker: &Docker,
    old_id: &str,
    new_id: Option<&str>,
    name: &str,
    was_running: bool,
    report: &Reporter,
) {
    report.problem("rolling back").await;
    if let Some(new_id) = new_id {
        report.step(format!("removing the new {name}")).await;
        if let Err(why) = remove(docker, new_id).await {
            report.problem(format!("could not remove the new container: {why}")).await;
        }
    }
    report.step(format!("renaming {name}{OLD_SUFFIX} back to {name}")).await;
    if let Err(why) = rename(docker, old_id, name).await {
        report.problem(format!("could not rename it back: {why}")).await;
    }
    if was_running {
        report.step(format!("starting {name} again")).await;
        if let Err(error) = docker.start_container(old_id, None).await {
            let why = EngineError::from(error);
            report.problem(format!("could not start it again: {why}")).await;
        }
    }
}

/// How long to wait for a container to prove itself, from its healthcheck
/// (interval × retries + start period, Docker's defaults where unset); `None` when
/// it has none.
pub fn health_window(health: Option<&bollard::models::HealthConfig>) -> Option<Duration> {
    let health = health?;
    let test = health.test.clone().unwrap_or_default();
    if test.first().map(String::as_str) == Some("NONE") {
        return None;
    }
    let nanos = |v: Option<i64>, default: u64| {
        v.filter(|n| *n > 0)
            .map_or(Duration::from_secs(default), |n| Duration::from_nanos(n as u64))
    };
    let interval = nanos(health.interval, 30);
    let timeout = nanos(health.timeout, 30);
    let start = nanos(health.start_period, 0);
    let retries = health.retries.filter(|r| *r > 0).unwrap_or(3) as u32;
    Some(start + (interval + timeout.min(interval)) * retries + WINDOW_SLACK)
}

/// Waits for container `id` to become healthy (or, without a healthcheck, to keep
/// running for a few seconds); says why not.
async fn wait_healthy(docker: &Docker, id: &str, report: &Reporter) -> Result<(), String> {
    let inspect =
        docker.inspect_container(id, None).await.map_err(|e| EngineError::from(e).to_string())?;
    let window = health_window(inspect.config.as_ref().and_then(|c| c.healthcheck.as_ref()));
    let (limit, checked) = match window {
        Some(window) => (window, true),
        None => (NO_HEALTHCHECK_WAIT, false),
    };
    if checked {
        report.step(format!("waiting up to {} s for it to become healthy", limit.as_secs())).await;
    } else {
        report
            .step(format!("no healthcheck: waiting {} s to see it keeps running", limit.as_secs()))
            .await;
    }
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = docker
            .inspect_container(id, None)
            .await
            .map_err(|e| EngineError::from(e).to_string())?;
        let state = now.state.unwrap_or_default();
        if !state.running.unwrap_or(false) {
            let code = state.exit_code.unwrap_or_default();
            return Err(format!("the new container stopped (exit code {code})"));
        }
        let health = state.health.and_then(|h| h.status).map(|s| s.to_string());
        if checked {
            match health.as_deref() {
                Some("healthy") => {
                    report.step("healthy").await;
                    return Ok(());
                }
                Some("unhealthy") => return Err("the new container became unhealthy".into()),
                _ => {}
            }
        }
        if tokio::time::Instant::now() >= deadline {
            if checked {
                return Err(format!(
                    "the new container did not become healthy within {} s",
                    limit.as_secs()
                ));
            }
            report.step("still running").await;
            return Ok(());
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn via_compose(
    docker: &Docker,
    endpoint: &Endpoint,
    target: &ComposeTarget,
    name: &str,
    old_id: &str,
    reference: &str,
    old_image: &str,
    report: &Reporter,
) -> Result<String, String> {
    let installed = compose_cli::installed().await;
    let exists = |p: &Path| p.exists();
    let up = compose_cli::plan(endpoint, target, ComposeVerb::Up, installed, &exists)?;
    report.step(format!("$ {}", up.display())).await;
    let (ok, status) = compose_cli::execute(&up, report.id, &report.updates).await;
    if !ok {
        return Err(format!("compose up failed ({status})"));
    }
    let new_id = service_container(docker, target)
        .await
        .ok_or_else(|| format!("compose left no running container for {}", target.describe()))?;
    if new_id == old_id {
        return Ok(format!("compose kept {name}: nothing to re-create"));
    }
    if let Err(why) = wait_healthy(docker, &new_id, report).await {
        report.problem(format!("{why}: rolling back")).await;
        let (repo, tag) = repo_and_tag(reference);
        report
            .step(format!("tagging the old image {} as {reference}", short_digest(old_image)))
            .await;
        use bollard::query_parameters::TagImageOptions;
        let options = TagImageOptions { repo: Some(repo), tag: Some(tag) };
        if let Err(error) = docker.tag_image(old_image, Some(options)).await {
            return Err(format!(
                "{why}; the rollback could not retag the old image: {}",
                EngineError::from(error)
            ));
        }
        let again = compose_cli::plan(endpoint, target, ComposeVerb::Recreate, installed, &exists)?;
        report.step(format!("$ {}", again.display())).await;
        let (ok, status) = compose_cli::execute(&again, report.id, &report.updates).await;
        return Err(if ok {
            format!("{why}: rolled back, {} runs its old image again", target.describe())
        } else {
            format!("{why}; the rollback's compose up failed ({status})")
        });
    }
    Ok(format!("updated {}", target.describe()))
}

/// The running container compose made for a service.
async fn service_container(docker: &Docker, target: &ComposeTarget) -> Option<String> {
    use bollard::query_parameters::ListContainersOptions;
    let service = target.service.as_deref()?;
    let mut filters = HashMap::new();
    filters.insert(
        "label".to_string(),
        vec![
            format!("{}={}", crate::model::compose::PROJECT, target.project),
            format!("{}={service}", crate::model::compose::SERVICE),
        ],
    );
    let options =
        ListContainersOptions { all: false, filters: Some(filters), ..Default::default() };
    let list = docker.list_containers(Some(options)).await.ok()?;
    list.into_iter().find_map(|c| c.id)
}

#[cfg(test)]
mod tests;

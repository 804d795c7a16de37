//! An operator's verbs on containers (start, stop, restart, pause, kill, remove),
//! carried out one container after the other in a task of their own: a stop waits up
//! to its grace period, and the events it causes must keep flowing meanwhile.

use bollard::Docker;
use chrono::Utc;
use tokio::sync::mpsc;

use super::error::EngineError;
use crate::model::Update;
use crate::model::action::{ActionResult, Verb};
use crate::model::changes::{Change, ChangeKind, ContainerChanges, PathInfo, PathStat};

/// Seconds a stop or restart gives the process before the engine kills it (Docker's
/// own default).
const STOP_GRACE_SECONDS: i32 = 10;

/// Carries out one verb on each target in turn, reporting start and end of each.
pub async fn act(
    docker: Docker,
    verb: Verb,
    targets: Vec<(String, String)>,
    updates: mpsc::Sender<Update>,
) {
    use bollard::query_parameters::{
        KillContainerOptions, RemoveContainerOptions, RestartContainerOptions, StopContainerOptions,
    };
    for (id, name) in targets {
        if updates.send(Update::ActionStarted { id: id.clone(), verb }).await.is_err() {
            return;
        }
        let outcome = match verb {
            Verb::Start => docker.start_container(&id, None).await,
            Verb::Stop => {
                let options = StopContainerOptions { t: Some(STOP_GRACE_SECONDS), signal: None };
                docker.stop_container(&id, Some(options)).await
            }
            Verb::Restart => {
                let options = RestartContainerOptions { t: Some(STOP_GRACE_SECONDS), signal: None };
                docker.restart_container(&id, Some(options)).await
            }
            Verb::Pause => docker.pause_container(&id).await,
            Verb::Unpause => docker.unpause_container(&id).await,
            Verb::Kill => {
                let options = KillContainerOptions { signal: "KILL".to_string() };
                docker.kill_container(&id, Some(options)).await
            }
            Verb::Remove => {
                // The UI has asked harder for a running one: force stops it first.
                let options = RemoveContainerOptions { force: true, v: false, link: false };
                docker.remove_container(&id, Some(options)).await
            }
        };
        let error = outcome.err().map(|e| EngineError::from(e).to_string());
        let result = ActionResult { at: Utc::now(), id, name, verb, error };
        if updates.send(Update::ActionDone(Box::new(result))).await.is_err() {
            return;
        }
    }
}

/// How long the engine may take to list a container's changes: it walks the whole
/// writable layer, which can be large, but an answer that never comes must say so.
const CHANGES_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Asks the engine what container `id` changed against its image and reports it.
pub async fn changes(docker: Docker, id: String, updates: mpsc::Sender<Update>) {
    let answer = tokio::time::timeout(CHANGES_TIMEOUT, docker.container_changes(&id)).await;
    let result = match answer {
        Err(_) => Err("the engine did not list the changes within 60 s".to_string()),
        Ok(Err(error)) => Err(EngineError::from(error).to_string()),
        Ok(Ok(list)) => Ok(list
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| {
                let kind = ChangeKind::from_engine(c.kind as i64)?;
                Some(Change { path: c.path, kind })
            })
            .collect()),
    };
    let changes = ContainerChanges { id, at: Utc::now(), result, stats: Default::default() };
    let _ = updates.send(Update::Changes(Box::new(changes))).await;
}

/// Go's `os.ModeDir`, as the archive endpoint's mode carries it.
const MODE_DIR: u32 = 1 << 31;

/// How long one path's description may take: a HEAD on the archive endpoint.
const PATH_STAT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Asks the engine for one path's size and kind (the archive endpoint's HEAD, which
/// reads no content) and reports it.
pub async fn path_stat(docker: Docker, id: String, path: String, updates: mpsc::Sender<Update>) {
    use bollard::query_parameters::ContainerArchiveInfoOptions;
    let options = ContainerArchiveInfoOptions { path: path.clone() };
    let answer = tokio::time::timeout(
        PATH_STAT_TIMEOUT,
        docker.get_container_archive_info(&id, Some(options)),
    )
    .await;
    let result = match answer {
        Err(_) => Err("the engine did not describe it within 10 s".to_string()),
        Ok(Err(error)) => Err(EngineError::from(error).to_string()),
        Ok(Ok(stat)) => Ok(PathInfo {
            size: u64::try_from(stat.size).unwrap_or(0),
            dir: stat.file_mode & MODE_DIR != 0,
            link_target: stat.link_target,
        }),
    };
    let _ = updates.send(Update::PathStat(Box::new(PathStat { id, path, result }))).await;
}

/// The answer to a request for changes that cannot be asked.
pub fn changes_unanswered(id: String, why: &str) -> Update {
    let changes =
        ContainerChanges { id, at: Utc::now(), result: Err(why.into()), stats: Default::default() };
    Update::Changes(Box::new(changes))
}

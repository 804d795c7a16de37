//! Several engines followed at once. Each has its own supervisor (so one that is lost
//! or slow holds up none of the others); their updates are merged into one channel,
//! each tagged with the engine it came from.

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::shell::{ShellEvent, ShellRequest};
use super::{Endpoint, EngineCommand, EngineHandle, EngineOptions, Start};
use crate::model::{HostId, Update};

/// One engine to follow: where it is, and how start-up's attempt to reach it went.
pub struct Member {
    pub endpoint: Endpoint,
    pub start: Start,
}

/// Running supervisors, one per engine, in the order named.
pub struct Fleet {
    pub updates: mpsc::Receiver<(HostId, Update)>,
    /// Every engine's shells; a session's id says which one it is.
    pub shells: mpsc::Receiver<ShellEvent>,
    members: Vec<Running>,
}

struct Running {
    handle: EngineHandle,
    forward: JoinHandle<()>,
    forward_shells: JoinHandle<()>,
}

impl Fleet {
    pub fn spawn(members: Vec<Member>, options: &EngineOptions) -> Fleet {
        let (tx, rx) = mpsc::channel(256);
        let (shells_tx, shells_rx) = mpsc::channel(8);
        let members = members
            .into_iter()
            .enumerate()
            .map(|(host, member)| {
                let mut handle = super::spawn_with(member.endpoint, member.start, options.clone());
                let mut updates = std::mem::replace(&mut handle.updates, mpsc::channel(1).1);
                let tx = tx.clone();
                // The merged channel is bounded like each engine's: a UI that falls
                // behind slows the engines down instead of growing a queue.
                let forward = tokio::spawn(async move {
                    while let Some(update) = updates.recv().await {
                        if tx.send((host, update)).await.is_err() {
                            return;
                        }
                    }
                });
                let mut shells = std::mem::replace(&mut handle.shells, mpsc::channel(1).1);
                let shells_tx = shells_tx.clone();
                let forward_shells = tokio::spawn(async move {
                    while let Some(event) = shells.recv().await {
                        if shells_tx.send(event).await.is_err() {
                            return;
                        }
                    }
                });
                Running { handle, forward, forward_shells }
            })
            .collect();
        Fleet { updates: rx, shells: shells_rx, members }
    }

    /// Passes a request on: log requests go to every engine (each follows what it
    /// holds), an action to the engine of its containers.
    pub fn command(&self, command: EngineCommand) {
        match &command {
            EngineCommand::Act { host, .. }
            | EngineCommand::OpenShell(ShellRequest { host, .. })
            | EngineCommand::Changes { host, .. }
            | EngineCommand::PathStat { host, .. }
            | EngineCommand::Files { host, .. }
            | EngineCommand::Compose { host, .. }
            | EngineCommand::CheckUpdates { host, .. }
            | EngineCommand::UpdateImage { host, .. }
            | EngineCommand::Resource { host, .. } => {
                if let Some(member) = self.members.get(*host) {
                    member.handle.command(command);
                }
            }
            EngineCommand::CheckPorts(request) => {
                if let Some(member) = self.members.get(request.host) {
                    member.handle.command(command);
                }
            }
            EngineCommand::DiskUsage { host } => {
                if let Some(member) = self.members.get(*host) {
                    member.handle.command(command);
                }
            }
            EngineCommand::Prune(plan) => {
                if let Some(member) = self.members.get(plan.host) {
                    member.handle.command(command);
                }
            }
            EngineCommand::KillProcess(ask) => {
                if let Some(member) = self.members.get(ask.host) {
                    member.handle.command(command);
                }
            }
            // One container is watched: only its engine reads, the others stop.
            EngineCommand::Processes(request) => {
                for (host, member) in self.members.iter().enumerate() {
                    let wanted = request.as_ref().filter(|r| r.host == host).cloned();
                    member.handle.command(EngineCommand::Processes(wanted));
                }
            }
            EngineCommand::FollowLogs(request) => {
                let wanted = request.as_ref().and_then(|r| r.hosts.as_ref());
                for (host, member) in self.members.iter().enumerate() {
                    if wanted.is_none_or(|hosts| hosts.contains(&host)) {
                        member.handle.command(command.clone());
                    } else {
                        // Whatever it followed before is not wanted now.
                        member.handle.command(EngineCommand::FollowLogs(None));
                    }
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub async fn stop(self) {
        // All at once: one engine's slow goodbye must not delay the others'.
        for member in &self.members {
            member.handle.cancel();
        }
        for member in self.members {
            member.handle.stop().await;
            member.forward.abort();
            member.forward_shells.abort();
        }
    }
}

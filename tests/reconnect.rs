//! Losing the engine is a state, not a crash: the supervisor reports "disconnected
//! since T", keeps retrying, and resyncs when the engine is back. The engine's socket
//! is reached through a proxy this test can cut and restore, so the shared daemon
//! itself is never stopped.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use portolan::engine::{Endpoint, EngineOptions};
use portolan::model::Connection;
use support::{Fixture, Watch};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinSet;

struct SocketProxy {
    path: PathBuf,
    tasks: JoinSet<()>,
}

impl SocketProxy {
    fn start(path: &Path, upstream: &Path) -> SocketProxy {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).expect("bind proxy socket");
        let upstream = upstream.to_path_buf();
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                connections.spawn(async move {
                    if let Ok(mut server) = UnixStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
            // Dropping `connections` here would not run: abort() cancels this task,
            // and the JoinSet's drop aborts every proxied connection with it.
        });
        SocketProxy { path: path.to_path_buf(), tasks }
    }

    /// Cuts every connection and removes the socket, like a daemon that died.
    fn kill(mut self) {
        self.tasks.abort_all();
        let _ = std::fs::remove_file(&self.path);
    }
}

fn upstream_socket() -> PathBuf {
    match support::endpoint() {
        Endpoint::Unix(path) => path,
        other => panic!("the reconnection test proxies a unix socket; DOCKER_HOST is {other}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn lost_engine_is_reported_and_resynced_when_back() {
    let fx = Fixture::new("reconnect");
    let before = fx.run("before", &[], &["sleep", "600"]);
    let socket = std::env::temp_dir().join(format!("{}.sock", fx.name("proxy")));
    let upstream = upstream_socket();
    let proxy = SocketProxy::start(&socket, &upstream);
    let mut watch = Watch::start_at(Endpoint::Unix(socket.clone()), EngineOptions::default()).await;
    watch
        .wait("the first container", Duration::from_secs(5), |m| m.containers.contains_key(&before))
        .await;
    assert!(watch.model.hosts[0].connection.is_connected());

    proxy.kill();
    watch
        .wait("disconnected", Duration::from_secs(20), |m| {
            matches!(m.hosts[0].connection, Connection::Disconnected { .. })
        })
        .await;
    let Connection::Disconnected { since, .. } = watch.model.hosts[0].connection.clone() else {
        unreachable!()
    };
    // The last known state stays on screen during the outage.
    assert!(watch.model.containers.contains_key(&before));
    // A few failed attempts later the outage still dates from its first moment.
    tokio::time::sleep(Duration::from_secs(2)).await;
    while let Ok(update) = watch.handle.updates.try_recv() {
        watch.model.apply(update);
    }
    match &watch.model.hosts[0].connection {
        Connection::Disconnected { since: still, reason } => {
            assert_eq!(*still, since);
            assert!(reason.contains("no such socket"), "reason in words: {reason}");
        }
        other => panic!("expected to stay disconnected, got {other:?}"),
    }

    // Changes made while portolan could not see them are picked up by the resync.
    let during = fx.run("during", &[], &["sleep", "600"]);
    support::docker_ok(&["rm", "-f", &before]);
    let proxy = SocketProxy::start(&socket, &upstream);
    watch
        .wait("reconnected and resynced", Duration::from_secs(20), |m| {
            m.hosts[0].connection.is_connected()
                && m.containers.contains_key(&during)
                && !m.containers.contains_key(&before)
        })
        .await;
    // Stats resume after the resync.
    watch
        .wait("stats again", Duration::from_secs(10), |m| {
            m.stats.get(&during).and_then(|s| s.latest_with_cpu()).is_some()
        })
        .await;
    watch.stop().await;
    proxy.kill();
}

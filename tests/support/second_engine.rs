//! A second, private Docker engine for tests that must change the engine itself
//! (`docker swarm init`): the host's engine is shared with other tests and people.
//!
//! It runs in its own network namespace, because a second dockerd in the host's
//! namespace takes over (or deletes) the host engine's `docker0` and breaks its
//! containers. It has its own socket, data root, exec root and pid file in a temp
//! directory, an empty config file (the host's daemon.json names a storage driver
//! that needs FUSE), no bridge and no iptables. Dropping it leaves the swarm, stops
//! the daemon and removes its directory, also when the test panics.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use portolan::engine::Endpoint;

pub struct SecondEngine {
    pub dir: PathBuf,
    pub socket: PathBuf,
    daemon: Child,
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn found(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Why a second engine cannot run here, if it cannot.
fn missing() -> Option<String> {
    for program in ["dockerd", "unshare", "ip", "docker"] {
        if !found(program) {
            return Some(format!("{program} is not installed"));
        }
    }
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("a second dockerd needs root".into());
    }
    None
}

impl SecondEngine {
    /// Starts the engine, or returns `None` (after saying why) where it cannot run;
    /// in CI (`CI=true`) a missing piece fails the test instead.
    pub fn start(test: &str) -> Option<SecondEngine> {
        if let Some(why) = missing() {
            assert!(!in_ci(), "cannot start a second Docker engine in CI: {why}");
            eprintln!("skipping {test}: {why}");
            return None;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        // Short: a unix socket path is limited to about 100 bytes.
        let dir = std::env::temp_dir().join(format!("pt-{}-{:x}", std::process::id(), nanos));
        std::fs::create_dir_all(dir.join("data")).expect("temp dir for the second engine");
        std::fs::create_dir_all(dir.join("exec")).expect("temp dir for the second engine");
        std::fs::write(dir.join("daemon.json"), "{}").expect("empty daemon config");
        let socket = dir.join("docker.sock");
        let daemon = spawn_daemon(&dir);
        let engine = SecondEngine { dir, socket, daemon };
        engine.wait_ready(Duration::from_secs(30));
        engine.load_test_image();
        Some(engine)
    }

    /// Stops the daemon the way an outage or a package upgrade would, keeping its data
    /// so [`SecondEngine::restart_daemon`] brings the same engine back.
    pub fn stop_daemon(&mut self) {
        let pid = self.daemon.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.daemon.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                _ => {
                    let _ = self.daemon.kill();
                    let _ = self.daemon.wait();
                    break;
                }
            }
        }
    }

    /// Starts the daemon again on the same socket and data.
    pub fn restart_daemon(&mut self) {
        self.daemon = spawn_daemon(&self.dir);
        self.wait_ready(Duration::from_secs(30));
    }

    fn private(&self) -> super::PrivateEngine<'_> {
        super::PrivateEngine {
            socket: &self.socket,
            log: self.dir.join("dockerd.log"),
            what: "the second dockerd",
        }
    }

    fn wait_ready(&self, timeout: Duration) {
        self.private().wait_ready(timeout);
    }

    pub fn log_tail(&self) -> String {
        self.private().log_tail()
    }

    fn load_test_image(&self) {
        self.private().load_test_image();
    }

    pub fn host(&self) -> String {
        self.private().host()
    }

    /// The docker CLI against this engine.
    pub fn docker(&self, args: &[&str]) -> Output {
        self.private().docker(args)
    }

    pub fn endpoint(&self) -> Endpoint {
        Endpoint::Unix(self.socket.clone())
    }

    pub fn docker_ok(&self, args: &[&str]) -> String {
        super::succeeded(args, self.docker(args))
    }

    fn stop(&mut self) {
        // Services first, so their containers stop while the daemon still runs them.
        let services = self.docker(&["service", "ls", "-q"]);
        for id in String::from_utf8_lossy(&services.stdout).split_whitespace() {
            let _ = self.docker(&["service", "rm", id]);
        }
        let _ = self.docker(&["swarm", "leave", "--force"]);
        let ids = self.docker(&["ps", "-aq"]);
        for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
            let _ = self.docker(&["rm", "-f", id]);
        }
        self.stop_daemon();
        remove_dir(&self.dir);
    }
}

/// A dockerd in its own network namespace, on the socket, data and exec root in `dir`.
fn spawn_daemon(dir: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("dockerd.log"))
        .expect("dockerd log file");
    let d = dir.display();
    // `exec`: the child is dockerd itself, so stopping the child stops the daemon.
    let script = format!(
        "ip link set lo up && exec dockerd --config-file {d}/daemon.json \
         -H unix://{d}/docker.sock --data-root {d}/data --exec-root {d}/exec \
         --pidfile {d}/docker.pid --bridge=none --iptables=false --ip6tables=false \
         --storage-driver=vfs"
    );
    Command::new("unshare")
        .args(["-n", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .spawn()
        .expect("unshare runs")
}

/// Removes the engine's directory; a mount left behind is unmounted first.
fn remove_dir(dir: &Path) {
    if std::fs::remove_dir_all(dir).is_ok() {
        return;
    }
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let prefix = dir.display().to_string();
    let mut points: Vec<&str> = mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|p| p.starts_with(&prefix))
        .collect();
    // Deepest first.
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for point in points {
        let _ = Command::new("umount").args(["-l", point]).status();
    }
    if let Err(e) = std::fs::remove_dir_all(dir) {
        eprintln!("cannot remove {}: {e}", dir.display());
    }
}

impl Drop for SecondEngine {
    fn drop(&mut self) {
        self.stop();
    }
}

//! A private Podman engine for the Podman tests: `podman system service` on its own
//! socket, with its own storage, run state, network configuration and temp directory
//! under a temp directory, so nothing is shared with another Podman on the machine.
//!
//! It runs in its own network namespace: Podman's netavark sets up bridges and
//! firewall rules, which in the host's namespace could disturb the Docker engine the
//! other tests share. Its storage driver is vfs, which works on any filesystem.
//! Dropping it removes every container and pod, stops the service and removes its
//! directory, also when the test panics.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use portolan::engine::Endpoint;

pub struct PodmanEngine {
    pub dir: PathBuf,
    pub socket: PathBuf,
    service: Child,
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

/// Why Podman cannot run here, if it cannot.
fn missing() -> Option<String> {
    for program in ["podman", "unshare", "ip", "docker"] {
        if !found(program) {
            return Some(format!("{program} is not installed (scripts/setup installs it)"));
        }
    }
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("a private rootful Podman needs root".into());
    }
    None
}

/// Podman refuses the sandbox's default limits for containers ("error setting rlimit
/// type 7"): every container made through it gets these.
pub const ULIMITS: [&str; 4] = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"];

impl PodmanEngine {
    /// Starts the service, or returns `None` (after saying why) where it cannot run;
    /// in CI (`CI=true`) a missing piece fails the test instead.
    pub fn start(test: &str) -> Option<PodmanEngine> {
        if let Some(why) = missing() {
            assert!(!in_ci(), "cannot start Podman in CI: {why}");
            eprintln!("skipping {test}: {why}");
            return None;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        // Short: a unix socket path is limited to about 100 bytes.
        let dir = std::env::temp_dir().join(format!("pp-{}-{:x}", std::process::id(), nanos));
        for sub in ["root", "run", "tmp", "net"] {
            std::fs::create_dir_all(dir.join(sub)).expect("temp dir for Podman");
        }
        let socket = dir.join("podman.sock");
        let service = spawn_service(&dir);
        let engine = PodmanEngine { dir, socket, service };
        engine.wait_ready(Duration::from_secs(30));
        engine.load_test_image();
        Some(engine)
    }

    fn private(&self) -> super::PrivateEngine<'_> {
        super::PrivateEngine {
            socket: &self.socket,
            log: self.dir.join("podman.log"),
            what: "Podman",
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

    /// The podman CLI as a client of this service (for what only Podman has: pods).
    pub fn podman(&self, args: &[&str]) -> Output {
        let host = self.host();
        let mut all = vec!["--remote", "--url", host.as_str()];
        all.extend_from_slice(args);
        Command::new("podman").args(&all).output().expect("the podman CLI runs")
    }

    pub fn podman_ok(&self, args: &[&str]) -> String {
        super::succeeded(args, self.podman(args))
    }

    fn stop(&mut self) {
        // `-t 0`: kill at once; a `sleep` as pid 1 ignores SIGTERM, and each would
        // otherwise take its full 10 s stop timeout, one after the other.
        let _ = self.podman(&["pod", "rm", "-f", "-t", "0", "-a"]);
        let _ = self.podman(&["rm", "-f", "-t", "0", "-a"]);
        let pid = self.service.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.service.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                _ => {
                    let _ = self.service.kill();
                    let _ = self.service.wait();
                    break;
                }
            }
        }
        remove_dir(&self.dir);
    }
}

/// The service in its own network namespace, on the socket and storage in `dir`.
fn spawn_service(dir: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("podman.log"))
        .expect("podman log file");
    let d = dir.display();
    // `exec`: the child is podman itself, so stopping the child stops the service.
    let script = format!(
        "ip link set lo up && exec podman --root {d}/root --runroot {d}/run --tmpdir {d}/tmp \
         --network-config-dir {d}/net --storage-driver vfs --events-backend file \
         --cgroup-manager cgroupfs system service --time=0 unix://{d}/podman.sock"
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

impl Drop for PodmanEngine {
    fn drop(&mut self) {
        self.stop();
    }
}

//! Shared harness for tests on the real engine: unique names, a label on everything
//! created, cleanup on drop (also when a test panics), and waiting with timeouts.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use portolan::engine::{self, Endpoint, EngineHandle, EngineOptions};
use portolan::model::{Container, Model};

pub mod podman;
pub mod second_engine;

/// Everything a test creates carries this label with its run id.
pub const LABEL: &str = "portolan.test";

pub fn test_image() -> String {
    let image = std::env::var("PORTOLAN_TEST_IMAGE")
        .unwrap_or_else(|_| "portolan-test/busybox:latest".into());
    let found = docker(&["image", "inspect", "--format", "{{.Id}}", &image]);
    assert!(
        found.status.success(),
        "the test image {image} is missing: run scripts/test-image.sh (scripts/test does it for you)"
    );
    image
}

/// An engine of the tests' own on a private unix socket (a second dockerd, a Podman
/// service): the docker CLI against it, its readiness, its log and the test image.
pub struct PrivateEngine<'a> {
    pub socket: &'a std::path::Path,
    pub log: std::path::PathBuf,
    /// How messages name it: "the second dockerd", "Podman".
    pub what: &'static str,
}

impl PrivateEngine<'_> {
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    pub fn docker(&self, args: &[&str]) -> Output {
        let host = self.host();
        let mut all = vec!["-H", host.as_str()];
        all.extend_from_slice(args);
        Command::new("docker").args(&all).output().expect("the docker CLI runs")
    }

    pub fn wait_ready(&self, timeout: Duration) {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if self.socket.exists() && self.docker(&["version"]).status.success() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("{} did not answer within {timeout:?}; its log:\n{}", self.what, self.log_tail());
    }

    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Copies the test image from the host's engine: no registry is reachable.
    pub fn load_test_image(&self) {
        let image = test_image();
        let mut save = Command::new("docker")
            .args(["save", &image])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("docker save runs");
        let stdout = save.stdout.take().expect("docker save's output");
        let load = Command::new("docker")
            .args(["-H", &self.host(), "load"])
            .stdin(stdout)
            .output()
            .expect("docker load runs");
        let saved = save.wait().expect("docker save ends");
        assert!(
            saved.success() && load.status.success(),
            "cannot load {image} into {}: {}",
            self.what,
            String::from_utf8_lossy(&load.stderr)
        );
    }
}

/// A size as the docker and podman CLIs print it (`1.5MiB`, `40.5MB`), in bytes.
pub fn parse_size(text: &str) -> f64 {
    let text = text.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().unwrap_or(0.0);
    let factor = match unit {
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        _ => 1.0,
    };
    number * factor
}

/// One row of `stats --no-stream --format "{{.ID}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}"`
/// from the docker or podman CLI.
pub struct CliStats {
    pub id_prefix: String,
    pub cpu: f64,
    pub memory: f64,
    pub pids: String,
}

pub fn cli_stats(output: &str) -> Vec<CliStats> {
    output
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            CliStats {
                id_prefix: fields[0].to_string(),
                cpu: fields[1].trim_end_matches('%').parse().unwrap(),
                memory: parse_size(fields[2]),
                pids: fields[fields.len() - 1].to_string(),
            }
        })
        .collect()
}

/// The mean of a container's last four CPU figures in the model.
pub fn recent_cpu(model: &Model, id: &str) -> f64 {
    let points: Vec<f64> =
        model.stats[id].history().iter().rev().take(4).filter_map(|p| p.cpu_percent).collect();
    points.iter().sum::<f64>() / points.len().max(1) as f64
}

/// Runs the docker CLI; panics with its stderr if it cannot run at all.
pub fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().expect("the docker CLI runs")
}

/// Runs the docker CLI and returns stdout, panicking with stderr on failure.
pub fn docker_ok(args: &[&str]) -> String {
    succeeded(args, docker(args))
}

/// The stdout of a docker CLI run that must have succeeded; its stderr otherwise.
pub fn succeeded(args: &[&str], output: std::process::Output) -> String {
    assert!(
        output.status.success(),
        "docker {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A test's namespace on the shared engine.
pub struct Fixture {
    pub run: String,
    pub image: String,
}

impl Fixture {
    pub fn new(test: &str) -> Fixture {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let run = format!("{test}-{}-{n}-{:x}", std::process::id(), nanos % 0xffff);
        Fixture { run, image: test_image() }
    }

    /// A unique name for something this test creates.
    pub fn name(&self, what: &str) -> String {
        format!("pt-{}-{what}", self.run)
    }

    pub fn label(&self) -> String {
        format!("{LABEL}={}", self.run)
    }

    /// `docker run -d` with this fixture's label; `args` go before the image, `command`
    /// after it. Returns the container id.
    pub fn run(&self, what: &str, args: &[&str], command: &[&str]) -> String {
        let name = self.name(what);
        let label = self.label();
        let mut all = vec!["run", "-d", "--name", &name, "--label", &label];
        all.extend_from_slice(args);
        all.push(&self.image);
        all.extend_from_slice(command);
        docker_ok(&all)
    }

    pub fn network(&self, what: &str, args: &[&str]) -> String {
        let name = self.name(what);
        let label = self.label();
        let mut all = vec!["network", "create", "--label", &label];
        all.extend_from_slice(args);
        all.push(&name);
        docker_ok(&all);
        name
    }

    pub fn volume(&self, what: &str) -> String {
        let name = self.name(what);
        let label = self.label();
        docker_ok(&["volume", "create", "--label", &label, &name]);
        name
    }

    fn remove_everything(&self) {
        let filter = format!("label={}", self.label());
        let ids = docker(&["ps", "-aq", "--filter", &filter]);
        for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
            let _ = docker(&["rm", "-f", "-v", id]);
        }
        let nets = docker(&["network", "ls", "-q", "--filter", &filter]);
        for id in String::from_utf8_lossy(&nets.stdout).split_whitespace() {
            let _ = docker(&["network", "rm", id]);
        }
        let vols = docker(&["volume", "ls", "-q", "--filter", &filter]);
        for id in String::from_utf8_lossy(&vols.stdout).split_whitespace() {
            let _ = docker(&["volume", "rm", "-f", id]);
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.remove_everything();
    }
}

/// The engine the tests watch: DOCKER_HOST or the default socket.
pub fn endpoint() -> Endpoint {
    Endpoint::resolve(None, std::env::var("DOCKER_HOST").ok().as_deref())
        .expect("usable DOCKER_HOST")
}

/// A running supervisor and the model it feeds.
pub struct Watch {
    pub handle: EngineHandle,
    pub model: Model,
}

impl Watch {
    pub async fn start() -> Watch {
        Watch::start_at(endpoint(), EngineOptions::default()).await
    }

    pub async fn start_at(endpoint: Endpoint, options: EngineOptions) -> Watch {
        let (docker, info) = engine::connect(&endpoint, engine::CONNECT_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("no Docker engine at {endpoint}: {e}. Tests need a real engine: run .ci/run or start dockerd."));
        let handle = engine::spawn(endpoint.clone(), docker, info, options);
        let mut watch =
            Watch { handle, model: Model::new(endpoint.to_string(), chrono::Utc::now()) };
        watch
            .wait("the first inventory", Duration::from_secs(10), |m| m.structure_revision > 0)
            .await;
        watch
    }

    /// Applies updates until `done` holds; panics with `what` after `timeout`.
    pub async fn wait(
        &mut self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&Model) -> bool,
    ) -> Duration {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + timeout;
        while !done(&self.model) {
            match tokio::time::timeout_at(deadline, self.handle.updates.recv()).await {
                Ok(Some(update)) => {
                    self.model.apply(update);
                }
                Ok(None) => panic!("the engine supervisor stopped while waiting for {what}"),
                Err(_) => panic!("timed out after {timeout:?} waiting for {what}"),
            }
        }
        started.elapsed()
    }

    /// Waits until the container `id` is in `state`.
    pub async fn wait_state(
        &mut self,
        id: &str,
        state: portolan::model::ContainerState,
        timeout: Duration,
    ) -> Duration {
        let what = format!("{} to be {}", &id[..12.min(id.len())], state.as_str());
        self.wait(&what, timeout, |m| m.containers.get(id).is_some_and(|c| c.state == state)).await
    }

    pub fn by_name(&self, name: &str) -> Option<&Container> {
        self.model.containers.values().find(|c| c.name == name)
    }

    pub async fn stop(self) {
        self.handle.stop().await;
    }
}

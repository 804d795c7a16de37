//! The shape of a demo stack as plain data, written like a compose file: services with
//! their design's image, user, command, environment, ports, mounts, healthcheck,
//! depends_on, restart policy, limits and labels. Builders keep the definitions in
//! `stacks` short.

use std::time::Duration;

pub use crate::model::DependencyCondition as Condition;

/// One stack: a compose project that reproduces one reference design.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    pub name: &'static str,
    /// The name of the reference design it reproduces, as `demo list` shows it.
    pub seed: &'static str,
    pub summary: &'static str,
    /// Started by `demo up` without names. Variants of a design are not.
    pub default: bool,
    pub networks: Vec<NetworkSpec>,
    /// Named volumes (compose keys).
    pub volumes: Vec<&'static str>,
    /// Files written into the stack's state directory before anything starts
    /// (paths relative to it), such as a proxy's configuration.
    pub files: Vec<FileSpec>,
    pub services: Vec<Service>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSpec {
    pub name: &'static str,
    /// The design's subnet, when it gives one.
    pub subnet: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileSpec {
    pub path: &'static str,
    pub contents: String,
}

/// What a stand-in process answers on a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// An HTTP server (busybox httpd) that serves `/` and the healthcheck path.
    Http,
    /// A TCP listener that accepts and closes connections (busybox nc).
    Tcp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSpec {
    pub container: u16,
    /// The host port the design publishes it on; None when it is only exposed.
    pub publish: Option<u16>,
    pub listener: Listener,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountSpec {
    Volume {
        name: &'static str,
        target: &'static str,
        read_only: bool,
    },
    /// A bind mount of a path inside the stack's state directory.
    Bind {
        source: &'static str,
        target: &'static str,
        read_only: bool,
    },
}

/// How the stand-in's healthcheck really probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Http { port: u16, path: &'static str },
    Tcp { port: u16 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthSpec {
    pub probe: Probe,
    /// The design's own probe (`pg_isready -U postgres`), kept in a label.
    pub seed_test: &'static str,
    /// The design's timings; the plan scales them down so demos go healthy quickly.
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u32,
    pub start_period: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    No,
    Always,
    UnlessStopped,
    OnFailure,
}

impl Restart {
    pub fn as_str(self) -> &'static str {
        match self {
            Restart::No => "no",
            Restart::Always => "always",
            Restart::UnlessStopped => "unless-stopped",
            Restart::OnFailure => "on-failure",
        }
    }
}

/// Resource limits as compose's `deploy.resources` gives them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Limits {
    pub cpus: Option<f64>,
    pub memory_mib: Option<u64>,
    pub memory_reservation_mib: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub name: &'static str,
    /// The image the design shows (`postgres:16`); the container runs the demo image.
    pub image: &'static str,
    pub user: Option<&'static str>,
    /// The design's command (compose `command:`), passed to the stand-in as arguments.
    pub command: Vec<&'static str>,
    pub env: Vec<(&'static str, &'static str)>,
    pub ports: Vec<PortSpec>,
    /// Networks to join (compose keys); the service name is the alias on each.
    pub networks: Vec<&'static str>,
    pub mounts: Vec<MountSpec>,
    pub tmpfs: Vec<&'static str>,
    pub read_only: bool,
    pub health: Option<HealthSpec>,
    pub depends_on: Vec<(&'static str, Condition)>,
    pub restart: Restart,
    pub limits: Limits,
    pub labels: Vec<(&'static str, &'static str)>,
}

impl Service {
    pub fn new(name: &'static str, image: &'static str) -> Service {
        Service {
            name,
            image,
            user: None,
            command: Vec::new(),
            env: Vec::new(),
            ports: Vec::new(),
            networks: Vec::new(),
            mounts: Vec::new(),
            tmpfs: Vec::new(),
            read_only: false,
            health: None,
            depends_on: Vec::new(),
            restart: Restart::UnlessStopped,
            limits: Limits::default(),
            labels: Vec::new(),
        }
    }

    pub fn user(mut self, user: &'static str) -> Self {
        self.user = Some(user);
        self
    }

    pub fn command(mut self, args: &[&'static str]) -> Self {
        self.command = args.to_vec();
        self
    }

    pub fn env(mut self, key: &'static str, value: &'static str) -> Self {
        self.env.push((key, value));
        self
    }

    /// A port published on the host (on 127.0.0.1) at `host`.
    pub fn publish(mut self, host: u16, container: u16, listener: Listener) -> Self {
        self.ports.push(PortSpec { container, publish: Some(host), listener });
        self
    }

    /// A port only exposed to the stack's networks.
    pub fn expose(mut self, container: u16, listener: Listener) -> Self {
        self.ports.push(PortSpec { container, publish: None, listener });
        self
    }

    pub fn network(mut self, name: &'static str) -> Self {
        self.networks.push(name);
        self
    }

    pub fn volume(mut self, name: &'static str, target: &'static str) -> Self {
        self.mounts.push(MountSpec::Volume { name, target, read_only: false });
        self
    }

    pub fn bind(mut self, source: &'static str, target: &'static str, read_only: bool) -> Self {
        self.mounts.push(MountSpec::Bind { source, target, read_only });
        self
    }

    pub fn tmpfs(mut self, target: &'static str) -> Self {
        self.tmpfs.push(target);
        self
    }

    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// A healthcheck with the design's probe and timings (retries, seconds).
    pub fn health(
        mut self,
        probe: Probe,
        seed_test: &'static str,
        interval_s: u64,
        retries: u32,
    ) -> Self {
        self.health = Some(HealthSpec {
            probe,
            seed_test,
            interval: Duration::from_secs(interval_s),
            timeout: Duration::from_secs(5),
            retries,
            start_period: Duration::ZERO,
        });
        self
    }

    /// The design's start period for the healthcheck set by [`Service::health`].
    pub fn start_period(mut self, seconds: u64) -> Self {
        if let Some(health) = self.health.as_mut() {
            health.start_period = Duration::from_secs(seconds);
        }
        self
    }

    pub fn depends_on(mut self, service: &'static str, condition: Condition) -> Self {
        self.depends_on.push((service, condition));
        self
    }

    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// `deploy.resources`: CPU and memory limits, memory reservation (MiB).
    pub fn limits(mut self, cpus: f64, memory_mib: u64, reservation_mib: Option<u64>) -> Self {
        self.limits = Limits {
            cpus: Some(cpus),
            memory_mib: Some(memory_mib),
            memory_reservation_mib: reservation_mib,
        };
        self
    }

    pub fn label(mut self, key: &'static str, value: &'static str) -> Self {
        self.labels.push((key, value));
        self
    }
}

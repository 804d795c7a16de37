//! The words `portolan demo` prints: progress lines while stacks come up or go away
//! (stderr), the summary of a stack that is up, and the `demo list` table (stdout).

use std::fmt;
use std::time::Duration;

use super::plan::StackPlan;
use super::spec::{Condition, Stack};
use crate::model::{ContainerState, HealthStatus};

/// One step of `demo up` or `demo down`, printed as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// The stack has objects on the engine already: `up` leaves it as it is.
    AlreadyUp {
        stack: String,
        containers: usize,
        networks: usize,
        volumes: usize,
    },
    Note {
        stack: String,
        text: String,
    },
    Network {
        stack: String,
        name: String,
        subnet: Option<String>,
    },
    Volume {
        stack: String,
        name: String,
    },
    Created {
        stack: String,
        container: String,
        seed_image: String,
        image: String,
    },
    Waiting {
        stack: String,
        service: String,
        on: Vec<(String, Condition)>,
    },
    Started {
        stack: String,
        service: String,
    },
    /// A service reached `state` (`healthy`, `running`) this long after it was started.
    Reached {
        stack: String,
        service: String,
        state: &'static str,
        after: Duration,
    },
    Up {
        stack: String,
        after: Duration,
    },
    /// What `demo up` prints on stdout once a stack is up (see [`up_summary`]).
    Summary(String),
    /// A further stack that failed while another failure is the one reported.
    Failed(String),
    Removed {
        what: &'static str,
        name: String,
    },
    NothingToRemove {
        what: String,
    },
}

fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

pub fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

fn condition_word(condition: Condition) -> &'static str {
    match condition {
        Condition::Started => "started",
        Condition::Healthy => "healthy",
        Condition::CompletedSuccessfully => "completed successfully",
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::AlreadyUp { stack, containers, networks, volumes } => {
                let what = [(containers, "container"), (networks, "network"), (volumes, "volume")]
                    .iter()
                    .filter(|(n, _)| **n > 0)
                    .map(|(n, w)| count(**n, w))
                    .collect::<Vec<_>>()
                    .join(", ");
                write!(f, "{stack}: already on the engine ({what}), left as it is; ")?;
                write!(f, "`portolan demo down {stack}` removes it")
            }
            Progress::Note { stack, text } => write!(f, "{stack}: note: {text}"),
            Progress::Network { stack, name, subnet } => match subnet {
                Some(subnet) => write!(f, "{stack}: network {name} {subnet}"),
                None => write!(f, "{stack}: network {name}"),
            },
            Progress::Volume { stack, name } => write!(f, "{stack}: volume {name}"),
            Progress::Created { stack, container, seed_image, image } => {
                write!(f, "{stack}: created {container} ({seed_image}, stand-in from {image})")
            }
            Progress::Waiting { stack, service, on } => {
                let on: Vec<String> =
                    on.iter().map(|(s, c)| format!("{s} ({})", condition_word(*c))).collect();
                write!(f, "{stack}: {service} waits for {}", on.join(", "))
            }
            Progress::Started { stack, service } => write!(f, "{stack}: {service} started"),
            Progress::Reached { stack, service, state, after } => {
                write!(f, "{stack}: {service} {state} after {}", seconds(*after))
            }
            Progress::Up { stack, after } => {
                write!(f, "{stack}: up, every service ready after {}", seconds(*after))
            }
            Progress::Summary(text) => write!(f, "{}", text.trim_end()),
            Progress::Failed(text) => write!(f, "failed too: {text}"),
            Progress::Removed { what, name } => write!(f, "removed {what} {name}"),
            Progress::NothingToRemove { what } => write!(f, "nothing to remove for {what}"),
        }
    }
}

/// A network as the engine created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedNetwork {
    pub name: String,
    pub subnets: Vec<String>,
}

/// What `demo up` prints on stdout once a stack is up: its networks with the subnets
/// the engine gave, where each published port is on the host, and its files.
pub fn up_summary(plan: &StackPlan, seed: &str, networks: &[CreatedNetwork]) -> String {
    let seed = seed.split('-').next().unwrap_or(seed);
    let mut out = format!("{} is up (seed {seed})\n", plan.stack);
    let width = plan
        .containers
        .iter()
        .filter(|c| !c.published.is_empty())
        .map(|c| c.service.len())
        .chain(["network".len()])
        .max()
        .unwrap_or(0);
    for network in networks {
        let subnets =
            if network.subnets.is_empty() { "-".to_string() } else { network.subnets.join(" ") };
        out.push_str(&format!("  {:<width$}  {}  {subnets}\n", "network", network.name));
    }
    for container in &plan.containers {
        for port in &container.published {
            let scheme = if port.http { "http://" } else { "" };
            let moved = if port.host != port.wanted {
                format!("  (the seed's {} was taken)", port.wanted)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {:<width$}  {scheme}127.0.0.1:{} → {}{moved}\n",
                container.service, port.host, port.container
            ));
        }
    }
    out.push_str(&format!("  {:<width$}  {}\n", "files", plan.dir.display()));
    out
}

/// One container of a stack as the engine has it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerStatus {
    pub service: String,
    pub state: ContainerState,
    pub health: HealthStatus,
    /// (host port, container port) published on the host.
    pub ports: Vec<(u16, u16)>,
}

/// A stack as the engine has it now: empty vectors when it is down.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StackStatus {
    pub containers: Vec<ContainerStatus>,
    pub networks: Vec<CreatedNetwork>,
    pub volumes: usize,
}

impl StackStatus {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.networks.is_empty() && self.volumes == 0
    }
}

/// The `demo list` table: every stack, its design, whether it is up, what it is, and
/// for a stack that is up its networks (with the subnet used) and published ports.
pub fn list(stacks: &[(Stack, StackStatus)]) -> String {
    let width = stacks.iter().map(|(s, _)| s.name.len()).max().unwrap_or(5).max(5);
    let indent = " ".repeat(width + 7);
    let mut out = String::new();
    for (stack, status) in stacks {
        let seed = stack.seed.split('-').next().unwrap_or(stack.seed);
        let expected = stack.services.len();
        let checked = stack.services.iter().filter(|s| s.health.is_some()).count();
        let state = if status.is_empty() {
            "down".to_string()
        } else {
            let running = status.containers.iter().filter(|c| c.state.is_running()).count();
            let healthy =
                status.containers.iter().filter(|c| c.health == HealthStatus::Healthy).count();
            format!("up: {running}/{expected} running, {healthy}/{checked} healthy")
        };
        let variant = if stack.default { "" } else { " · a variant, started only when named" };
        out.push_str(&format!("{:<width$}  {seed}  {state}{variant}\n", stack.name));
        out.push_str(&format!("{indent}{}\n", stack.summary));
        for network in &status.networks {
            let subnets = if network.subnets.is_empty() {
                "(no subnet)".to_string()
            } else {
                network.subnets.join(" ")
            };
            out.push_str(&format!("{indent}network {} {subnets}\n", network.name));
        }
        let ports: Vec<String> = status
            .containers
            .iter()
            .flat_map(|c| {
                c.ports.iter().map(move |(h, p)| format!("{} 127.0.0.1:{h}→{p}", c.service))
            })
            .collect();
        let mut line = format!("{indent}ports");
        for (i, port) in ports.iter().enumerate() {
            let piece = if i == 0 { format!(" {port}") } else { format!(", {port}") };
            if line.chars().count() + piece.chars().count() > 100 {
                out.push_str(&line);
                out.push_str(",\n");
                line = format!("{indent}      {port}");
            } else {
                line.push_str(&piece);
            }
        }
        if !ports.is_empty() {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::stacks;

    #[test]
    fn progress_lines_read_as_sentences() {
        let line = |p: Progress| p.to_string();
        assert_eq!(
            line(Progress::Reached {
                stack: "nginx".into(),
                service: "db".into(),
                state: "healthy",
                after: Duration::from_millis(3140),
            }),
            "nginx: db healthy after 3.1 s"
        );
        assert_eq!(
            line(Progress::Waiting {
                stack: "nginx".into(),
                service: "backend".into(),
                on: vec![("db".into(), Condition::Healthy), ("redis".into(), Condition::Started)],
            }),
            "nginx: backend waits for db (healthy), redis (started)"
        );
        assert_eq!(
            line(Progress::AlreadyUp {
                stack: "nestjs".into(),
                containers: 3,
                networks: 1,
                volumes: 0,
            }),
            "nestjs: already on the engine (3 containers, 1 network), left as it is; \
             `portolan demo down nestjs` removes it"
        );
        assert_eq!(
            line(Progress::Network {
                stack: "nestjs".into(),
                name: "nestjs_nestjs-network".into(),
                subnet: Some("172.18.0.0/16".into()),
            }),
            "nestjs: network nestjs_nestjs-network 172.18.0.0/16"
        );
    }

    #[test]
    fn the_list_says_what_is_up_with_subnets_and_ports() {
        let all = stacks::all();
        let up = StackStatus {
            containers: ["app", "postgres", "redis"]
                .iter()
                .map(|s| ContainerStatus {
                    service: (*s).into(),
                    state: ContainerState::Running,
                    health: if *s == "redis" {
                        HealthStatus::Starting
                    } else {
                        HealthStatus::Healthy
                    },
                    ports: if *s == "app" { vec![(13001, 3001)] } else { vec![] },
                })
                .collect(),
            networks: vec![CreatedNetwork {
                name: "nestjs_nestjs-network".into(),
                subnets: vec!["172.19.0.0/16".into()],
            }],
            volumes: 2,
        };
        let rows: Vec<(Stack, StackStatus)> = all
            .into_iter()
            .map(|s| {
                let status = if s.name == "nestjs" { up.clone() } else { StackStatus::default() };
                (s, status)
            })
            .collect();
        let text = list(&rows);
        assert!(text.contains("nestjs            000  up: 3/3 running, 2/3 healthy\n"), "{text}");
        assert!(text.contains("network nestjs_nestjs-network 172.19.0.0/16"), "{text}");
        assert!(text.contains("ports app 127.0.0.1:13001→3001"), "{text}");
        assert!(text.contains("traefik           001  down\n"), "{text}");
        assert!(text.contains("down · a variant, started only when named"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    }
}

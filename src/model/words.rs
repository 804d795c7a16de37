//! A container's state and health in the words portolan shows them.
//!
//! Each place says it at its own length: a table cell, a line in the route table, the
//! caption under a box on the map. They live together so that the same state never
//! reads two ways. Plain strings only: styling is the UI's business.

use super::container::{Container, ContainerState, HealthStatus};

impl Container {
    /// Published ports the way a diagram writes them: `127.0.0.1:18000→80`.
    pub fn published_words(&self) -> String {
        let mut parts: Vec<String> = self
            .ports
            .iter()
            .filter(|p| p.is_published())
            .map(|p| {
                let ip = match p.host_ip.as_deref() {
                    Some("0.0.0.0") | Some("::") | None => String::new(),
                    Some(ip) => format!("{ip}:"),
                };
                let proto =
                    if p.protocol == "tcp" { String::new() } else { format!("/{}", p.protocol) };
                format!("{ip}{}→{}{proto}", p.host_port.unwrap_or(0), p.container_port)
            })
            .collect();
        parts.dedup();
        parts.join(", ")
    }

    /// The state in one word or two, with the cause when it is bad: `running`,
    /// `exited 137`, `OOM killed`. For a table cell or a detail line.
    pub fn state_brief(&self) -> String {
        match self.state {
            ContainerState::Exited if self.oom_killed => "OOM killed".to_string(),
            ContainerState::Exited => format!("exited {}", self.exit_code.unwrap_or(0)),
            other => other.as_str().to_string(),
        }
    }

    /// State, exit code, OOM kill and health in one line, for wherever a container is
    /// named without a health column beside it: `running · healthy`, `exited 137`,
    /// `exited 137 · OOM killed`.
    pub fn state_and_health(&self) -> String {
        let mut words = self.state.as_str().to_string();
        if !self.state.is_running()
            && let Some(code) = self.exit_code
        {
            words.push_str(&format!(" {code}"));
        }
        if self.oom_killed {
            words.push_str(" · OOM killed");
        }
        match self.health_status() {
            HealthStatus::None => {}
            status => {
                words.push_str(" · ");
                words.push_str(status.as_str());
            }
        }
        words
    }

    /// What a box on the map says beneath its name: nothing while the container simply
    /// runs, else [`Container::state_brief`], and a restart loop says when memory ran out.
    pub fn state_unless_running(&self) -> Option<String> {
        match self.state {
            ContainerState::Running => None,
            ContainerState::Restarting if self.oom_killed => {
                Some("restarting · OOM killed".to_string())
            }
            _ => Some(self.state_brief()),
        }
    }
}

impl HealthStatus {
    /// The status behind a mark that reads without colour: `✓ healthy`, `✗ unhealthy`,
    /// `… starting`, and a dash where there is no healthcheck.
    pub fn marked(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "✓ healthy",
            HealthStatus::Unhealthy => "✗ unhealthy",
            HealthStatus::Starting => "… starting",
            HealthStatus::None => "–",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Health;

    fn container(state: ContainerState, exit_code: Option<i64>, oom_killed: bool) -> Container {
        let mut c = Container::new("id", "name");
        c.state = state;
        c.exit_code = exit_code;
        c.oom_killed = oom_killed;
        c
    }

    #[test]
    fn the_brief_state_names_the_bad_cause() {
        assert_eq!(container(ContainerState::Running, None, false).state_brief(), "running");
        assert_eq!(container(ContainerState::Exited, Some(137), false).state_brief(), "exited 137");
        assert_eq!(container(ContainerState::Exited, None, false).state_brief(), "exited 0");
        assert_eq!(container(ContainerState::Exited, Some(137), true).state_brief(), "OOM killed");
        assert_eq!(container(ContainerState::Restarting, None, true).state_brief(), "restarting");
        assert_eq!(container(ContainerState::Paused, None, false).state_brief(), "paused");
    }

    #[test]
    fn state_and_health_add_up_in_one_line() {
        let mut running = container(ContainerState::Running, Some(0), false);
        assert_eq!(running.state_and_health(), "running", "a running container has no exit code");
        running.health =
            Some(Health { status: HealthStatus::Healthy, failing_streak: 0, log: Vec::new() });
        assert_eq!(running.state_and_health(), "running · healthy");
        let killed = container(ContainerState::Exited, Some(137), true);
        assert_eq!(killed.state_and_health(), "exited 137 · OOM killed");
        assert_eq!(container(ContainerState::Created, None, false).state_and_health(), "created");
    }

    #[test]
    fn the_map_says_nothing_of_a_running_container() {
        assert_eq!(container(ContainerState::Running, None, true).state_unless_running(), None);
        let looping = container(ContainerState::Restarting, Some(137), true);
        assert_eq!(looping.state_unless_running().as_deref(), Some("restarting · OOM killed"));
        let killed = container(ContainerState::Exited, Some(137), true);
        assert_eq!(killed.state_unless_running().as_deref(), Some("OOM killed"));
        let created = container(ContainerState::Created, None, false);
        assert_eq!(created.state_unless_running().as_deref(), Some("created"));
    }

    #[test]
    fn health_reads_without_colour() {
        assert_eq!(HealthStatus::Healthy.marked(), "✓ healthy");
        assert_eq!(HealthStatus::Unhealthy.marked(), "✗ unhealthy");
        assert_eq!(HealthStatus::Starting.marked(), "… starting");
        assert_eq!(HealthStatus::None.marked(), "–");
    }
}

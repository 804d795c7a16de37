//! The processes pane's collector and its one verb. While the pane is open, one task
//! reads the container's `/top` every two seconds (nothing polls when it is closed);
//! on a local engine the figures come from this machine's `/proc` instead, where CPU
//! is measured between two reads rather than averaged over a process's life.
//!
//! Docker has no API to signal one process of a container. On a local engine the
//! pids `/top` reports are this machine's, so the signal is sent here with `kill`,
//! after checking in `/proc/<pid>/cgroup` that the pid still belongs to the
//! container (pids are reused). A remote engine's pids mean nothing here: that is
//! said in words, not faked.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::TopOptions;
use chrono::Utc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::error::EngineError;
use crate::model::Update;
use crate::model::processes::{KillAsk, KillResult, PS_ARGS, ProcessRow, ProcessTable, parse_top};

/// How often the list is read while the pane is open.
pub const REFRESH: Duration = Duration::from_secs(2);

/// Clock ticks per second of `/proc/<pid>/stat`'s times. `sysconf(_SC_CLK_TCK)` is 100
/// on every Linux architecture Docker runs on, and reading it needs libc.
const CLOCK_TICKS: f64 = 100.0;

/// What the UI asks to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessRequest {
    pub host: crate::model::HostId,
    /// The container's id or name (the engine takes either).
    pub container: String,
}

/// CPU ticks of each pid at the last read, to measure the next one against.
#[derive(Default)]
struct Ticks {
    at: Option<Instant>,
    by_pid: HashMap<u32, u64>,
}

/// Reads the list every [`REFRESH`] until cancelled or nobody listens.
pub async fn follow(
    docker: Docker,
    container: String,
    local: bool,
    updates: mpsc::Sender<Update>,
    cancel: CancellationToken,
) {
    let mut ticks = Ticks::default();
    let mut interval = tokio::time::interval(REFRESH);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = interval.tick() => {}
        }
        let table = tokio::select! {
            _ = cancel.cancelled() => return,
            table = read(&docker, &container, local, &mut ticks) => table,
        };
        if cancel.is_cancelled() || updates.send(Update::Processes(Box::new(table))).await.is_err()
        {
            return;
        }
    }
}

/// One read of the list, with `/proc`'s figures where this machine has them.
async fn read(docker: &Docker, container: &str, local: bool, ticks: &mut Ticks) -> ProcessTable {
    let mut table =
        ProcessTable { id: container.to_string(), rows: Vec::new(), host_proc: false, error: None };
    let options = TopOptions { ps_args: PS_ARGS.to_string() };
    let answer = match docker.top_processes(container, Some(options)).await {
        Ok(answer) => Ok(answer),
        // Podman (and engines whose ps is not GNU's) refuse the options: ask plainly.
        Err(_) => docker.top_processes(container, None::<TopOptions>).await,
    };
    match answer {
        Ok(answer) => {
            let titles = answer.titles.unwrap_or_default();
            let lines = answer.processes.unwrap_or_default();
            table.rows = parse_top(&titles, &lines);
        }
        Err(error) => {
            table.error = Some(EngineError::from(error).to_string());
            return table;
        }
    }
    if local {
        table.host_proc = from_proc(&mut table.rows, container, ticks).await;
    }
    table
}

/// Replaces the rows' CPU and memory with `/proc`'s; false when this machine's `/proc`
/// does not show the container's processes (portolan in a container of its own).
async fn from_proc(rows: &mut [ProcessRow], container: &str, ticks: &mut Ticks) -> bool {
    let Some(first) = rows.first() else { return false };
    // A name is not in the cgroup path; only check with an id.
    let looks_like_id = container.len() >= 12 && container.chars().all(|c| c.is_ascii_hexdigit());
    if looks_like_id && !belongs(first.pid, container).await {
        return false;
    }
    let now = Instant::now();
    let elapsed = ticks.at.map(|at| now.duration_since(at).as_secs_f64());
    let mut next = HashMap::with_capacity(rows.len());
    let mut any = false;
    for row in rows.iter_mut() {
        let stat = tokio::fs::read_to_string(format!("/proc/{}/stat", row.pid)).await;
        let Ok(stat) = stat else { continue };
        any = true;
        if let Some(used) = cpu_ticks(&stat) {
            next.insert(row.pid, used);
            if let (Some(before), Some(seconds)) = (ticks.by_pid.get(&row.pid), elapsed)
                && seconds > 0.0
            {
                let delta = used.saturating_sub(*before) as f64 / CLOCK_TICKS;
                row.cpu_percent = Some(delta / seconds * 100.0);
            }
        }
        if let Ok(status) = tokio::fs::read_to_string(format!("/proc/{}/status", row.pid)).await
            && let Some(rss) = vm_rss(&status)
        {
            row.rss_bytes = Some(rss);
        }
    }
    ticks.at = Some(now);
    ticks.by_pid = next;
    any
}

/// utime + stime from a `/proc/<pid>/stat` line. The command name in parentheses may
/// hold spaces and parentheses itself: fields are counted after the last `)`.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, utime 14 and stime 15 (1-based, of the line).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// `VmRSS:  1192 kB` in bytes; kernel threads have none.
fn vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Whether this machine's process `pid` runs in container `id` (its cgroup path names
/// the id, with cgroupfs and systemd drivers alike).
async fn belongs(pid: u32, id: &str) -> bool {
    match tokio::fs::read_to_string(format!("/proc/{pid}/cgroup")).await {
        Ok(cgroup) => cgroup_names(&cgroup, id),
        Err(_) => false,
    }
}

fn cgroup_names(cgroup: &str, id: &str) -> bool {
    !id.is_empty() && cgroup.lines().any(|line| line.contains(id))
}

/// Sends the asked signal, when this machine can, and says how it went.
pub async fn kill(ask: KillAsk, local: bool) -> KillResult {
    let error = if !local {
        Some("killing a process needs the engine on this machine".to_string())
    } else if !belongs(ask.pid, &ask.id).await {
        Some(
            "the process has ended, or is not the container's as seen from this machine"
                .to_string(),
        )
    } else {
        let status = tokio::process::Command::new("kill")
            .arg("-s")
            .arg(ask.signal.name())
            .arg(ask.pid.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .output()
            .await;
        match status {
            Ok(output) if output.status.success() => None,
            Ok(output) => {
                let said = String::from_utf8_lossy(&output.stderr).trim().to_string();
                Some(if said.is_empty() { "kill refused".to_string() } else { said })
            }
            Err(error) => Some(format!("could not run kill: {error}")),
        }
    };
    KillResult { at: Utc::now(), container: ask.container, pid: ask.pid, signal: ask.signal, error }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_is_read_after_the_last_parenthesis() {
        let stat =
            "23001 (sl (ee) p) S 22953 23001 22953 0 -1 4194560 80 0 0 0 7 5 0 0 20 0 1 0 1 0 0";
        assert_eq!(cpu_ticks(stat), Some(12));
        assert_eq!(cpu_ticks("garbage"), None);
        assert_eq!(vm_rss("Name:\tsleep\nVmRSS:\t    1192 kB\n"), Some(1192 * 1024));
        assert_eq!(vm_rss("Name:\tkthreadd\n"), None);
    }

    #[test]
    fn a_pid_belongs_to_a_container_its_cgroup_names() {
        let id = "3f2a9c1e0b7d4a6f8e5c2b1a0d9e8f7c6b5a4d3e2f1a0b9c8d7e6f5a4b3c2d1e";
        let cgroupfs = format!("0::/docker/{id}\n");
        let systemd = format!("0::/system.slice/docker-{id}.scope\n");
        assert!(cgroup_names(&cgroupfs, id));
        assert!(cgroup_names(&systemd, id));
        assert!(!cgroup_names("0::/user.slice/user-1000.slice\n", id));
        assert!(!cgroup_names(&cgroupfs, ""), "an empty id matches nothing");
    }
}

//! A shell in a container: portolan steps aside, the docker CLI's `exec -it` owns the
//! terminal (raw mode, resizing with the window, the escape sequences of whatever runs
//! inside), and portolan takes the screen back when the shell exits.
//!
//! Why the CLI rather than the API: an interactive session needs the operator's
//! keystrokes passed through byte for byte and the window size followed; the CLI does
//! both and is installed wherever the engine is. portolan's own input reader is paused
//! meanwhile so it does not steal keystrokes from the shell.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use super::input::InputReader;
use super::terminal::TerminalGuard;
use crate::model::Host;

/// The shell tried first when the config names none: the friendliest that may be
/// there (the shell pane falls back to `ash`, then `sh`).
pub const DEFAULT_EXEC_SHELL: &str = "bash";

/// How long probing for a shell may take before giving up on it.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The docker CLI's environment for this engine: it must talk to the same one.
fn docker(host: &Host) -> Command {
    let mut command = Command::new("docker");
    if let Some(context) = &host.context {
        // Named, because with several engines it need not be the CLI's current one.
        command.env_remove("DOCKER_HOST").args(["--context", context]);
    } else {
        // A found socket is shown by what it is (`desktop (unix://…)`): the CLI needs
        // the address alone.
        command.env("DOCKER_HOST", crate::model::format::address(&host.engine.endpoint));
    }
    command
}

#[cfg(test)]
#[test]
fn the_cli_is_pointed_at_the_containers_own_engine() {
    let now = chrono::Utc::now();
    let mut staging = Host::new("staging", "staging (tcp://10.0.0.5:2376)", now);
    staging.context = Some("staging".into());
    let command = docker(&staging);
    let args: Vec<_> = command.as_std().get_args().collect();
    assert_eq!(args, ["--context", "staging"]);
    assert!(command.as_std().get_envs().any(|(k, v)| k == "DOCKER_HOST" && v.is_none()));
    let socket = docker(&Host::new("local", "unix:///var/run/docker.sock", now));
    assert_eq!(socket.as_std().get_args().count(), 0);
    assert!(socket.as_std().get_envs().any(|(k, v)| {
        k == "DOCKER_HOST" && v == Some(std::ffi::OsStr::new("unix:///var/run/docker.sock"))
    }));
    let found = docker(&Host::new("desktop", "desktop (unix:///h/.docker/run/docker.sock)", now));
    assert!(found.as_std().get_envs().any(|(k, v)| {
        k == "DOCKER_HOST" && v == Some(std::ffi::OsStr::new("unix:///h/.docker/run/docker.sock"))
    }));
}

/// The shells to try, preferred first; `sh` is the fallback every image with a shell has.
pub fn candidates(preferred: &str) -> Vec<String> {
    let mut shells: Vec<String> = Vec::new();
    for shell in [preferred.trim(), "sh", "/bin/sh"] {
        if !shell.is_empty() && !shells.iter().any(|s| s == shell) {
            shells.push(shell.to_string());
        }
    }
    shells
}

/// The first shell that starts in the container, or why none could be tried.
async fn find_shell(host: &Host, id: &str, preferred: &str) -> Result<String, String> {
    let shells = candidates(preferred);
    for shell in &shells {
        let probe = docker(host)
            .args(["exec", id, shell.as_str(), "-c", "exit 0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .status();
        match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(Ok(status)) if status.success() => return Ok(shell.clone()),
            Ok(Ok(_)) => continue,
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err("a shell needs the docker CLI, which is not installed here".into());
            }
            Ok(Err(error)) => return Err(format!("cannot run the docker CLI: {error}")),
            Err(_) => return Err(format!("the engine did not start {shell} within 10 s")),
        }
    }
    Err(format!("no shell in this container (tried {})", shells.join(", ")))
}

/// Runs an interactive shell in `id` and returns what to tell the operator after.
pub async fn shell(
    guard: &mut TerminalGuard,
    input: &InputReader,
    host: &Host,
    id: &str,
    name: &str,
    preferred: &str,
) -> Result<String, String> {
    let shell = find_shell(host, id, preferred).await?;
    input.pause().await;
    guard.suspend();
    println!("portolan: {shell} in {name} — exit the shell to return to portolan\r");
    let status =
        docker(host).args(["exec", "-it", id, shell.as_str()]).kill_on_drop(true).status().await;
    let resumed = guard.resume();
    input.resume();
    resumed.map_err(|error| format!("cannot take the terminal back: {error}"))?;
    match status {
        Ok(status) if status.success() => Ok(format!("{shell} in {name} exited")),
        Ok(status) => Ok(format!(
            "{shell} in {name} exited with status {}",
            status.code().map_or_else(|| "unknown".to_string(), |c| c.to_string())
        )),
        Err(error) => Err(format!("cannot run the docker CLI: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preferred_shell_first_then_sh() {
        assert_eq!(candidates("bash"), vec!["bash", "sh", "/bin/sh"]);
        assert_eq!(candidates("sh"), vec!["sh", "/bin/sh"]);
        assert_eq!(candidates(" "), vec!["sh", "/bin/sh"]);
    }
}

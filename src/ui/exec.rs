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

/// How long probing for a shell may take before giving up on it.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The docker CLI's environment for this endpoint: it must talk to the same engine.
fn docker(endpoint: &str) -> Command {
    let mut command = Command::new("docker");
    if ["unix://", "tcp://", "ssh://"].iter().any(|scheme| endpoint.starts_with(scheme)) {
        command.env("DOCKER_HOST", endpoint);
    } else if let Some(context) = context_name(endpoint) {
        // A context's label ("name (host)"): named, because with several engines it
        // need not be the CLI's current one.
        command.env_remove("DOCKER_HOST").args(["--context", context]);
    }
    command
}

/// The context in an endpoint's label `name (host)`.
fn context_name(endpoint: &str) -> Option<&str> {
    let (name, rest) = endpoint.split_once(" (")?;
    (rest.ends_with(')') && !name.is_empty() && !name.contains(char::is_whitespace)).then_some(name)
}

#[cfg(test)]
#[test]
fn a_context_label_names_its_context() {
    assert_eq!(context_name("staging (tcp://10.0.0.5:2376)"), Some("staging"));
    assert_eq!(context_name("unix:///var/run/docker.sock"), None);
    assert_eq!(context_name("two words (x)"), None);
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
async fn find_shell(endpoint: &str, id: &str, preferred: &str) -> Result<String, String> {
    let shells = candidates(preferred);
    for shell in &shells {
        let probe = docker(endpoint)
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
    endpoint: &str,
    id: &str,
    name: &str,
    preferred: &str,
) -> Result<String, String> {
    let shell = find_shell(endpoint, id, preferred).await?;
    input.pause().await;
    guard.suspend();
    println!("portolan: {shell} in {name} — exit the shell to return to portolan\r");
    let status = docker(endpoint)
        .args(["exec", "-it", id, shell.as_str()])
        .kill_on_drop(true)
        .status()
        .await;
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

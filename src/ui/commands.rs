//! Custom commands: the operator's own shell lines from the config's `[[commands]]`,
//! with placeholders for the selected container filled in, shell-quoted. They are
//! bound to keys through the keymap, listed in the palette and the help, and run
//! like the `!` shell: the terminal is handed to `sh -c …` and taken back after
//! ("press Enter to return"), because a command the operator wrote may be
//! interactive (`docker exec -it`, a pager) and its output is theirs to read in full.
//! `--read-only` does not refuse them: they are the operator's own, run with the
//! operator's own rights, and portolan neither reads nor limits what they do.

use std::collections::BTreeMap;

use crate::model::{Container, Model};

/// What a command's line may name, each the selected container's.
pub const PLACEHOLDERS: [&str; 6] =
    ["container", "container_id", "service", "project", "engine", "image"];

pub use super::keymap::CustomCommand;

/// The placeholders a line names, in order; `{{` and `}}` are literal braces. An
/// unknown or unclosed one is an error in words.
pub fn placeholders(line: &str) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err(format!("`{{{name}` is not closed with `}}`")),
                    }
                }
                if !PLACEHOLDERS.contains(&name.as_str()) {
                    return Err(format!(
                        "unknown placeholder `{{{name}}}` (known: {})",
                        PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                    ));
                }
                found.push(name);
            }
            '}' => return Err("a lone `}` (write `}}` for a brace)".to_string()),
            _ => {}
        }
    }
    Ok(found)
}

/// `text` as one shell word: in single quotes, a quote inside closed and escaped.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The selected container's value of each placeholder; absent where it has none
/// (`{service}` of a container no compose project made).
pub fn values(model: &Model, c: &Container) -> BTreeMap<&'static str, Option<String>> {
    let host = model.host(c.host);
    let engine = crate::model::format::address(&host.engine.endpoint).to_string();
    BTreeMap::from([
        ("container", Some(c.name.clone())),
        ("container_id", Some(c.id.clone())),
        ("service", c.service().map(String::from)),
        ("project", c.project().map(String::from)),
        ("engine", Some(engine).filter(|e| !e.is_empty())),
        ("image", Some(c.image.clone()).filter(|i| !i.is_empty())),
    ])
}

/// The line with every placeholder replaced by its shell-quoted value; the names
/// of the placeholders without a value when some have none.
pub fn render(
    line: &str,
    values: &BTreeMap<&'static str, Option<String>>,
) -> Result<String, Vec<String>> {
    let missing: Vec<String> = placeholders(line)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| values.get(p.as_str()).is_none_or(Option::is_none))
        .collect();
    if !missing.is_empty() {
        let mut missing = missing;
        missing.dedup();
        return Err(missing);
    }
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let value = values.get(name.as_str()).cloned().flatten().unwrap_or_default();
                out.push_str(&shell_quote(&value));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// A command ready to run: its name, the line with the values in, and the engine
/// of the container it was filled from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRun {
    pub name: String,
    pub line: String,
    pub host: crate::model::HostId,
}

/// Hands the terminal to `sh -c line` (with `DOCKER_HOST`, or the context, of the
/// container's engine, so `docker …` in it talks to that engine), waits for it and
/// for Enter, and takes the terminal back; what to tell the operator after.
pub async fn run(
    guard: &mut super::terminal::TerminalGuard,
    input: &super::input::InputReader,
    host: &crate::model::Host,
    run: &CommandRun,
) -> Result<String, String> {
    let mut command = tokio::process::Command::new("sh");
    command.args(["-c", run.line.as_str()]).kill_on_drop(true);
    match &host.context {
        Some(context) => {
            command.env_remove("DOCKER_HOST").env("DOCKER_CONTEXT", context);
        }
        None => {
            command.env("DOCKER_HOST", crate::model::format::address(&host.engine.endpoint));
        }
    }
    input.pause().await;
    guard.suspend();
    let name = crate::model::sanitize::one_line(&run.name).into_owned();
    println!("portolan: {name}: {}\r", crate::model::sanitize::one_line(&run.line));
    let status = command.status().await;
    let said = match &status {
        Ok(s) if s.success() => format!("{name} finished"),
        Ok(s) => format!(
            "{name} exited with status {}",
            s.code().map_or_else(|| "unknown".to_string(), |c| c.to_string())
        ),
        Err(error) => format!("{name} could not run: {error}"),
    };
    println!("\r\nportolan: {said}. Press Enter to return.\r");
    // The terminal is cooked again: a line is Enter.
    let _ = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)
    })
    .await;
    let resumed = guard.resume();
    input.resume();
    resumed.map_err(|error| format!("cannot take the terminal back: {error}"))?;
    match status {
        Ok(s) if s.success() => Ok(said),
        _ => Err(said),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_known_names_and_double_braces_are_literal() {
        assert_eq!(placeholders("echo {container} {project}").unwrap(), ["container", "project"]);
        assert_eq!(placeholders("awk '{{print $1}}' {image}").unwrap(), ["image"]);
        let bad = placeholders("echo {containr}").unwrap_err();
        assert!(bad.contains("unknown placeholder `{containr}`") && bad.contains("{container}"));
        assert!(placeholders("echo {container").unwrap_err().contains("not closed"));
        assert!(placeholders("echo }").unwrap_err().contains("lone"));
    }

    #[test]
    fn values_are_quoted_and_a_missing_one_is_named() {
        let values = BTreeMap::from([
            ("container", Some("web; rm -rf /".to_string())),
            ("project", Some("it's".to_string())),
            ("service", None),
        ]);
        assert_eq!(
            render("echo {container} {project} {{x}}", &values).unwrap(),
            r"echo 'web; rm -rf /' 'it'\''s' {x}"
        );
        assert_eq!(render("echo {service} {service}", &values).unwrap_err(), ["service"]);
    }
}

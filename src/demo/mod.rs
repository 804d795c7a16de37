//! Demo stacks: common compose architectures (an API with its database and cache, a
//! proxy in front of a frontend and a backend, a logging stack...) as their reference
//! designs draw them, run by stand-ins. What `portolan demo` creates.
//!
//! This module owns the stacks as plain data ([`stacks`], shaped by [`spec`]), the
//! planning of what to create on a given host and in which order ([`plan`], with the
//! subnet and port choices of [`net`]), and the words `demo` prints ([`report`]). It is
//! pure: it never talks to Docker or touches files. `engine::demo` carries a plan out.

pub mod net;
pub mod plan;
pub mod report;
pub mod spec;
pub mod stacks;

use std::path::{Path, PathBuf};

pub use plan::{HostFacts, LABEL, PlanError, StackPlan, Taken, plan};
pub use spec::Stack;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("there is no demo stack `{name}`; the stacks are: {}", known.join(", "))]
pub struct UnknownStack {
    pub name: String,
    pub known: Vec<String>,
}

/// The stacks named, in the catalogue's order and without repeats; without names, the
/// default set (every reference design once, variants left out).
pub fn select(names: &[String]) -> Result<Vec<Stack>, UnknownStack> {
    let all = stacks::all();
    if names.is_empty() {
        return Ok(all.into_iter().filter(|s| s.default).collect());
    }
    for name in names {
        if !all.iter().any(|s| s.name == name) {
            return Err(UnknownStack {
                name: name.clone(),
                known: all.iter().map(|s| s.name.to_string()).collect(),
            });
        }
    }
    Ok(all.into_iter().filter(|s| names.iter().any(|n| n == s.name)).collect())
}

/// Where demo stacks keep their files (bind mount sources such as nginx.conf):
/// `$XDG_STATE_HOME/portolan/demo`, else `$HOME/.local/state/portolan/demo`, else
/// `/tmp/portolan-demo-<uid>`. One directory per stack inside.
pub fn state_root(xdg_state_home: Option<&str>, home: Option<&str>, uid: u32) -> PathBuf {
    let usable = |v: Option<&str>| v.filter(|v| v.starts_with('/')).map(PathBuf::from);
    if let Some(state) = usable(xdg_state_home) {
        return state.join("portolan").join("demo");
    }
    if let Some(home) = usable(home) {
        return home.join(".local").join("state").join("portolan").join("demo");
    }
    PathBuf::from(format!("/tmp/portolan-demo-{uid}"))
}

/// Whether `path` looks like a stack directory made by [`state_root`], so that
/// `demo down` never removes anything else, whatever a label says.
pub fn is_stack_dir(path: &Path) -> bool {
    let Some(parent) = path.parent() else { return false };
    let Some(stack) = path.file_name().and_then(|n| n.to_str()) else { return false };
    if stack.is_empty() || stack.starts_with('.') || !path.is_absolute() {
        return false;
    }
    let under_portolan_demo = parent.ends_with("portolan/demo");
    let under_tmp = parent.parent() == Some(Path::new("/tmp"))
        && parent
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("portolan-demo-"));
    under_portolan_demo || under_tmp
}

#[cfg(test)]
mod tests;

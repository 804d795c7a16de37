//! What the operator can do to containers, and how it went: the words and the rules
//! (which verbs are destructive, what to ask first) live here, apart from the engine
//! that carries them out and the UI that asks.

use super::{Container, ContainerState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verb {
    Start,
    Stop,
    Restart,
    Pause,
    Unpause,
    Kill,
    Remove,
}

impl Verb {
    pub const ALL: [Verb; 7] = [
        Verb::Start,
        Verb::Stop,
        Verb::Restart,
        Verb::Pause,
        Verb::Unpause,
        Verb::Kill,
        Verb::Remove,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Start => "start",
            Verb::Stop => "stop",
            Verb::Restart => "restart",
            Verb::Pause => "pause",
            Verb::Unpause => "unpause",
            Verb::Kill => "kill",
            Verb::Remove => "remove",
        }
    }

    /// `stopping`, for progress lines.
    pub fn progressive(self) -> &'static str {
        match self {
            Verb::Start => "starting",
            Verb::Stop => "stopping",
            Verb::Restart => "restarting",
            Verb::Pause => "pausing",
            Verb::Unpause => "unpausing",
            Verb::Kill => "killing",
            Verb::Remove => "removing",
        }
    }

    /// The key that picks this verb in the actions menu.
    pub fn menu_key(self) -> char {
        match self {
            Verb::Start => 's',
            Verb::Stop => 't',
            Verb::Restart => 'r',
            Verb::Pause => 'p',
            Verb::Unpause => 'u',
            Verb::Kill => 'k',
            Verb::Remove => 'd',
        }
    }

    /// Verbs that interrupt a running service ask before they act.
    pub fn is_destructive(self) -> bool {
        !matches!(self, Verb::Start | Verb::Unpause)
    }

    /// Whether the verb means anything for a container in this state (stopping a
    /// stopped container is a no-op the engine would answer with an error).
    pub fn applies_to(self, c: &Container) -> bool {
        let state = c.state;
        match self {
            Verb::Start => matches!(
                state,
                ContainerState::Created | ContainerState::Exited | ContainerState::Dead
            ),
            Verb::Stop | Verb::Kill => {
                matches!(state, ContainerState::Running | ContainerState::Restarting)
                    || state == ContainerState::Paused
            }
            Verb::Restart => !matches!(state, ContainerState::Removing | ContainerState::Dead),
            Verb::Pause => state == ContainerState::Running,
            Verb::Unpause => state == ContainerState::Paused,
            Verb::Remove => state != ContainerState::Removing,
        }
    }
}

/// Removing a running container kills it first: that asks harder (the operator types
/// `yes`) than the other destructive verbs (one `y`).
pub fn needs_typed_confirmation(verb: Verb, targets: &[&Container]) -> bool {
    verb == Verb::Remove
        && targets.iter().any(|c| c.state.is_running() || c.state == ContainerState::Paused)
}

/// How many containers a question names before it counts the rest.
const NAMED: usize = 24;

/// The question asked before a destructive verb, naming every target.
pub fn question(verb: Verb, targets: &[&Container]) -> String {
    let names: Vec<&str> = targets.iter().map(|c| c.name.as_str()).collect();
    let listed = match names.len() {
        0 => "nothing".to_string(),
        // A bulk action names every container it touches, as far as a popup can.
        1..=NAMED => names.join(", "),
        n => format!("{} and {} more", names[..NAMED - 1].join(", "), n - (NAMED - 1)),
    };
    let count = if names.len() == 1 {
        "container".to_string()
    } else {
        format!("{} containers", names.len())
    };
    let running: Vec<&str> =
        targets.iter().filter(|c| c.state.is_running()).map(|c| c.name.as_str()).collect();
    let mut text = format!("{} {count}: {listed}?", capitalized(verb.as_str()),);
    if needs_typed_confirmation(verb, targets) {
        text.push_str(&format!(
            " {} still running: removing kills {} and its data outside volumes is gone.",
            if running.len() == 1 { "It is" } else { "They are" },
            if running.len() == 1 { "it" } else { "them" },
        ));
    }
    text
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The outcome of one verb on one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionResult {
    /// When the engine answered.
    pub at: chrono::DateTime<chrono::Utc>,
    pub id: String,
    pub name: String,
    pub verb: Verb,
    /// `None` when it worked; the engine's answer in words when not.
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(name: &str, state: ContainerState) -> Container {
        let mut c = Container::new(name, name);
        c.state = state;
        c
    }

    #[test]
    fn verbs_apply_to_the_states_they_mean_something_in() {
        let running = container("a", ContainerState::Running);
        let exited = container("b", ContainerState::Exited);
        let paused = container("c", ContainerState::Paused);
        assert!(Verb::Start.applies_to(&exited) && !Verb::Start.applies_to(&running));
        assert!(Verb::Stop.applies_to(&running) && !Verb::Stop.applies_to(&exited));
        assert!(Verb::Pause.applies_to(&running) && !Verb::Pause.applies_to(&paused));
        assert!(Verb::Unpause.applies_to(&paused));
        assert!(Verb::Remove.applies_to(&exited) && Verb::Remove.applies_to(&running));
        assert!(!Verb::Start.is_destructive() && Verb::Kill.is_destructive());
    }

    #[test]
    fn questions_name_their_targets_and_removal_of_running_asks_harder() {
        let running = container("shop-api-1", ContainerState::Running);
        let exited = container("shop-job-1", ContainerState::Exited);
        assert_eq!(question(Verb::Stop, &[&running]), "Stop container: shop-api-1?");
        let q = question(Verb::Remove, &[&running, &exited]);
        assert!(q.starts_with("Remove 2 containers: shop-api-1, shop-job-1?"), "{q}");
        assert!(q.contains("It is still running"), "{q}");
        assert!(needs_typed_confirmation(Verb::Remove, &[&running]));
        assert!(!needs_typed_confirmation(Verb::Remove, &[&exited]));
        assert!(!needs_typed_confirmation(Verb::Stop, &[&running]));
        let many: Vec<Container> =
            (0..30).map(|i| container(&format!("c{i}"), ContainerState::Running)).collect();
        let refs: Vec<&Container> = many.iter().collect();
        assert!(question(Verb::Restart, &refs[..6]).contains("c0, c1, c2, c3, c4, c5?"));
        assert!(question(Verb::Restart, &refs).contains("c21, c22 and 7 more"));
    }
}

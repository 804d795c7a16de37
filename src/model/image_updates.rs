//! Whether a container's image tag now points at a newer image in its registry: the
//! answers of the checks the operator asked for (never polled), and the words for
//! them. Pure: `engine/updates.rs` asks the engine's distribution endpoint and reports
//! an [`UpdateCheck`] per container.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// What a registry said about one container's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The local image is the one the tag points at.
    UpToDate { digest: String },
    /// The tag points at another image than the local one.
    Available { local: Option<String>, remote: String },
    /// Nothing to compare: the image is named by digest or id, or was built here and
    /// never pushed.
    NotChecked(String),
    /// The registry answered, but not with a digest: in words.
    Failed(CheckFailure),
}

/// Why a registry gave no digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckFailure {
    /// 429: the registry limits how often it is asked.
    RateLimited(String),
    /// 401/403: the credentials were refused or are missing.
    Unauthorized(String),
    /// The registry does not know this name or tag.
    UnknownManifest(String),
    /// No registry answered at this address (offline, wrong port, no registry).
    Unreachable(String),
    Other(String),
}

impl CheckFailure {
    pub fn describe(&self) -> String {
        match self {
            CheckFailure::RateLimited(host) => {
                format!("{host} limits how often it is asked (429): try again later")
            }
            CheckFailure::Unauthorized(host) => format!(
                "{host} refused the credentials (401/403): log in with docker login \
                 (credential helpers are not read)"
            ),
            CheckFailure::UnknownManifest(name) => {
                format!("the registry does not know {name}")
            }
            CheckFailure::Unreachable(host) => format!("no registry reachable at {host}"),
            CheckFailure::Other(text) => text.clone(),
        }
    }
}

impl Verdict {
    pub fn describe(&self) -> String {
        match self {
            Verdict::UpToDate { .. } => "up to date".into(),
            Verdict::Available { remote, .. } => {
                format!("update available ({})", short_digest(remote))
            }
            Verdict::NotChecked(why) => format!("not checked: {why}"),
            Verdict::Failed(failure) => failure.describe(),
        }
    }

    pub fn is_available(&self) -> bool {
        matches!(self, Verdict::Available { .. })
    }
}

/// `sha256:0123456789ab`, the first 12 hex digits.
pub fn short_digest(digest: &str) -> String {
    let (algo, hex) = digest.split_once(':').unwrap_or(("", digest));
    let hex: String = hex.chars().take(12).collect();
    if algo.is_empty() { hex } else { format!("{algo}:{hex}") }
}

/// One container's check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateCheck {
    pub id: String,
    pub image: String,
    pub at: DateTime<Utc>,
    pub verdict: Verdict,
}

/// Checks asked for, by container id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateChecks {
    pub checks: BTreeMap<String, UpdateStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateStatus {
    pub checking_since: Option<DateTime<Utc>>,
    pub last: Option<UpdateCheck>,
}

impl UpdateChecks {
    pub fn ask(&mut self, id: &str, at: DateTime<Utc>) {
        self.checks.entry(id.to_string()).or_default().checking_since = Some(at);
    }

    pub fn answer(&mut self, check: UpdateCheck) -> bool {
        let status = self.checks.entry(check.id.clone()).or_default();
        status.checking_since = None;
        status.last = Some(check);
        true
    }

    /// The words for a container's line in the detail, when it was checked.
    pub fn describe(&self, id: &str) -> Option<String> {
        let status = self.checks.get(id)?;
        if status.checking_since.is_some() {
            return Some("checking the registry…".into());
        }
        status.last.as_ref().map(|c| c.verdict.describe())
    }

    pub fn available(&self, id: &str) -> Option<&Verdict> {
        self.checks.get(id)?.last.as_ref().map(|c| &c.verdict).filter(|v| v.is_available())
    }
}

/// One line summing up a round of checks: counts, and "no registry reachable" once
/// however many containers it hit.
pub fn summary(checks: &[UpdateCheck]) -> String {
    let available = checks.iter().filter(|c| c.verdict.is_available()).count();
    let current = checks.iter().filter(|c| matches!(c.verdict, Verdict::UpToDate { .. })).count();
    let mut unreachable: Vec<&str> = checks
        .iter()
        .filter_map(|c| match &c.verdict {
            Verdict::Failed(CheckFailure::Unreachable(host)) => Some(host.as_str()),
            _ => None,
        })
        .collect();
    unreachable.sort();
    unreachable.dedup();
    let mut parts = Vec::new();
    if checks.len() == 1 {
        let c = &checks[0];
        return format!("{}: {}", c.image, c.verdict.describe());
    }
    if available + current > 0 {
        parts
            .push(format!("{available} update{} available", if available == 1 { "" } else { "s" }));
        parts.push(format!("{current} up to date"));
    }
    if !unreachable.is_empty() {
        parts.push(format!("no registry reachable at {}", unreachable.join(", ")));
    }
    let other = checks.len()
        - available
        - current
        - checks
            .iter()
            .filter(|c| matches!(c.verdict, Verdict::Failed(CheckFailure::Unreachable(_))))
            .count();
    if other > 0 {
        parts.push(format!("{other} not checked (see each container's detail)"));
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, verdict: Verdict) -> UpdateCheck {
        UpdateCheck {
            id: id.into(),
            image: format!("{id}:latest"),
            at: DateTime::UNIX_EPOCH,
            verdict,
        }
    }

    #[test]
    fn no_registry_reachable_is_said_once() {
        let dead = || Verdict::Failed(CheckFailure::Unreachable("127.0.0.1:9".into()));
        let checks = vec![
            check("a", dead()),
            check("b", dead()),
            check(
                "c",
                Verdict::Available { local: None, remote: "sha256:abcdef0123456789".into() },
            ),
        ];
        let text = summary(&checks);
        assert_eq!(text.matches("no registry reachable").count(), 1, "{text}");
        assert!(text.starts_with("1 update available"), "{text}");
        let text = summary(&checks[..2]);
        assert_eq!(text, "no registry reachable at 127.0.0.1:9", "nothing else to say");
        assert_eq!(short_digest("sha256:abcdef0123456789"), "sha256:abcdef012345");
    }

    #[test]
    fn checks_remember_the_last_answer() {
        let mut checks = UpdateChecks::default();
        checks.ask("a", DateTime::UNIX_EPOCH);
        assert_eq!(checks.describe("a").as_deref(), Some("checking the registry…"));
        checks.answer(check("a", Verdict::UpToDate { digest: "sha256:1".into() }));
        assert_eq!(checks.describe("a").as_deref(), Some("up to date"));
        assert!(checks.available("a").is_none());
    }
}

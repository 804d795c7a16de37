//! What a list calls each container it shows: the shortest name that still tells its
//! row apart from every other row of the same list.
//!
//! Stats, Health, the incident log and the merged log all name containers in a column.
//! A service name alone (`redis`) reads best, until two projects both run a `redis`;
//! then the row must say whose it is (`shop/redis`), and a scaled service says which
//! replica (`worker#2`). The rule lives here, once, so every list settles a clash the
//! same way, and so does cutting a name to a narrow column: a cut never makes two
//! rows read alike while another cut would not. Plain strings only, and no engine:
//! with several engines the UI writes the engine before the name, so rows on two
//! engines never clash here.

use std::collections::HashMap;

use super::HostId;
use super::container::Container;
use super::sanitize::one_line;

/// One container as a list knows it: what the naming rule reads. Lists of events name
/// containers that may be gone, so this is not a [`Container`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Named<'a> {
    pub host: HostId,
    /// The container name: the engine keeps it unique, so it is the last resort.
    pub name: &'a str,
    pub project: Option<&'a str>,
    pub service: Option<&'a str>,
    /// The compose replica number (`com.docker.compose.container-number`).
    pub number: Option<u32>,
}

impl<'a> From<&'a Container> for Named<'a> {
    fn from(c: &'a Container) -> Self {
        Named {
            host: c.host,
            name: &c.name,
            project: c.project(),
            service: c.service(),
            number: c.compose.as_ref().and_then(|info| info.container_number),
        }
    }
}

/// A name in two parts, so that a narrow column cuts the project before the service.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Label {
    project: Option<String>,
    rest: String,
}

impl Label {
    fn text(&self) -> String {
        match &self.project {
            Some(project) => format!("{project}/{}", self.rest),
            None => self.rest.clone(),
        }
    }

    /// Shorter forms of the label, best first, each at most `width` characters:
    /// the project's head, then its tail, then the whole text's head, then its tail.
    fn cuts(&self, width: usize) -> Vec<String> {
        let mut cuts = Vec::new();
        if width == 0 {
            return cuts;
        }
        let rest_width = self.rest.chars().count();
        if let Some(project) = &self.project {
            let project_width = project.chars().count();
            // Room for at least one character of the project, its `…` and the `/`.
            let room = width.saturating_sub(rest_width + 2);
            if room >= 1 && room < project_width {
                let head: String = project.chars().take(room).collect();
                let tail: String = project.chars().skip(project_width - room).collect();
                cuts.push(format!("{head}…/{}", self.rest));
                cuts.push(format!("…{tail}/{}", self.rest));
            }
        }
        let text = self.text();
        cuts.push(super::format::fit(&text, width));
        let total = text.chars().count();
        let tail: String = text.chars().skip(total + 1 - width).collect();
        cuts.push(format!("…{tail}"));
        cuts.dedup();
        cuts
    }
}

/// The name each row goes by, in the order given, in at most `width` characters
/// (`usize::MAX` for no limit). Rows for the same container (same engine and name,
/// as the incident log has many) get the same name.
///
/// The rule: the service name when no other row on the engine goes by it; with a
/// replica number when the service has several containers here (`worker#2`);
/// `project/service` when the service name repeats across projects; the container
/// name when even that clashes. Too long for `width`, the project is cut first
/// (`store…/redis`, else `…front/redis` when the heads are alike), then the whole.
pub fn row_names(rows: &[Named<'_>], width: usize) -> Vec<String> {
    let mut identities: Vec<Named<'_>> = Vec::new();
    let mut index: HashMap<(HostId, &str), usize> = HashMap::new();
    let row_identity: Vec<usize> = rows
        .iter()
        .map(|row| {
            *index.entry((row.host, row.name)).or_insert_with(|| {
                identities.push(*row);
                identities.len() - 1
            })
        })
        .collect();
    let labels = unique_labels(&identities);
    let shown = fit_labels(&identities, &labels, width);
    row_identity.into_iter().map(|i| shown[i].clone()).collect()
}

/// [`row_names`] for a list of containers, by container id.
pub fn names_by_id<'c>(
    containers: impl IntoIterator<Item = &'c Container>,
    width: usize,
) -> HashMap<String, String> {
    let containers: Vec<&Container> = containers.into_iter().collect();
    let named: Vec<Named<'_>> = containers.iter().map(|c| Named::from(*c)).collect();
    containers.iter().map(|c| c.id.clone()).zip(row_names(&named, width)).collect()
}

/// Full labels, one per distinct container, no two alike on one engine.
fn unique_labels(identities: &[Named<'_>]) -> Vec<Label> {
    let clean = |s: &str| one_line(s).into_owned();
    let mut labels: Vec<Label> = identities
        .iter()
        .map(|c| {
            let rest = match c.service {
                Some(service) => {
                    let replicas = identities
                        .iter()
                        .filter(|o| {
                            o.host == c.host && o.project == c.project && o.service == c.service
                        })
                        .count();
                    match (replicas > 1, c.number) {
                        (false, _) => clean(service),
                        (true, Some(n)) => format!("{}#{n}", clean(service)),
                        (true, None) => clean(c.name),
                    }
                }
                None => clean(c.name),
            };
            Label { project: None, rest }
        })
        .collect();
    // A service name shared on one engine says whose it is.
    for i in clashing(identities, &labels.iter().map(|l| l.rest.clone()).collect::<Vec<_>>()) {
        if let (Some(project), true) = (identities[i].project, identities[i].service.is_some()) {
            labels[i].project = Some(clean(project));
        }
    }
    // Whatever still clashes takes its container name, unique on its engine. Each round
    // turns at least one more label into a name, so this ends.
    loop {
        let texts: Vec<String> = labels.iter().map(Label::text).collect();
        let clashes: Vec<usize> = clashing(identities, &texts)
            .into_iter()
            .filter(|&i| labels[i] != Label { project: None, rest: clean(identities[i].name) })
            .collect();
        if clashes.is_empty() {
            return labels;
        }
        for i in clashes {
            labels[i] = Label { project: None, rest: clean(identities[i].name) };
        }
    }
}

/// The labels cut to `width`, each by its first cut that reads unlike every other row.
fn fit_labels(identities: &[Named<'_>], labels: &[Label], width: usize) -> Vec<String> {
    let cuts: Vec<Vec<String>> = labels
        .iter()
        .map(|label| {
            let text = label.text();
            if text.chars().count() <= width { vec![text] } else { label.cuts(width) }
        })
        .collect();
    let mut choice = vec![0usize; labels.len()];
    loop {
        let shown: Vec<String> =
            cuts.iter().zip(&choice).map(|(c, &i)| c.get(i).cloned().unwrap_or_default()).collect();
        let mut moved = false;
        for i in clashing(identities, &shown) {
            if choice[i] + 1 < cuts[i].len() {
                choice[i] += 1;
                moved = true;
            }
        }
        if !moved {
            return shown;
        }
    }
}

/// The indexes of labels that another container on the same engine also goes by.
fn clashing(identities: &[Named<'_>], texts: &[String]) -> Vec<usize> {
    let mut counts: HashMap<(HostId, &str), usize> = HashMap::new();
    for (c, text) in identities.iter().zip(texts) {
        *counts.entry((c.host, text.as_str())).or_default() += 1;
    }
    (0..texts.len()).filter(|&i| counts[&(identities[i].host, texts[i].as_str())] > 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compose<'a>(project: &'a str, service: &'a str, name: &'a str) -> Named<'a> {
        Named { host: 0, name, project: Some(project), service: Some(service), number: Some(1) }
    }

    fn alone(name: &str) -> Named<'_> {
        Named { host: 0, name, project: None, service: None, number: None }
    }

    #[test]
    fn a_service_alone_goes_by_its_service_name() {
        let rows = [compose("shop", "api", "shop-api-1"), compose("shop", "db", "shop-db-1")];
        assert_eq!(row_names(&rows, usize::MAX), ["api", "db"]);
    }

    #[test]
    fn a_service_name_in_two_projects_says_whose_it_is() {
        let rows = [
            compose("shop", "redis", "shop-redis-1"),
            compose("billing", "redis", "billing-redis-1"),
            compose("billing", "app", "billing-app-1"),
            alone("redis"),
        ];
        assert_eq!(row_names(&rows, usize::MAX), ["shop/redis", "billing/redis", "app", "redis"]);
    }

    #[test]
    fn replicas_are_numbered_and_the_same_container_keeps_one_name() {
        let mut second = compose("shop", "worker", "shop-worker-2");
        second.number = Some(2);
        let rows = [compose("shop", "worker", "shop-worker-1"), second, second];
        assert_eq!(row_names(&rows, usize::MAX), ["worker#1", "worker#2", "worker#2"]);
        // Without a number the container name tells replicas apart.
        second.number = None;
        let rows = [compose("shop", "worker", "shop-worker-1"), second];
        assert_eq!(row_names(&rows, usize::MAX), ["worker#1", "shop-worker-2"]);
    }

    #[test]
    fn rows_on_two_engines_never_clash_here() {
        let mut west = compose("shop", "api", "shop-api-1");
        west.host = 1;
        let rows = [compose("shop", "api", "shop-api-1"), west];
        assert_eq!(row_names(&rows, usize::MAX), ["api", "api"], "the UI writes the engine");
    }

    #[test]
    fn what_still_clashes_takes_the_container_name() {
        // A project called `shop/x` cannot exist, but a service can share a stand-alone
        // container's whole name.
        let rows = [compose("shop", "shop-api-1", "shop-shop-api-1-1"), alone("shop-api-1")];
        assert_eq!(row_names(&rows, usize::MAX), ["shop/shop-api-1", "shop-api-1"]);
        // Compose v1 and v2 both numbered their container 1: only the names differ.
        let rows = [compose("shop", "api", "shop-api-1"), compose("shop", "api", "shop_api_1")];
        assert_eq!(row_names(&rows, usize::MAX), ["shop-api-1", "shop_api_1"]);
    }

    #[test]
    fn a_narrow_column_cuts_the_project_first() {
        let rows = [
            compose("storefront", "postgres", "storefront-postgres-1"),
            compose("billing", "postgres", "billing-postgres-1"),
            compose("billing", "app", "billing-app-1"),
        ];
        assert_eq!(row_names(&rows, 16), ["storef…/postgres", "billing/postgres", "app"]);
        assert_eq!(row_names(&rows, 12), ["st…/postgres", "bi…/postgres", "app"]);
    }

    #[test]
    fn a_cut_never_makes_two_rows_alike() {
        let rows = [
            compose("storefront", "redis", "storefront-redis-1"),
            compose("storefront-staging", "redis", "storefront-staging-redis-1"),
        ];
        // Both heads would read `store…/redis`: the tails tell them apart.
        assert_eq!(row_names(&rows, 12), ["…front/redis", "…aging/redis"]);
        // From the service and one character of the project up.
        for width in 8..30 {
            let names = row_names(&rows, width);
            assert_ne!(names[0], names[1], "at {width}: {names:?}");
            assert!(names.iter().all(|n| n.chars().count() <= width), "at {width}: {names:?}");
        }
    }

    #[test]
    fn names_are_made_safe_to_draw() {
        let rows = [alone("evil\u{1b}[2Jname")];
        assert!(!row_names(&rows, usize::MAX)[0].contains('\u{1b}'));
    }
}

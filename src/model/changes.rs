//! What a container changed against its image (`docker diff`), and the tree the
//! Changes pane draws of it.
//!
//! The engine answers with a flat list of paths; the tree is built here, not in the
//! pane, so it is tested without a terminal. Paths are chosen by whatever runs in the
//! container: they stay raw in the model and are made safe only where they are drawn
//! ([`crate::model::sanitize::one_line`]). The engine's list has no sizes.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::natural::natural_cmp;

/// What happened to one path, as `docker diff` marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    Added,
    Changed,
    Deleted,
}

impl ChangeKind {
    /// The engine's number for it (`0` changed, `1` added, `2` deleted).
    pub fn from_engine(kind: i64) -> Option<ChangeKind> {
        match kind {
            0 => Some(ChangeKind::Changed),
            1 => Some(ChangeKind::Added),
            2 => Some(ChangeKind::Deleted),
            _ => None,
        }
    }

    /// `docker diff`'s letter.
    pub fn mark(self) -> char {
        match self {
            ChangeKind::Added => 'A',
            ChangeKind::Changed => 'C',
            ChangeKind::Deleted => 'D',
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Changed => "changed",
            ChangeKind::Deleted => "deleted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
}

/// The engine's last answer about one container's changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerChanges {
    pub id: String,
    pub at: DateTime<Utc>,
    /// The changes, or why the engine gave none (in words).
    pub result: Result<Vec<Change>, String>,
    /// Paths read one by one since this answer, by path: a new answer forgets them.
    pub stats: BTreeMap<String, Result<PathInfo, String>>,
}

impl ContainerChanges {
    /// How many changes lie at `dir` or below it.
    pub fn count_under(&self, dir: &str) -> usize {
        let dir = dir.trim_end_matches('/');
        self.result.as_ref().map_or(0, |changes| {
            changes.iter().filter(|c| c.path == dir || is_below(&c.path, dir)).count()
        })
    }
}

/// One path's entry as the engine's archive endpoint describes it (`HEAD
/// /containers/{id}/archive`): read for the selected row only, never for the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathInfo {
    pub size: u64,
    pub dir: bool,
    /// Where a symbolic link points; empty otherwise.
    pub link_target: String,
}

/// The engine's answer about one path of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStat {
    pub id: String,
    pub path: String,
    pub result: Result<PathInfo, String>,
}

/// Whether `path` lies strictly below directory `dir`.
pub fn is_below(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
}

/// One row of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    /// The full path; identifies the row across rebuilds.
    pub path: String,
    /// The last component (raw).
    pub name: String,
    pub depth: usize,
    /// The path's own change; `None` for a directory that is only on the way to one.
    pub kind: Option<ChangeKind>,
    /// Changes below this path (0 for a leaf).
    pub below: usize,
}

impl ChangeRow {
    pub fn is_dir(&self) -> bool {
        self.below > 0
    }
}

#[derive(Default)]
struct Node {
    kind: Option<ChangeKind>,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn count(&self) -> usize {
        self.children.values().map(|c| usize::from(c.kind.is_some()) + c.count()).sum()
    }
}

/// The rows of the tree, depth first, siblings in natural order (`f2` before `f10`);
/// the children of a path in `folded` are left out.
pub fn tree_rows(changes: &[Change], folded: &dyn Fn(&str) -> bool) -> Vec<ChangeRow> {
    let mut root = Node::default();
    for change in changes {
        let parts: Vec<&str> = change.path.split('/').filter(|p| !p.is_empty()).collect();
        // `/` itself is never listed by the engine; a path of only slashes is ignored.
        if parts.is_empty() {
            continue;
        }
        let mut node = &mut root;
        for part in parts {
            node = node.children.entry(part.to_string()).or_default();
        }
        node.kind = Some(change.kind);
    }
    let mut rows = Vec::new();
    walk(&root, "", 0, folded, &mut rows);
    rows
}

fn walk(
    node: &Node,
    prefix: &str,
    depth: usize,
    folded: &dyn Fn(&str) -> bool,
    rows: &mut Vec<ChangeRow>,
) {
    let mut children: Vec<(&String, &Node)> = node.children.iter().collect();
    children.sort_by(|a, b| order(a.0, b.0));
    for (name, child) in children {
        let path = format!("{prefix}/{name}");
        rows.push(ChangeRow {
            path: path.clone(),
            name: name.clone(),
            depth,
            kind: child.kind,
            below: child.count(),
        });
        if !folded(&path) {
            walk(child, &path, depth + 1, folded, rows);
        }
    }
}

fn order(a: &str, b: &str) -> Ordering {
    natural_cmp(a, b).then_with(|| a.cmp(b))
}

/// How many changes of each kind.
pub fn totals(changes: &[Change]) -> [(ChangeKind, usize); 3] {
    let count = |kind| changes.iter().filter(|c| c.kind == kind).count();
    [
        (ChangeKind::Added, count(ChangeKind::Added)),
        (ChangeKind::Changed, count(ChangeKind::Changed)),
        (ChangeKind::Deleted, count(ChangeKind::Deleted)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sanitize::one_line;

    fn change(kind: ChangeKind, path: &str) -> Change {
        Change { path: path.into(), kind }
    }

    fn shown(rows: &[ChangeRow]) -> Vec<String> {
        rows.iter()
            .map(|r| {
                let mark = r.kind.map_or(' ', ChangeKind::mark);
                format!("{}{mark} {} ({})", "  ".repeat(r.depth), r.name, r.below)
            })
            .collect()
    }

    #[test]
    fn nested_paths_become_a_tree_with_counts_in_natural_order() {
        use ChangeKind::*;
        // As the engine lists them: parents as changed, in no useful order.
        let changes = vec![
            change(Changed, "/etc"),
            change(Added, "/srv/new/file10"),
            change(Added, "/srv"),
            change(Added, "/srv/new"),
            change(Added, "/srv/new/file2"),
            change(Changed, "/bin"),
            change(Deleted, "/bin/vi"),
            change(Added, "/etc/app.conf"),
            // A deleted directory: its contents are not listed, only it.
            change(Deleted, "/opt/old"),
        ];
        let rows = tree_rows(&changes, &|_| false);
        assert_eq!(
            shown(&rows),
            vec![
                "C bin (1)",
                "  D vi (0)",
                "C etc (1)",
                "  A app.conf (0)",
                "  opt (1)",
                "  D old (0)",
                "A srv (3)",
                "  A new (2)",
                "    A file2 (0)",
                "    A file10 (0)",
            ]
        );
        let opt = rows.iter().find(|r| r.path == "/opt").expect("opt");
        assert_eq!((opt.kind, opt.below, opt.depth), (None, 1, 0));
        let old = rows.iter().find(|r| r.path == "/opt/old").expect("old");
        assert_eq!((old.kind, old.depth), (Some(Deleted), 1));
        let srv = rows.iter().find(|r| r.path == "/srv").expect("srv");
        assert!(srv.is_dir());
    }

    #[test]
    fn a_folded_directory_hides_what_is_below_but_keeps_its_count() {
        use ChangeKind::*;
        let changes =
            vec![change(Added, "/srv"), change(Added, "/srv/a"), change(Added, "/srv/a/b")];
        let rows = tree_rows(&changes, &|p| p == "/srv");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].below, 2);
        let all = ContainerChanges {
            id: "x".into(),
            at: Utc::now(),
            result: Ok(changes),
            stats: BTreeMap::new(),
        };
        assert_eq!(all.count_under("/srv/"), 3);
        assert_eq!(all.count_under("/sr"), 0, "a prefix of a name is not a directory");
        assert!(is_below("/srv/a", "/srv") && !is_below("/srv", "/srv"));
    }

    #[test]
    fn hostile_names_are_kept_raw_and_drawn_safe() {
        let bytes = b"/tmp/evil\x1b[2Jname\x07\xff\xfe.txt";
        let path = String::from_utf8_lossy(bytes).into_owned();
        let rows = tree_rows(&[change(ChangeKind::Added, &path)], &|_| false);
        let leaf = rows.last().expect("leaf");
        assert!(leaf.name.contains('\u{1b}'), "the model keeps what the engine said");
        let drawn = one_line(&leaf.name);
        assert!(!drawn.chars().any(char::is_control), "{drawn:?}");
        assert!(drawn.starts_with("evil") && drawn.contains("name") && drawn.ends_with(".txt"));
        assert!(drawn.contains('\u{FFFD}'), "invalid UTF-8 shows as replacement: {drawn:?}");
    }

    #[test]
    fn a_path_stat_joins_the_answer_it_belongs_to_and_a_new_answer_forgets_it() {
        let mut model = crate::model::Model::new("local", Utc::now());
        let stat = |id: &str| {
            crate::model::Update::PathStat(Box::new(PathStat {
                id: id.into(),
                path: "/f".into(),
                result: Ok(PathInfo { size: 3, dir: false, link_target: String::new() }),
            }))
        };
        let answer = || {
            crate::model::Update::Changes(Box::new(ContainerChanges {
                id: "c".into(),
                at: Utc::now(),
                result: Ok(vec![change(ChangeKind::Added, "/f")]),
                stats: BTreeMap::new(),
            }))
        };
        assert!(!model.apply(stat("c")), "no changes asked: nothing to attach it to");
        model.apply(answer());
        assert!(model.apply(stat("c")));
        assert_eq!(model.changes["c"].stats["/f"].as_ref().map(|i| i.size), Ok(3));
        model.apply(answer());
        assert!(model.changes["c"].stats.is_empty());
    }

    #[test]
    fn kinds_follow_the_engine_numbers() {
        assert_eq!(ChangeKind::from_engine(0), Some(ChangeKind::Changed));
        assert_eq!(ChangeKind::from_engine(1), Some(ChangeKind::Added));
        assert_eq!(ChangeKind::from_engine(2), Some(ChangeKind::Deleted));
        assert_eq!(ChangeKind::from_engine(7), None);
    }
}

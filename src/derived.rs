//! What several readers derive from the model, derived once per change of what it
//! depends on: triage's problems and overview, the audit's findings, the route table
//! and the map's graph. The UI keeps one [`Derived`] beside its model and every pane reads
//! from it, so the tab bar's problem count, the triage pane and a redraw share one
//! computation instead of making three.
//!
//! Each entry is keyed on the model's revisions and the project filter, and is
//! computed on first read after a change. Stats and log lines never touch a key but
//! the overview's, which shows usage: a stats tick on a busy host recomputes nothing
//! else here. Pure: no I/O, no terminal.

use std::cell::RefCell;
use std::rc::Rc;

use chrono::{DateTime, Utc};

use crate::audit::Finding;
use crate::model::Model;
use crate::routes::table::RouteTable;
use crate::topology::{Filter, Graph};
use crate::triage::Problem;
use crate::triage::overview::OverviewRow;

/// How long triage's answer may stand without a change in the model: a crash loop
/// ends when its restarts age out of the window, with nothing new to say so.
pub const PROBLEMS_FRESH_SECONDS: i64 = 5;

/// One memoised value and the key it was computed for.
#[derive(Debug)]
struct Memo<K, T> {
    slot: RefCell<Option<(K, Rc<T>)>>,
}

impl<K, T> Default for Memo<K, T> {
    fn default() -> Self {
        Memo { slot: RefCell::new(None) }
    }
}

impl<K: PartialEq, T> Memo<K, T> {
    fn get(&self, key: K, make: impl FnOnce() -> T) -> Rc<T> {
        let mut slot = self.slot.borrow_mut();
        if let Some((held, value)) = slot.as_ref()
            && *held == key
        {
            return Rc::clone(value);
        }
        let value = Rc::new(make());
        *slot = Some((key, Rc::clone(&value)));
        value
    }
}

/// The derived views, each computed when first read after what it depends on moved.
#[derive(Debug, Default)]
pub struct Derived {
    problems: Memo<(u64, Option<String>, i64), Vec<Problem>>,
    overview: Memo<(u64, Option<String>, i64), Vec<OverviewRow>>,
    findings: Memo<(u64, Option<String>), Vec<Finding>>,
    routes: Memo<(u64, Option<String>), RouteTable>,
    graph: Memo<(u64, Option<String>, String), Graph>,
}

impl Derived {
    /// Triage's problems, worst first: they change with containers, engines, events
    /// and the swarm, and with time only through windows of minutes.
    pub fn problems(
        &self,
        model: &Model,
        project: Option<&str>,
        now: DateTime<Utc>,
    ) -> Rc<Vec<Problem>> {
        let moment = now.timestamp().div_euclid(PROBLEMS_FRESH_SECONDS);
        let key = (model.state_revision, project.map(String::from), moment);
        self.problems.get(key, || crate::triage::problems(model, now, project))
    }

    /// One row per shown project, rows with problems first: what triage draws below
    /// the problems. It shows CPU and memory, so it is keyed on `revision`, which
    /// stats move too; but a stats batch asks for a redraw only once per tick, so this
    /// runs about once a second on a busy host and never for a key or a resize. Each
    /// run is one pass over the containers and the broken routes (the problems and the
    /// route table come from their own memos) and a walk back through the incident
    /// log that stops once every row has its newest event.
    pub fn overview(
        &self,
        model: &Model,
        project: Option<&str>,
        now: DateTime<Utc>,
    ) -> Rc<Vec<OverviewRow>> {
        let moment = now.timestamp().div_euclid(PROBLEMS_FRESH_SECONDS);
        let key = (model.revision, project.map(String::from), moment);
        self.overview.get(key, || {
            let problems = self.problems(model, project, now);
            let routes = self.routes(model, project);
            crate::triage::overview::overview(model, project, &problems, &routes)
        })
    }

    /// The audit's findings of the shown containers, grouped by container.
    pub fn findings(&self, model: &Model, project: Option<&str>) -> Rc<Vec<Finding>> {
        let key = (model.structure_revision, project.map(String::from));
        self.findings.get(key, || crate::audit::findings_where(model, |c| c.in_project(project)))
    }

    /// The routes that start or end at a shown container.
    pub fn routes(&self, model: &Model, project: Option<&str>) -> Rc<RouteTable> {
        let key = (model.structure_revision, project.map(String::from));
        self.routes.get(key, || RouteTable::build_for(model, project))
    }

    /// The map's graph of the shown containers whose name, service, image or
    /// network holds `text`.
    pub fn graph(&self, model: &Model, project: Option<&str>, text: &str) -> Rc<Graph> {
        let key = (model.structure_revision, project.map(String::from), text.to_string());
        self.graph.get(key, || {
            let text = (!text.is_empty()).then_some(text);
            crate::topology::derive(model, &Filter { project, text })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContainerState, Update};

    fn model() -> Model {
        crate::topology::fixtures::seed("002-nginx-react-django-postgres-redis").expect("seed")
    }

    #[test]
    fn a_second_read_is_the_same_computation_and_a_change_makes_a_new_one() {
        let mut model = model();
        let derived = Derived::default();
        let now = crate::topology::fixtures::now();
        let first = derived.problems(&model, None, now);
        assert!(Rc::ptr_eq(&first, &derived.problems(&model, None, now)));
        let graph = derived.graph(&model, None, "");
        assert!(Rc::ptr_eq(&graph, &derived.graph(&model, None, "")));
        // Stats move nothing derived.
        let id = model.containers.keys().next().cloned().expect("a container");
        let sample = crate::model::RawSample {
            source: Default::default(),
            taken_at: now,
            cpu: None,
            memory_used: Some(1 << 20),
            memory_limit: None,
            net_rx: None,
            net_tx: None,
            block_read: None,
            block_write: None,
            pids: Some(1),
            oom_kills: None,
        };
        let overview = derived.overview(&model, None, now);
        model.apply(Update::Stats(vec![(id.clone(), sample)]));
        assert!(Rc::ptr_eq(&first, &derived.problems(&model, None, now)));
        // ...but the overview's usage: it is computed again, once.
        let moved = derived.overview(&model, None, now);
        assert!(!Rc::ptr_eq(&overview, &moved));
        assert!(Rc::ptr_eq(&moved, &derived.overview(&model, None, now)));
        assert!(Rc::ptr_eq(&graph, &derived.graph(&model, None, "")));
        // A container that dies does.
        let mut dead = model.containers[&id].clone();
        dead.state = ContainerState::Exited;
        dead.exit_code = Some(1);
        model.apply(Update::ContainerChanged(Box::new(dead)));
        let after = derived.problems(&model, None, now);
        assert!(!Rc::ptr_eq(&first, &after));
        assert!(after.iter().any(|p| p.container_id == id), "the exit is a problem");
        // The overview moves with the problems.
        let overview = derived.overview(&model, None, now);
        assert!(Rc::ptr_eq(&overview, &derived.overview(&model, None, now)));
        let stopped = overview.iter().map(|r| r.total - r.running).sum::<usize>();
        assert!(stopped > 0, "{overview:?}");
        assert!(!Rc::ptr_eq(&graph, &derived.graph(&model, None, "")));
    }

    #[test]
    fn the_filter_and_the_clock_are_part_of_the_key() {
        let model = model();
        let derived = Derived::default();
        let now = crate::topology::fixtures::now();
        let all = derived.findings(&model, None);
        let project = model.projects().first().map(|p| p.to_string()).expect("a project");
        let some = derived.findings(&model, Some(&project));
        assert!(!Rc::ptr_eq(&all, &some));
        assert_eq!(*some, crate::audit::findings_where(&model, |c| c.project() == Some(&project)));
        let routes = derived.routes(&model, None);
        assert_eq!(routes.routes.len(), RouteTable::build_for(&model, None).routes.len());
        let first = derived.problems(&model, None, now);
        let later = now + chrono::Duration::seconds(PROBLEMS_FRESH_SECONDS * 2);
        assert!(!Rc::ptr_eq(&first, &derived.problems(&model, None, later)));
        assert_eq!(
            *derived.problems(&model, None, now),
            crate::triage::problems(&model, now, None)
        );
    }

    #[test]
    fn an_engine_lost_is_a_change_triage_sees() {
        let mut model = crate::topology::fixtures::seed("000-nestjs-postgres-redis").expect("seed");
        let derived = Derived::default();
        let now = crate::topology::fixtures::now();
        let before = derived.problems(&model, None, now);
        model.apply(Update::Disconnected { at: now, reason: "gone".into() });
        let after = derived.problems(&model, None, now);
        assert!(!Rc::ptr_eq(&before, &after));
        assert_eq!(*after, crate::triage::problems(&model, now, None));
    }
}

//! The App's side of HISTORY mode (see [`crate::ui::history`]): entering it,
//! stepping the cursor, applying updates to the parked live model, refusing actions.

use chrono::{DateTime, Duration, Utc};

use super::{App, PaneId};
use crate::derived::Derived;
use crate::model::Model;
use crate::ui::history::{HISTORY_PANES, HistoryMode, HistoryRead};
use crate::ui::keymap::Action;
use crate::ui::pane::{Pane, PaneView};

impl App {
    pub fn in_history(&self) -> bool {
        self.history.is_some()
    }

    /// The live model, whatever the screen shows: what the recorder reads.
    pub fn live_model(&self) -> &Model {
        match self.history.as_ref().and_then(|h| h.live.as_deref()) {
            Some((live, _)) => live,
            None => &self.model,
        }
    }

    /// An update while the past is shown goes to the parked live model.
    pub(crate) fn apply_to_parked(
        &mut self,
        host: crate::model::HostId,
        update: crate::model::Update,
    ) -> Result<(), crate::model::Update> {
        match self.history.as_mut().and_then(|h| h.live.as_mut()) {
            Some(live) => {
                live.0.apply_from(host, update);
                Ok(())
            }
            None => Err(update),
        }
    }

    /// The moment the cursor is at (or is being read), else now.
    fn cursor(&self) -> DateTime<Utc> {
        self.history_asked.or(self.history.as_ref().map(|h| h.at)).unwrap_or(self.now)
    }

    /// Asks the run loop to read the record at `at`.
    fn ask_history(&mut self, at: DateTime<Utc>) {
        if !self.has_record {
            self.say_words("no record: the time cursor reads one, and recording is off".into());
            return;
        }
        self.history_asked = Some(at);
        self.history_asks.push(at);
    }

    fn step(&mut self, by: Duration) -> bool {
        let at = self.cursor() + by;
        if at >= self.now {
            return self.go_live();
        }
        self.ask_history(at);
        true
    }

    /// `:goto TIME`: a moment as typed; a bad one says why.
    pub fn goto(&mut self, text: &str) -> bool {
        match crate::record::when::parse(text, self.now, self.offset) {
            Ok(at) if at >= self.now - Duration::seconds(1) => self.go_live(),
            Ok(at) => {
                self.ask_history(at);
                true
            }
            Err(error) => {
                self.say_words(format!("goto: {error}"));
                true
            }
        }
    }

    /// The record's answer for a moment: shown, unless the operator moved on.
    pub fn history_read(&mut self, read: HistoryRead) -> bool {
        if self.history_asked != Some(read.at) {
            return false;
        }
        self.history_asked = None;
        let (model, caveat) = match read.result {
            Ok(found) => found,
            Err(words) => {
                self.say_words(words);
                return true;
            }
        };
        let live = match self.history.take() {
            // Already in the past: the parked live state stays parked.
            Some(mode) => mode.live,
            None => {
                let model = std::mem::replace(&mut self.model, Model::new("", read.at));
                let derived = std::mem::take(&mut self.derived);
                Some(Box::new((model, derived)))
            }
        };
        self.model = model;
        self.derived = Derived::default();
        self.history = Some(HistoryMode { at: read.at, caveat, live });
        if !HISTORY_PANES.contains(&self.pane) {
            self.pane = PaneId::Triage;
        }
        self.history_changed();
        true
    }

    /// Back to the live state.
    pub fn go_live(&mut self) -> bool {
        self.history_asked = None;
        let Some(mode) = self.history.take() else { return false };
        if let Some(live) = mode.live {
            let (model, derived) = *live;
            self.model = model;
            self.derived = derived;
        }
        self.history_changed();
        self.say_plain("live again".into());
        true
    }

    fn history_changed(&mut self) {
        let view = super::view_of!(self, "");
        self.panes.containers.sync(&view);
        self.problem_count =
            self.derived.problems(&self.model, self.project.as_deref(), self.cursor_now()).len();
    }

    /// The moment relative times are measured against: the cursor's in HISTORY.
    pub fn cursor_now(&self) -> DateTime<Utc> {
        self.history.as_ref().map_or(self.now, |h| h.at)
    }

    fn say_words(&mut self, text: String) {
        self.notice = Some(super::Notice { text, error: true, at: self.now });
    }

    fn say_plain(&mut self, text: String) {
        self.notice = Some(super::Notice { text, error: false, at: self.now });
    }

    /// The time cursor's keys, and the refusals of HISTORY mode: `Some` when the
    /// action was taken here (with whether to redraw).
    pub(crate) fn history_act(&mut self, action: Action) -> Option<bool> {
        match action {
            Action::HistoryBack => return Some(self.step(-Duration::minutes(1))),
            Action::HistoryForward => return Some(self.step(Duration::minutes(1))),
            Action::HistoryBackMore => return Some(self.step(-Duration::minutes(10))),
            Action::HistoryForwardMore => return Some(self.step(Duration::minutes(10))),
            Action::Live => {
                if !self.in_history() && self.history_asked.is_none() {
                    self.say_plain("already live".into());
                    return Some(true);
                }
                self.go_live();
                return Some(true);
            }
            _ => {}
        }
        if !self.in_history() {
            return None;
        }
        let refused = match action {
            Action::Actions
            | Action::ProjectActions
            | Action::Exec
            | Action::OpenShell
            | Action::ShellFocus
            | Action::CheckPorts
            | Action::KillProcess
            | Action::CopyIn
            | Action::CopyOut
            | Action::Prune => "HISTORY is read-only: L returns to live to act".to_string(),
            _ => match action.pane_key().and_then(PaneId::with_key) {
                Some(pane) if !HISTORY_PANES.contains(&pane) => {
                    format!("{} shows only the live state: L returns to live", pane.title())
                }
                _ => return None,
            },
        };
        self.say_words(refused);
        Some(true)
    }
}

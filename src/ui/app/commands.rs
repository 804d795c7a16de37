//! The app's part in custom commands (see [`crate::ui::commands`]): filling one in
//! for the selection, asking first when it says so, and handing it to the run loop.

use super::App;
use crate::model::sanitize::one_line;
use crate::ui::commands::{CommandRun, render, values};
use crate::ui::overlay::Overlay;

impl App {
    /// The container a custom command is filled from: the pane's selection, else
    /// the Containers pane's.
    fn command_container(&self) -> Option<&crate::model::Container> {
        let id = self.selected_container().or_else(|| self.panes.containers.selected_id())?;
        self.model.containers.get(id)
    }

    /// Runs custom command `index` on the selection, asking first when it says so.
    /// Not refused by `--read-only`: the commands are the operator's own.
    pub fn run_command(&mut self, index: usize) -> bool {
        let Some(command) = self.keymap.commands.get(index).cloned() else { return false };
        let name = one_line(&command.name).into_owned();
        let Some(c) = self.command_container() else {
            self.say(format!("{name}: nothing selected: select a container first"), true);
            return true;
        };
        let values = values(&self.model, c);
        let line = match render(&command.command, &values) {
            Ok(line) => line,
            Err(missing) => {
                let missing: Vec<String> = missing.iter().map(|m| format!("{{{m}}}")).collect();
                let container = one_line(&c.name).into_owned();
                self.say(
                    format!("{name}: {container} has no value for {}: not run", missing.join(", ")),
                    true,
                );
                return true;
            }
        };
        let run = CommandRun { name, line, host: c.host };
        if command.confirm {
            self.overlay = Some(Overlay::RunCommand(run));
        } else {
            self.command_request = Some(run);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::topology::fixtures;
    use crate::ui::App;
    use crate::ui::commands::CustomCommand;
    use crate::ui::keymap::Keymap;
    use crate::ui::overlay::Overlay;
    use crate::ui::panes::PaneId;
    use crate::ui::theme::Theme;

    fn app(command: &str, confirm: bool) -> App {
        let model = fixtures::seed("000-nestjs-postgres-redis").expect("seed");
        let keymap = Keymap::default()
            .with_commands(vec![CustomCommand {
                name: "who".into(),
                key: None,
                command: command.into(),
                confirm,
            }])
            .expect("no clash");
        let mut app = App::new(model, Theme::built_in("dark"), keymap, fixtures::now());
        app.pane = PaneId::Containers;
        app.set_project(None);
        app
    }

    #[test]
    fn a_command_is_filled_from_the_selection_and_read_only_allows_it() {
        let mut app = app("echo {container} {project}", false);
        app.read_only = true;
        assert!(app.run_command(0));
        let c = app.model.containers.get(app.selected_container().expect("selection")).expect("c");
        let expected = format!("echo '{}' '{}'", c.name, c.project().expect("a compose project"));
        let run = app.command_request.clone().expect("to run");
        assert_eq!(run.line, expected);
        assert_eq!(run.name, "who");
    }

    #[test]
    fn a_command_asks_first_when_it_says_so_and_a_missing_value_refuses() {
        let mut asks = app("echo {container}", true);
        assert!(asks.run_command(0));
        assert!(matches!(asks.overlay, Some(Overlay::RunCommand(_))));
        assert!(asks.command_request.is_none());

        let mut app = app("echo {container}", false);
        let id = app.selected_container().expect("selection").to_string();
        if let Some(c) = app.model.containers.get_mut(&id) {
            c.compose = None;
        }
        app.keymap.commands[0].command = "echo {service}".into();
        assert!(app.run_command(0));
        assert!(app.command_request.is_none());
        let notice = app.notice.clone().expect("a notice");
        assert!(
            notice.error && notice.text.contains("has no value for {service}"),
            "{}",
            notice.text
        );
    }
}

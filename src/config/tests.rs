use super::*;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, "/home/me/.config/portolan/config.toml")
}

fn error(text: &str) -> String {
    parse(text).expect_err("should fail").to_string()
}

const FILE: &str = "/home/me/.config/portolan/config.toml";

#[test]
fn an_empty_file_is_all_defaults() {
    let config = parse("").expect("parses");
    assert_eq!(config.theme, None);
    assert_eq!(config.refresh, None);
    assert_eq!(config.default_pane, None);
    assert_eq!(config.keymap.describe(), Keymap::default().describe());
}

#[test]
fn every_key_is_read() {
    let config = parse(
        r#"
theme = "light"
refresh = "500ms"
default_pane = "health"
read_only = true
log_budget_mib = 16
exec_shell = "/bin/bash"
mouse = false

[keys]
quit = "ctrl-q"
search = ["ctrl-s", "/"]
"#,
    )
    .expect("parses");
    assert_eq!(config.theme.as_deref(), Some("light"));
    assert_eq!(config.refresh, Some(Duration::from_millis(500)));
    assert_eq!(config.default_pane, Some(PaneId::Health));
    assert_eq!(config.read_only, Some(true));
    assert_eq!(config.log_budget_mib, Some(16));
    assert_eq!(config.exec_shell.as_deref(), Some("/bin/bash"));
    assert_eq!(config.mouse, Some(false));
    let ctrl_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL);
    assert_eq!(config.keymap.action(&ctrl_q), Some(Action::Quit));
    assert_eq!(config.keymap.label(Action::Search), "ctrl-s");
    assert_eq!(parse("refresh = 2").expect("seconds").refresh, Some(Duration::from_secs(2)));
    assert_eq!(parse("refresh = 0.5").expect("float").refresh, Some(Duration::from_millis(500)));
}

#[test]
fn every_error_names_file_line_and_key() {
    let cases: &[(&str, &str)] = &[
        ("theme = \"dark\"\ncolour = \"red\"\n", "2: key `colour`: unknown key"),
        ("\n\nread_only = \"yes\"\n", "3: key `read_only`: expected true or false, found string"),
        ("mouse = 1\n", "1: key `mouse`: expected true or false, found integer"),
        ("log_budget_mib = \"lots\"\n", "1: key `log_budget_mib`: expected a whole number of MiB"),
        ("log_budget_mib = 0\n", "1: key `log_budget_mib`: 0 is out of range (1 to 65536)"),
        ("refresh = \"soon\"\n", "1: key `refresh`: `soon` is not a duration"),
        ("refresh = \"10ms\"\n", "1: key `refresh`: 10ms is out of range"),
        ("refresh = true\n", "1: key `refresh`: expected a duration"),
        (
            "default_pane = \"graphs\"\n",
            "1: key `default_pane`: there is no pane `graphs`; panes: triage",
        ),
        ("exec_shell = \"\"\n", "1: key `exec_shell`: is empty"),
        ("record = \"yes\"\n", "1: key `record`: expected true or false"),
        ("record_budget_mib = 0\n", "1: key `record_budget_mib`: 0 is out of range"),
        (
            "[[alerts]]\nkinds = [\"down\"]\ncommand = [\"true\"]\n",
            "2: key `alerts[1].kinds`: unknown kind `down` (known: host_unreachable",
        ),
        (
            "[[alerts]]\nwebhook = \"https://hooks.example/x\"\n",
            "2: key `alerts[1].webhook`: https is not sent directly",
        ),
        ("[[alerts]]\nname = \"x\"\n", "1: key `alerts[1]`: needs exactly one of webhook"),
        (
            "[[alerts]]\ncommand = [\"true\"]\nmemory_percent = \"lots\"\n",
            "3: key `alerts[1].memory_percent`: expected a percentage",
        ),
        (
            "[[alerts]]\ncommand = [\"true\"]\ncpu_percent_of_limit = 90\nfor = 5\n",
            "4: key `alerts[1].for`: expected a string",
        ),
        (
            "[[alerts]]\nntfy = \"http://n/t\"\nquiet = \"later\"\n",
            "3: key `alerts[1].quiet`: expected a duration",
        ),
        ("theme = 3\n", "1: key `theme`: expected a theme name, found integer"),
        ("keys = 1\n", "1: key `keys`: expected a table"),
        ("[keys]\nquit = \"q\"\nfly = \"f\"\n", "3: key `keys.fly`: unknown action"),
        ("[keys]\n\nquit = \"hyper-q\"\n", "3: key `keys.quit`: `hyper-q` is not a key"),
        (
            "[keys]\nquit = [\n  \"q\",\n  3,\n]\n",
            "4: key `keys.quit`: expected a key like \"ctrl-r\", found integer",
        ),
        (
            "[keys]\nquit = { key = \"q\" }\n",
            "2: key `keys.quit`: expected a key like \"ctrl-r\" or a list",
        ),
        // Two actions given one key: the later line is at fault.
        (
            "[keys]\nquit = \"x\"\nhelp = \"F1\"\nsave = \"x\"\n",
            "4: key `keys.save`: `x` is already bound to `quit`",
        ),
        // Taking the only default key of an action that is not rebound.
        (
            "[keys]\n\nquit = \"s\"\n",
            "3: key `keys.quit`: `s` is `sort_next`'s only key; give `sort_next` another key too",
        ),
    ];
    for (text, want) in cases {
        let got = error(text);
        let want = format!("{FILE}:{want}");
        assert!(got.starts_with(&want), "\n got: {got}\nwant: {want}…");
    }
    // A TOML mistake has no key, but still a line.
    let got = error("theme = \"dark\"\nrefresh = \n");
    assert!(got.starts_with(&format!("{FILE}:2: ")), "{got}");
}

#[test]
fn print_config_round_trips_to_the_defaults() {
    let text = default_config_text();
    // Nothing is set while it is all commented out.
    let commented = parse(&text).expect("commented parses");
    assert_eq!(commented.theme, None);
    let uncommented: String = text
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if is_setting(rest) => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = parse(&uncommented).expect("uncommented parses");
    assert_eq!(config.theme.as_deref(), Some("dark"));
    assert_eq!(config.refresh, Some(DEFAULT_REFRESH));
    assert_eq!(config.default_pane, Some(PaneId::Triage));
    assert_eq!(config.read_only, Some(false));
    assert_eq!(config.log_budget_mib, Some(DEFAULT_LOG_BUDGET_MIB));
    assert_eq!(config.exec_shell.as_deref(), Some(DEFAULT_EXEC_SHELL));
    assert_eq!(config.record, Some(true));
    assert_eq!(config.record_budget_mib, Some(DEFAULT_RECORD_BUDGET_MIB));
    assert_eq!(config.alerts.len(), 2, "the example alerts parse");
    let pattern = config.alerts[1].log_pattern.as_ref().expect("the log rule's pattern");
    assert!(pattern.0.is_match("an Error here") && !pattern.0.is_match("errors"));
    assert_eq!(config.mouse, Some(true));
    assert_eq!(config.hosts.len(), 3, "the [[hosts]] examples parse");
    assert_eq!(config.hosts[0].name.as_deref(), Some("local"));
    assert_eq!(config.hosts[2].context.as_deref(), Some("staging"));
    assert_eq!(config.keymap.commands.len(), 1, "the [[commands]] example parses");
    let defaults = Keymap::default();
    for action in Action::ALL {
        assert_eq!(config.keymap.keys_for(*action), defaults.keys_for(*action), "{action}");
        assert!(text.contains(&format!("# {} = ", action.name())), "{action} listed");
    }
}

/// A commented line that is a setting rather than prose.
fn is_setting(rest: &str) -> bool {
    rest == "[keys]"
        || rest == "[[hosts]]"
        || rest == "[[alerts]]"
        || rest == "[[commands]]"
        || rest.split_once(" = ").is_some_and(|(key, _)| {
            !key.is_empty()
                && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

#[test]
fn locations() {
    assert_eq!(
        default_path(Some("/xdg"), Some("/home/me")),
        Some(PathBuf::from("/xdg/portolan/config.toml"))
    );
    assert_eq!(
        default_path(None, Some("/home/me")),
        Some(PathBuf::from("/home/me/.config/portolan/config.toml"))
    );
    assert_eq!(
        default_path(Some("relative"), Some("/home/me")),
        Some(PathBuf::from("/home/me/.config/portolan/config.toml"))
    );
    assert_eq!(default_path(None, None), None);
    let missing = Path::new("/nonexistent/portolan/config.toml");
    assert!(Config::load(None, Some(missing)).expect("a missing default is fine").file.is_none());
    let err = Config::load(Some(missing), None).expect_err("a missing --config is not");
    assert!(err.to_string().starts_with("/nonexistent/portolan/config.toml: cannot read"), "{err}");
}

#[test]
fn theme_precedence_and_errors() {
    let config = parse("\n\ntheme = \"solarized\"\n").expect("checked when used");
    let err = config.theme(None, false, None).expect_err("unknown");
    assert!(
        err.to_string().starts_with("config:3: key `theme`: unknown theme `solarized`"),
        "{err}"
    );
    assert_eq!(config.theme(Some("light"), false, None).expect("flag wins").name, "light");
    let missing = parse("theme = \"/nonexistent/mine.toml\"").expect("checked when used");
    let err = missing.theme(None, false, None).expect_err("missing file");
    assert!(
        err.to_string().starts_with("config:1: key `theme`: /nonexistent/mine.toml: cannot read"),
        "{err}"
    );
    let none = Config::default();
    assert_eq!(none.theme(None, true, None).expect("mono").name, "mono");
    assert_eq!(none.theme(None, false, None).expect("dark").name, "dark");
    let dark = parse("theme = \"high-contrast\"").expect("parses");
    assert_eq!(dark.theme(None, true, None).expect("config beats NO_COLOR").name, "high-contrast");
}

#[test]
fn durations() {
    assert_eq!(parse_duration("1s"), Some(Duration::from_secs(1)));
    assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
    assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
    assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
    assert_eq!(parse_duration("2"), Some(Duration::from_secs(2)));
    assert_eq!(parse_duration("fast"), None);
    assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
    assert_eq!(parse_duration("1d"), None);
    assert_eq!(format_duration(Duration::from_secs(1)), "1s");
    assert_eq!(format_duration(Duration::from_millis(500)), "500ms");
}

#[test]
fn hosts_are_checked_where_they_are_written() {
    let config = parse(
        "[[hosts]]\nname = \"db\"\nhost = \"tcp://10.0.0.5:2376\"\ntlsverify = true\n[[hosts]]\ncontext = \"prod\"\n",
    )
    .expect("two hosts");
    assert_eq!(config.hosts.len(), 2);
    assert_eq!(config.hosts[0].host.as_deref(), Some("tcp://10.0.0.5:2376"));
    assert!(config.hosts[0].tlsverify);
    assert_eq!(config.hosts[1].name, None);
    let got = error("[[hosts]]\nname = \"x\"\n");
    assert!(got.contains("hosts[1]") && got.contains("needs host"), "{got}");
    let got = error("[[hosts]]\nhost = \"unix:///a\"\ncontext = \"b\"\n");
    assert!(got.contains("not both"), "{got}");
    let got = error("[[hosts]]\nhost = \"unix:///a\"\nport = 3\n");
    assert!(got.starts_with(&format!("{FILE}:3: key `hosts[1].port`")), "{got}");
    let got = error("hosts = \"tcp://x\"\n");
    assert!(got.contains("expected [[hosts]]"), "{got}");
}

#[test]
fn custom_commands_are_bound_and_a_bad_one_names_file_line_and_key() {
    let text = r#"
[[commands]]
name = "tail nginx errors"
key = "ctrl-e"
command = "docker exec {container} tail -n 50 /var/log/nginx/error.log"

[[commands]]
name = "who"
command = "echo {container} {project}"
confirm = true
"#;
    let config = Config::parse(text, "c.toml").expect("parses");
    let commands = &config.keymap.commands;
    assert_eq!(commands.len(), 2);
    assert_eq!(commands[0].key.map(|k| k.config_string()).as_deref(), Some("ctrl-e"));
    assert!(commands[1].confirm && commands[1].key.is_none());
    let ctrl_e = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('e'),
        crossterm::event::KeyModifiers::CONTROL,
    );
    assert_eq!(config.keymap.command(&ctrl_e), Some(0));

    let bad = "\n[[commands]]\nname = \"x\"\ncommand = \"echo {containr}\"\n";
    let error = Config::parse(bad, "c.toml").unwrap_err().to_string();
    assert!(
        error.starts_with("c.toml:4: key `commands[1].command`: unknown placeholder `{containr}`"),
        "{error}"
    );

    let clash = "\n[[commands]]\nname = \"x\"\nkey = \"q\"\ncommand = \"true\"\n";
    let error = Config::parse(clash, "c.toml").unwrap_err().to_string();
    assert_eq!(error, "c.toml:4: key `commands[1].key`: `q` is already bound to `quit`");

    let twice = "[[commands]]\nname = \"a\"\nkey = \"ctrl-e\"\ncommand = \"true\"\n\
                 [[commands]]\nname = \"b\"\nkey = \"ctrl-e\"\ncommand = \"true\"\n";
    let error = Config::parse(twice, "c.toml").unwrap_err().to_string();
    assert!(
        error.starts_with(
            "c.toml:7: key `commands[2].key`: `ctrl-e` is already the key of the command `a`"
        ),
        "{error}"
    );

    // A key [keys] frees can be a command's, wherever [keys] is in the file.
    let moved = "[[commands]]\nname = \"a\"\nkey = \"X\"\ncommand = \"true\"\n[keys]\nkill_process = \"ctrl-k\"\n";
    assert!(Config::parse(moved, "c.toml").is_ok());
}

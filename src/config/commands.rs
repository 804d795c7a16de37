//! `[[commands]]`: the operator's custom commands (see [`crate::ui::commands`]),
//! checked where they are written: an unknown placeholder, a bad key or a key that
//! clashes stops portolan with the file, the line and the key at fault.

use toml::Spanned;
use toml::de::DeValue;

use super::{ConfigError, KeyErrorFn};
use crate::ui::commands::{CustomCommand, placeholders};
use crate::ui::keymap::{Key, Keymap};

const COMMAND_KEYS: &[&str] = &["name", "key", "command", "confirm"];

/// The commands, each with the offset of its table (for a clash found later).
pub(super) fn parse_commands(
    value: &Spanned<DeValue>,
    key_error: &KeyErrorFn,
) -> Result<Vec<(CustomCommand, usize, Option<usize>)>, ConfigError> {
    let DeValue::Array(items) = value.get_ref() else {
        return Err(key_error(
            "commands",
            value.span().start,
            format!(
                "expected [[commands]] tables with name and command, found {}",
                value.get_ref().type_str()
            ),
        ));
    };
    let mut commands = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("commands[{}]", index + 1);
        let DeValue::Table(table) = item.get_ref() else {
            return Err(key_error(
                &path,
                item.span().start,
                format!("expected a table, found {}", item.get_ref().type_str()),
            ));
        };
        let (mut name, mut key, mut line, mut confirm) = (None, None, None, false);
        let mut key_at = None;
        for (field, value) in table.iter() {
            let field_name: &str = field.get_ref();
            let at = field.span().start;
            let full = format!("{path}.{field_name}");
            let text = || -> Result<String, ConfigError> {
                match value.get_ref().as_str() {
                    Some(text) if !text.trim().is_empty() => Ok(text.to_string()),
                    Some(_) => Err(key_error(&full, at, "is empty".to_string())),
                    None => Err(key_error(
                        &full,
                        at,
                        format!("expected a string, found {}", value.get_ref().type_str()),
                    )),
                }
            };
            match field_name {
                "name" => name = Some(text()?),
                "key" => {
                    let parsed =
                        Key::parse(&text()?).map_err(|e| key_error(&full, at, e.to_string()))?;
                    key = Some(parsed);
                    key_at = Some(at);
                }
                "command" => {
                    let written = text()?;
                    placeholders(&written).map_err(|e| key_error(&full, at, e))?;
                    line = Some(written);
                }
                "confirm" => {
                    confirm = value.get_ref().as_bool().ok_or_else(|| {
                        key_error(
                            &full,
                            at,
                            format!("expected true or false, found {}", value.get_ref().type_str()),
                        )
                    })?;
                }
                _ => {
                    return Err(key_error(
                        &full,
                        at,
                        format!("unknown key (known: {})", COMMAND_KEYS.join(", ")),
                    ));
                }
            }
        }
        let at = item.span().start;
        let Some(name) = name else {
            return Err(key_error(&path, at, "needs name = \"…\"".to_string()));
        };
        let Some(command) = line else {
            return Err(key_error(&path, at, "needs command = \"…\"".to_string()));
        };
        commands.push((CustomCommand { name, key, command, confirm }, at, key_at));
    }
    Ok(commands)
}

/// `keymap` with the commands bound, or the clash at the line of the key at fault.
pub(super) fn bind(
    keymap: Keymap,
    commands: Vec<(CustomCommand, usize, Option<usize>)>,
    key_error: &KeyErrorFn,
) -> Result<Keymap, ConfigError> {
    let places: Vec<(usize, Option<usize>)> = commands.iter().map(|(_, t, k)| (*t, *k)).collect();
    let commands = commands.into_iter().map(|(c, _, _)| c).collect();
    keymap.with_commands(commands).map_err(|(index, reason)| {
        let (table, key) = places.get(index).copied().unwrap_or((0, None));
        key_error(&format!("commands[{}].key", index + 1), key.unwrap_or(table), reason)
    })
}

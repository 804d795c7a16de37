//! Human-readable numbers and names: sizes, rates, durations, percentages, short IDs
//! and text cut to a width.

use std::time::Duration;

/// Binary units like `docker stats`: `512B`, `1.5KiB`, `23.4MiB`, `1.95GiB`.
pub fn bytes(value: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if value < 1024 {
        return format!("{value}B");
    }
    let mut scaled = value as f64;
    let mut unit = 0;
    while scaled >= 1024.0 && unit < UNITS.len() - 1 {
        scaled /= 1024.0;
        unit += 1;
    }
    if scaled >= 100.0 {
        format!("{scaled:.0}{}", UNITS[unit])
    } else if scaled >= 10.0 {
        format!("{scaled:.1}{}", UNITS[unit])
    } else {
        format!("{scaled:.2}{}", UNITS[unit])
    }
}

pub fn rate(bytes_per_second: f64) -> String {
    format!("{}/s", bytes(bytes_per_second.max(0.0) as u64))
}

pub fn percent(value: f64) -> String {
    if value >= 100.0 { format!("{value:.0}%") } else { format!("{value:.1}%") }
}

/// `docker ps` style: "5 seconds", "About a minute", "3 hours", "2 days".
pub fn humanize_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    match () {
        _ if seconds < 1 => "Less than a second".to_string(),
        _ if seconds == 1 => "1 second".to_string(),
        _ if seconds < 60 => format!("{seconds} seconds"),
        _ if minutes == 1 => "About a minute".to_string(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".to_string(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if days < 14 => format!("{days} days"),
        _ if days < 60 => format!("{} weeks", days / 7),
        _ if days < 730 => format!("{} months", days / 30),
        _ => format!("{} years", days / 365),
    }
}

/// Compact: `45s`, `12m`, `3h`, `5d`.
pub fn short_duration(duration: Duration) -> String {
    let s = duration.as_secs();
    match () {
        _ if s < 60 => format!("{s}s"),
        _ if s < 3600 => format!("{}m", s / 60),
        _ if s < 86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// A nanosecond duration from the engine (healthcheck config) as `30s`, `1m30s`, `500ms`.
pub fn nanos(ns: i64) -> String {
    if ns <= 0 {
        return "0s".to_string();
    }
    let ms = ns / 1_000_000;
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    let rest_ms = ms % 1000;
    if s < 60 {
        return if rest_ms == 0 { format!("{s}s") } else { format!("{s}.{:01}s", rest_ms / 100) };
    }
    let (m, s) = (s / 60, s % 60);
    if s == 0 { format!("{m}m") } else { format!("{m}m{s}s") }
}

/// An engine's address in a few words, for a narrow header: a named one its name (a
/// context's, or what a found socket is: `desktop`, `podman`), the usual root socket
/// `local`, another socket its file name (`podman.sock`), a TCP or ssh engine its
/// host and port (`db2:2376`, `ops@db2`), without the scheme.
pub fn short_endpoint(endpoint: &str) -> String {
    let endpoint = endpoint.trim();
    if let Some((name, _)) = named_address(endpoint) {
        return name.to_string();
    }
    if let Some(path) = endpoint.strip_prefix("unix://") {
        if matches!(path, "/var/run/docker.sock" | "/run/docker.sock") {
            return "local".to_string();
        }
        let file = path.rsplit('/').next().filter(|f| !f.is_empty()).unwrap_or(path);
        return format!("local {file}");
    }
    if endpoint.starts_with("npipe://") {
        return "local".to_string();
    }
    match endpoint.split_once("://") {
        Some((_, rest)) => rest.trim_end_matches('/').to_string(),
        None => endpoint.to_string(),
    }
}

/// The address an engine is reached at: `prod (tcp://10.0.0.5:2376)`, as a context or
/// a found socket is shown, is reached at `tcp://10.0.0.5:2376`; a plain address is
/// itself.
pub fn address(endpoint: &str) -> &str {
    let endpoint = endpoint.trim();
    named_address(endpoint).map_or(endpoint, |(_, address)| address)
}

/// `NAME (ADDRESS)`, split; `None` for a plain address.
fn named_address(endpoint: &str) -> Option<(&str, &str)> {
    let inner = endpoint.strip_suffix(')')?;
    let (name, address) = inner.split_once(" (")?;
    // An address has a scheme; a name never has one, as it comes first.
    (!name.contains("://") && address.contains("://")).then_some((name, address))
}

/// `text` broken between words into lines of at most `width` characters (a word
/// longer than a line is cut).
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let needed =
            current.chars().count() + usize::from(!current.is_empty()) + word.chars().count();
        if !current.is_empty() && needed > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
        while current.chars().count() > width {
            let rest: String = current.chars().skip(width).collect();
            lines.push(current.chars().take(width).collect());
            current = rest;
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// `text` cut to `width` characters, ending in `…` where it was cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

/// An engine object's ID as the docker CLI shows it: its first 12 characters.
pub fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_wrap_between_words_and_long_words_are_cut() {
        assert_eq!(
            wrap_words("probe exit 1 · 4 failures in a row", 14),
            ["probe exit 1 ·", "4 failures in", "a row"]
        );
        assert_eq!(wrap_words("abcdefghij k", 4), ["abcd", "efgh", "ij k"]);
    }

    #[test]
    fn endpoints_shorten_by_meaning() {
        assert_eq!(short_endpoint("unix:///var/run/docker.sock"), "local");
        assert_eq!(short_endpoint("unix:///run/user/1000/podman/podman.sock"), "local podman.sock");
        assert_eq!(short_endpoint("tcp://db2.internal:2376"), "db2.internal:2376");
        assert_eq!(short_endpoint("ssh://ops@db2"), "ops@db2");
        assert_eq!(short_endpoint("npipe:////./pipe/docker_engine"), "local");
        assert_eq!(short_endpoint("prod (tcp://10.0.0.5:2376)"), "prod");
        assert_eq!(
            short_endpoint("desktop (unix:///home/me/.docker/desktop/docker.sock)"),
            "desktop"
        );
        assert_eq!(
            address("desktop (unix:///h/.docker/desktop/docker.sock)"),
            "unix:///h/.docker/desktop/docker.sock"
        );
        assert_eq!(address("unix:///var/run/docker.sock"), "unix:///var/run/docker.sock");
        assert_eq!(address("unix:///tmp/a (b).sock"), "unix:///tmp/a (b).sock");
    }

    #[test]
    fn sizes_read_like_docker_stats() {
        assert_eq!(bytes(0), "0B");
        assert_eq!(bytes(1023), "1023B");
        assert_eq!(bytes(1536), "1.50KiB");
        assert_eq!(bytes(16 * 1024 * 1024), "16.0MiB");
        assert_eq!(bytes(150 * 1024 * 1024), "150MiB");
    }

    #[test]
    fn durations() {
        assert_eq!(humanize_duration(Duration::from_secs(5)), "5 seconds");
        assert_eq!(humanize_duration(Duration::from_secs(90)), "About a minute");
        assert_eq!(humanize_duration(Duration::from_secs(7200)), "2 hours");
        assert_eq!(short_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(nanos(30_000_000_000), "30s");
        assert_eq!(nanos(90_000_000_000), "1m30s");
        assert_eq!(nanos(500_000_000), "500ms");
    }

    #[test]
    fn fit_marks_a_cut_and_short_ids_are_twelve_characters() {
        assert_eq!(fit("unix:///var/run/docker.sock", 10), "unix:///v…");
        assert_eq!(fit("café", 4), "café");
        assert_eq!(fit("日本語テキスト", 3), "日本…");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(short_id("0123456789abcdef0123"), "0123456789ab");
        assert_eq!(short_id("abc"), "abc");
    }
}

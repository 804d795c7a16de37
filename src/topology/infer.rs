//! Reading connections out of environment values: `DATABASE_URL=postgresql://u:p@db:5432/x`
//! names the host `db` on port 5432. This module only parses; it never decides which
//! container a host name means (that is [`super::derive`]'s job) and never returns the
//! user or password it skips over, so no label built from it can carry a secret.

/// One place an environment value points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvTarget {
    /// Lower-cased host name as written (`postgres`, `redis`, `elasticsearch`).
    pub host: String,
    /// The explicit port, else the scheme's well-known one.
    pub port: Option<u16>,
    /// Lower-cased URL scheme; None for a bare `host:port`.
    pub scheme: Option<String>,
}

impl EnvTarget {
    /// The edge label: `postgresql :5432`, `redis :6379`, `tcp :5000`. Built only from
    /// the scheme and the port, so credentials in the value can never reach it.
    pub fn label(&self) -> String {
        let scheme = self.scheme.as_deref().unwrap_or("tcp");
        // A scheme is a protocol name; anything longer than this is not worth the room.
        let scheme: String = scheme.chars().take(12).collect();
        match self.port {
            Some(port) => format!("{scheme} :{port}"),
            None => scheme,
        }
    }
}

/// The port a client uses when a URL of this scheme names none.
pub fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        "postgres" | "postgresql" => 5432,
        "mysql" | "mariadb" => 3306,
        "redis" => 6379,
        "rediss" => 6380,
        "mongodb" => 27017,
        "amqp" => 5672,
        "amqps" => 5671,
        "nats" => 4222,
        "kafka" => 9092,
        "memcached" => 11211,
        "ldap" => 389,
        "smtp" => 25,
        _ => return None,
    })
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// `host[:port]` of an authority with the userinfo already removed.
fn host_port(authority: &str) -> Option<(String, Option<u16>)> {
    if authority.starts_with('[') {
        // An IPv6 literal never names a container.
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port.parse::<u16>().ok()?)),
        None => (authority, None),
    };
    if host.is_empty() || !host.chars().all(is_host_char) {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

/// Every host an environment value names: URLs (`scheme://[user[:pass]@]host[:port]/…`)
/// and bare `host:port` pairs, in lists separated by commas, spaces or semicolons, with
/// JSON-ish brackets and quotes ignored (`["http://es:9200"]`).
pub fn parse_env_targets(value: &str) -> Vec<EnvTarget> {
    let mut out = Vec::new();
    let tokens = value
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '\'' | '[' | ']'))
        .filter(|t| !t.is_empty());
    for token in tokens {
        let target = if let Some((scheme, rest)) = token.split_once("://") {
            let scheme = scheme.to_ascii_lowercase();
            if !is_scheme(&scheme) {
                continue;
            }
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let authority = &rest[..authority_end];
            // Everything up to the last `@` is user and password: skipped, never kept.
            let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            let Some((host, port)) = host_port(authority) else { continue };
            let port = port.or_else(|| default_port(&scheme));
            EnvTarget { host, port, scheme: Some(scheme) }
        } else {
            // A bare `host:port` needs its port: a lone word is not a connection.
            let bare = token.rsplit_once('@').map_or(token, |(_, host)| host);
            match host_port(bare) {
                Some((host, Some(port))) if host.chars().any(|c| c.is_ascii_alphabetic()) => {
                    EnvTarget { host, port: Some(port), scheme: None }
                }
                _ => continue,
            }
        };
        if !out.contains(&target) {
            out.push(target);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &str) -> EnvTarget {
        let targets = parse_env_targets(value);
        assert_eq!(targets.len(), 1, "{value}: {targets:?}");
        targets.into_iter().next().expect("one target")
    }

    #[test]
    fn urls_give_scheme_host_and_port_without_credentials() {
        let t = one("postgresql://app:s3cr3t@postgres:5432/nestjs_db?schema=public");
        assert_eq!(t.host, "postgres");
        assert_eq!(t.port, Some(5432));
        assert_eq!(t.label(), "postgresql :5432");
        assert!(!t.label().contains("s3cr3t") && !t.label().contains("app"));
        assert_eq!(one("redis://redis:6379").label(), "redis :6379");
        assert_eq!(one("redis://:hunter2@redis").label(), "redis :6379");
        assert_eq!(one("http://elasticsearch:9200").label(), "http :9200");
        assert_eq!(one("mysql://nestjs_user:pw@mysql:3306/nestjs_db").host, "mysql");
        assert_eq!(one("http://Server:3001/api").host, "server");
    }

    #[test]
    fn bare_host_port_is_tcp() {
        let t = one("logstash:5000");
        assert_eq!(
            (t.host.as_str(), t.port, t.label()),
            ("logstash", Some(5000), "tcp :5000".into())
        );
    }

    #[test]
    fn lists_and_brackets() {
        let targets = parse_env_targets(r#"["http://es1:9200", "http://es2:9200"]"#);
        assert_eq!(targets.len(), 2);
        assert_eq!(parse_env_targets("kafka-1:9092,kafka-2:9092").len(), 2);
    }

    #[test]
    fn words_times_and_junk_are_not_connections() {
        for value in [
            "production",
            "postgres",
            "12:30",
            "true",
            "",
            "http://[::1]:80",
            "a:b:c",
            "user:password",
            "/var/lib/data",
            "::",
        ] {
            assert!(parse_env_targets(value).is_empty(), "{value}");
        }
    }

    #[test]
    fn a_password_that_looks_like_a_host_is_not_read_as_one() {
        // `user:pass@host:port` without a scheme: only what follows the `@` counts.
        let t = one("admin:db:9999@cache:6379");
        assert_eq!(t.host, "cache");
        assert_eq!(t.label(), "tcp :6379");
    }
}

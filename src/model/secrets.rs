//! Which environment values look secret, and how they read masked.
//!
//! It lives with the model because it describes containers: the audit, the panes
//! and the snapshot all judge a value the same way. Pure string work, no I/O.

/// Whether an environment variable's name suggests its value is a secret.
pub fn is_secret_key(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "KEY",
        "CREDENTIAL",
        "AUTH",
        "PRIVATE",
        "SALT",
        "CERT",
    ]
    .iter()
    .any(|word| upper.contains(word))
}

/// `postgres://user:pass@host` → `postgres://user:***@host`; returns None when the
/// value holds no URL credentials.
pub fn mask_url_password(value: &str) -> Option<String> {
    let scheme_end = value.find("://")? + 3;
    let rest = &value[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let at = authority.rfind('@')?;
    let userinfo = &authority[..at];
    let (user, _password) = userinfo.split_once(':')?;
    Some(format!("{}{}:***{}", &value[..scheme_end], user, &value[scheme_end + at..]))
}

/// A value as shown while secrets are hidden: secret-looking keys entirely, other
/// values only where they hold URL credentials.
pub fn mask_env_value(key: &str, value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    if is_secret_key(key) {
        return "***".to_string();
    }
    mask_url_password(value).unwrap_or_else(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keys_and_url_passwords() {
        assert_eq!(mask_env_value("POSTGRES_PASSWORD", "hunter2"), "***");
        assert_eq!(mask_env_value("JWT_SECRET", "x"), "***");
        assert_eq!(
            mask_env_value("DATABASE_URL", "postgresql://app:s3cr3t@postgres:5432/db?x=1"),
            "postgresql://app:***@postgres:5432/db?x=1"
        );
        assert_eq!(mask_env_value("REDIS_URL", "redis://redis:6379"), "redis://redis:6379");
        assert_eq!(mask_env_value("NODE_ENV", "production"), "production");
        assert_eq!(mask_env_value("API_KEY", ""), "");
    }
}

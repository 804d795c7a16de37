//! Reads a reverse proxy's configuration files out of its container through the
//! engine's archive endpoint (what `docker cp` uses): it works on stopped containers,
//! needs nothing inside the image, and sees bind-mounted files where the proxy sees
//! them.

use std::collections::BTreeMap;

use bollard::Docker;
use bollard::query_parameters::DownloadFromContainerOptionsBuilder;
use futures_util::StreamExt;

use crate::model::{Container, ProxyConfig};
use crate::routes::detect::{self, ProxyKind};
use crate::routes::nginx;

/// A proxy's configuration is small; anything bigger is not read (an archive of a
/// directory someone filled with logs, say).
const MAX_ARCHIVE_BYTES: usize = 8 << 20;
/// One file larger than this is not configuration.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// Extra directories that includes may point to, outside the first ones read.
const MAX_EXTRA_DIRECTORIES: usize = 8;

/// Reads the configuration of `container` when it is a proxy; `None` otherwise.
pub async fn read(docker: &Docker, container: &Container) -> Option<ProxyConfig> {
    let kind = detect::proxy_kind(container)?;
    let mut config = ProxyConfig::default();
    let mut read_paths: Vec<String> = Vec::new();
    for path in detect::config_paths(container, kind) {
        fetch_into(docker, &container.id, &path, &mut config).await;
        read_paths.push(path);
    }
    if kind == ProxyKind::Nginx {
        // Includes may reach outside the directories read so far: one more round for
        // the directories they name.
        let main = detect::nginx_main_file(container);
        let extra = missing_include_dirs(&config, &main, &read_paths);
        for dir in extra.into_iter().take(MAX_EXTRA_DIRECTORIES) {
            fetch_into(docker, &container.id, &dir, &mut config).await;
        }
    }
    Some(config)
}

async fn fetch_into(docker: &Docker, id: &str, path: &str, config: &mut ProxyConfig) {
    let options = DownloadFromContainerOptionsBuilder::default().path(path).build();
    let mut stream = docker.download_from_container(id, Some(options));
    let mut archive: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                if archive.len() + bytes.len() > MAX_ARCHIVE_BYTES {
                    config.problems.push(format!(
                        "{path}: larger than {} MiB, not read",
                        MAX_ARCHIVE_BYTES >> 20
                    ));
                    return;
                }
                archive.extend_from_slice(&bytes);
            }
            Err(error) => {
                // Traefik's default directory is usually absent: that is an answer,
                // not a problem.
                if !(is_not_found(&error) && path == "/etc/traefik") {
                    config.problems.push(format!("{path}: {}", describe_archive_error(&error)));
                }
                return;
            }
        }
    }
    unpack(&archive, detect::parent(path), config);
}

fn is_not_found(error: &bollard::errors::Error) -> bool {
    matches!(error, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
}

fn describe_archive_error(error: &bollard::errors::Error) -> String {
    if is_not_found(error) {
        "not found in the container".to_string()
    } else {
        super::error::describe(error)
    }
}

/// Adds the text files of a tar archive whose entries are relative to `base`
/// (the archive of `/etc/nginx` holds `nginx/nginx.conf`). Symbolic links inside the
/// archive (`sites-enabled/x -> ../sites-available/x`) read as their targets.
pub fn unpack(archive: &[u8], base: &str, config: &mut ProxyConfig) {
    let mut links: Vec<(String, String)> = Vec::new();
    let mut tar = tar::Archive::new(archive);
    let entries = match tar.entries() {
        Ok(entries) => entries,
        Err(error) => {
            config.problems.push(format!("{base}: unreadable archive ({error})"));
            return;
        }
    };
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                config.problems.push(format!("{base}: unreadable archive entry ({error})"));
                break;
            }
        };
        let Ok(relative) = entry.path().map(|p| p.to_string_lossy().into_owned()) else {
            continue;
        };
        let full = join(base, &relative);
        let kind = entry.header().entry_type();
        if kind.is_symlink() {
            if let Ok(Some(target)) = entry.link_name() {
                let target = target.to_string_lossy().into_owned();
                let target = if target.starts_with('/') {
                    target
                } else {
                    join(detect::parent(&full), &target)
                };
                links.push((full, normalize(&target)));
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        if entry.size() > MAX_FILE_BYTES {
            config.problems.push(format!("{full}: larger than 1 MiB, not read"));
            continue;
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        if let Err(error) = std::io::Read::read_to_end(&mut entry, &mut bytes) {
            config.problems.push(format!("{full}: {error}"));
            continue;
        }
        config.files.insert(full, String::from_utf8_lossy(&bytes).into_owned());
    }
    for (link, target) in links {
        if let Some(text) = config.files.get(&target).cloned() {
            config.files.insert(link, text);
        }
    }
}

fn join(base: &str, relative: &str) -> String {
    let relative = relative.trim_start_matches("./");
    if base == "/" { format!("/{relative}") } else { format!("{base}/{relative}") }
}

/// Resolves `.` and `..` in an absolute path.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Directories named by includes that nothing read so far covers.
fn missing_include_dirs(config: &ProxyConfig, main: &str, read: &[String]) -> Vec<String> {
    let Some(text) = config.files.get(main) else { return Vec::new() };
    let prefix = detect::parent(main).to_string();
    let files: &BTreeMap<String, String> = &config.files;
    // Every pattern nginx would open, at any depth; a glob that matches nothing is
    // valid nginx, so the tree alone does not tell which ones missed.
    let mut patterns: Vec<String> = Vec::new();
    nginx::parse_with_include_files(main, text, |pattern| {
        patterns.push(pattern.to_string());
        nginx::resolve_include(files, &prefix, pattern)
    });
    let mut dirs: Vec<String> = Vec::new();
    for pattern in &patterns {
        let full =
            if pattern.starts_with('/') { pattern.clone() } else { format!("{prefix}/{pattern}") };
        let literal = full.split(['*', '?']).next().unwrap_or(&full);
        let dir = match literal.strip_suffix('/') {
            Some(dir) => dir.to_string(),
            None => detect::parent(literal).to_string(),
        };
        let covered = read.iter().any(|r| dir == *r || dir.starts_with(&format!("{r}/")));
        if !covered && dir != "/" && !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(&str, Option<&str>, Option<&str>)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, text, link) in entries {
            let mut header = tar::Header::new_gnu();
            match (text, link) {
                (Some(text), _) => {
                    header.set_size(text.len() as u64);
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(0o644);
                    builder.append_data(&mut header, path, text.as_bytes()).unwrap();
                }
                (None, Some(link)) => {
                    header.set_size(0);
                    header.set_entry_type(tar::EntryType::Symlink);
                    builder.append_link(&mut header, path, link).unwrap();
                }
                (None, None) => {
                    header.set_size(0);
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_mode(0o755);
                    builder.append_data(&mut header, path, std::io::empty()).unwrap();
                }
            }
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn an_archive_of_a_directory_becomes_files_by_absolute_path() {
        let bytes = archive(&[
            ("nginx/", None, None),
            ("nginx/nginx.conf", Some("include sites-enabled/*;"), None),
            ("nginx/sites-available/app", Some("server { listen 80; }"), None),
            ("nginx/sites-enabled/app", None, Some("../sites-available/app")),
        ]);
        let mut config = ProxyConfig::default();
        unpack(&bytes, "/etc", &mut config);
        assert_eq!(config.files["/etc/nginx/nginx.conf"], "include sites-enabled/*;");
        assert_eq!(config.files["/etc/nginx/sites-enabled/app"], "server { listen 80; }");
        assert!(config.problems.is_empty());
    }

    #[test]
    fn garbage_is_a_problem_not_a_panic() {
        let mut config = ProxyConfig::default();
        unpack(&[0x42; 1500], "/etc", &mut config);
        assert!(config.files.is_empty());
        let mut config = ProxyConfig::default();
        unpack(&[], "/etc", &mut config);
        assert!(config.files.is_empty());
    }

    #[test]
    fn includes_outside_what_was_read_name_their_directories() {
        let mut config = ProxyConfig::default();
        config.files.insert(
            "/etc/nginx/nginx.conf".into(),
            "http { include /usr/share/nginx/modules/*.conf; include conf.d/*.conf; \
             include /srv/sites/app.conf; }"
                .into(),
        );
        let dirs = missing_include_dirs(&config, "/etc/nginx/nginx.conf", &["/etc/nginx".into()]);
        assert_eq!(dirs, vec!["/usr/share/nginx/modules", "/srv/sites"]);
    }
}

//! Which containers are reverse proxies, and where their configuration lives.
//!
//! Told from what a container is built from and how it is started, never from its
//! name: an image called `traefik` or `nginx`, a command that runs one, Traefik's own
//! flags, or an nginx configuration mounted at a standard path.

use crate::model::Container;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProxyKind {
    Traefik,
    Nginx,
}

impl ProxyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyKind::Traefik => "traefik",
            ProxyKind::Nginx => "nginx",
        }
    }
}

/// Where nginx looks for its main file, in the official images and in OpenResty's.
pub const NGINX_MAIN_FILES: &[&str] =
    &["/etc/nginx/nginx.conf", "/usr/local/openresty/nginx/conf/nginx.conf"];

/// The image's repository name without registry, path or tag: `traefik` for
/// `docker.io/library/traefik:v3.0@sha256:...`.
fn image_name(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split(':').next().unwrap_or(last)
}

/// The program a container runs: the first word of its entrypoint, else of its command.
fn program(c: &Container) -> Option<&str> {
    let first = c.entrypoint.first().or_else(|| c.cmd.first())?;
    Some(first.rsplit('/').next().unwrap_or(first))
}

fn runs(c: &Container, name: &str) -> bool {
    program(c) == Some(name) || c.cmd.first().is_some_and(|a| a.rsplit('/').next() == Some(name))
}

/// Traefik's flags, which no other program takes.
fn has_traefik_flags(c: &Container) -> bool {
    c.cmd.iter().chain(&c.entrypoint).any(|arg| {
        let arg = arg.to_ascii_lowercase();
        arg.starts_with("--providers.docker") || arg.starts_with("--entrypoints.")
    })
}

fn mounts_nginx_config(c: &Container) -> bool {
    c.mounts.iter().any(|m| {
        m.destination.starts_with("/etc/nginx/")
            || m.destination == "/etc/nginx"
            || m.destination.starts_with("/usr/local/openresty/nginx/conf")
    })
}

/// Whether the container is a Traefik or nginx proxy.
pub fn proxy_kind(c: &Container) -> Option<ProxyKind> {
    let image = image_name(&c.image).to_ascii_lowercase();
    if image.contains("traefik") || runs(c, "traefik") || has_traefik_flags(c) {
        return Some(ProxyKind::Traefik);
    }
    if image.contains("nginx")
        || image.contains("openresty")
        || runs(c, "nginx")
        || runs(c, "openresty")
        || mounts_nginx_config(c)
    {
        return Some(ProxyKind::Nginx);
    }
    None
}

/// The nginx main file: `-c FILE` on the command line, else the standard place for
/// the image (OpenResty's when the image is one).
pub fn nginx_main_file(c: &Container) -> String {
    let args: Vec<&String> = c.entrypoint.iter().chain(&c.cmd).collect();
    for pair in args.windows(2) {
        if pair[0] == "-c" && pair[1].starts_with('/') {
            return pair[1].clone();
        }
    }
    let openresty = image_name(&c.image).to_ascii_lowercase().contains("openresty")
        || c.mounts.iter().any(|m| m.destination.starts_with("/usr/local/openresty"));
    let main = if openresty { NGINX_MAIN_FILES[1] } else { NGINX_MAIN_FILES[0] };
    main.to_string()
}

/// The directories (or files) to read from a proxy's container so its configuration
/// is known: nginx's configuration directory and any config mounted elsewhere;
/// Traefik's default directory and a `--configFile` it names.
pub fn config_paths(c: &Container, kind: ProxyKind) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    let mut add = |path: String| {
        if !paths.iter().any(|p| path == *p || path.starts_with(&format!("{p}/"))) {
            paths.retain(|p| !p.starts_with(&format!("{path}/")));
            paths.push(path);
        }
    };
    match kind {
        ProxyKind::Nginx => {
            let main = nginx_main_file(c);
            add(parent(&main).to_string());
            for m in &c.mounts {
                if m.destination.ends_with(".conf") || m.destination.contains("/nginx") {
                    add(m.destination.clone());
                }
            }
        }
        ProxyKind::Traefik => {
            add("/etc/traefik".to_string());
            let args: Vec<&String> = c.entrypoint.iter().chain(&c.cmd).collect();
            for (i, arg) in args.iter().enumerate() {
                let lower = arg.to_ascii_lowercase();
                let value = if let Some((_, v)) = lower.split_once('=') {
                    lower
                        .starts_with("--configfile")
                        .then(|| arg[arg.len() - v.len()..].to_string())
                } else if lower == "--configfile" {
                    args.get(i + 1).map(|v| v.to_string())
                } else {
                    None
                };
                if let Some(path) = value.filter(|p| p.starts_with('/')) {
                    add(path);
                }
            }
        }
    }
    paths
}

/// `/etc/nginx` for `/etc/nginx/nginx.conf`; `/` for `/x`.
pub fn parent(path: &str) -> &str {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((dir, _)) => dir,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Mount;

    fn container(image: &str, entrypoint: &[&str], cmd: &[&str]) -> Container {
        let mut c = Container::new("id", "c");
        c.image = image.to_string();
        c.entrypoint = entrypoint.iter().map(|s| s.to_string()).collect();
        c.cmd = cmd.iter().map(|s| s.to_string()).collect();
        c
    }

    #[test]
    fn proxies_are_told_by_image_program_flags_or_mounts() {
        assert_eq!(proxy_kind(&container("traefik:v3.0", &[], &[])), Some(ProxyKind::Traefik));
        assert_eq!(
            proxy_kind(&container("registry.local:5000/ops/traefik@sha256:ab", &[], &[])),
            Some(ProxyKind::Traefik)
        );
        let wrapped =
            container("busybox", &["/bin/sh", "-c", "x"], &["--entrypoints.web.address=:80"]);
        assert_eq!(proxy_kind(&wrapped), Some(ProxyKind::Traefik));
        assert_eq!(proxy_kind(&container("nginx:1.27-alpine", &[], &[])), Some(ProxyKind::Nginx));
        assert_eq!(
            proxy_kind(&container("custom", &[], &["/usr/sbin/nginx", "-g", "daemon off;"])),
            Some(ProxyKind::Nginx)
        );
        let mut mounted = container("custom", &[], &["./serve"]);
        mounted.mounts.push(Mount {
            kind: "bind".into(),
            name: None,
            source: Some("/srv/nginx.conf".into()),
            destination: "/etc/nginx/nginx.conf".into(),
            read_only: true,
        });
        assert_eq!(proxy_kind(&mounted), Some(ProxyKind::Nginx));
        assert_eq!(proxy_kind(&container("postgres:16", &[], &["postgres"])), None);
        // A name is not a reason: only what runs is.
        let mut named = container("busybox", &[], &["sleep", "1"]);
        named.name = "nginx".into();
        assert_eq!(proxy_kind(&named), None);
    }

    #[test]
    fn where_the_configuration_is_read_from() {
        let c = container("nginx", &[], &["nginx", "-c", "/srv/conf/main.conf"]);
        assert_eq!(nginx_main_file(&c), "/srv/conf/main.conf");
        assert_eq!(config_paths(&c, ProxyKind::Nginx), vec!["/srv/conf"]);
        let c = container("openresty/openresty:alpine", &[], &[]);
        assert_eq!(config_paths(&c, ProxyKind::Nginx), vec!["/usr/local/openresty/nginx/conf"]);
        let c = container("traefik", &[], &["--configFile=/config/traefik.yml"]);
        assert_eq!(
            config_paths(&c, ProxyKind::Traefik),
            vec!["/etc/traefik", "/config/traefik.yml"]
        );
        let c = container("traefik", &[], &["--configfile", "/etc/traefik/t.toml"]);
        assert_eq!(config_paths(&c, ProxyKind::Traefik), vec!["/etc/traefik"]);
        assert_eq!(parent("/etc/nginx/nginx.conf"), "/etc/nginx");
        assert_eq!(parent("/x"), "/");
    }
}

//! Which engine the operator means, by the docker CLI's rules: `-H`, `DOCKER_HOST`,
//! the TLS flags and `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`.
//!
//! Reads certificate paths' existence and nothing else; connecting is `connect`'s job.

use std::path::{Path, PathBuf};

use super::endpoint::{ConnectError, Endpoint, TlsFiles};

/// What the operator said, in flags and in the environment, before any file is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choice {
    /// `-H`/`--host`.
    pub host: Option<String>,
    /// `DOCKER_HOST`.
    pub docker_host: Option<String>,
    /// `--tlsverify`, or a non-empty `DOCKER_TLS_VERIFY`.
    pub tls_verify: bool,
    /// A non-empty `DOCKER_TLS`: TLS without checking the engine's certificate.
    pub tls_unverified: bool,
    /// `--tlscacert`, `--tlscert`, `--tlskey`.
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// `DOCKER_CERT_PATH`.
    pub cert_path: Option<PathBuf>,
    /// `DOCKER_CONFIG`, else `~/.docker`: the default certificate directory.
    pub config_dir: Option<PathBuf>,
}

/// The docker CLI's default address when TLS is on and no host is given.
const DEFAULT_TLS_HOST: &str = "tcp://localhost:2376";

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

impl Choice {
    /// Fills in what the environment says; `self` holds the flags.
    pub fn with_env(mut self, var: impl Fn(&str) -> Option<String>) -> Choice {
        self.docker_host = non_empty(var("DOCKER_HOST"));
        self.tls_verify |= non_empty(var("DOCKER_TLS_VERIFY")).is_some();
        self.tls_unverified = non_empty(var("DOCKER_TLS")).is_some();
        self.cert_path = non_empty(var("DOCKER_CERT_PATH")).map(PathBuf::from);
        self.config_dir = non_empty(var("DOCKER_CONFIG"))
            .map(PathBuf::from)
            .or_else(|| non_empty(var("HOME")).map(|home| Path::new(&home).join(".docker")));
        self
    }

    /// What the operator typed, for an error message about it.
    pub fn given(&self) -> String {
        self.host.clone().or_else(|| self.docker_host.clone()).unwrap_or_default()
    }

    /// The engine meant, as the docker CLI would pick it.
    pub fn resolve(&self) -> Result<Endpoint, ConnectError> {
        let tls = self.tls_verify || self.tls_unverified;
        let endpoint = match (&self.host, &self.docker_host) {
            (None, None) if self.tls_verify => Endpoint::parse(DEFAULT_TLS_HOST)?,
            (host, docker_host) => Endpoint::resolve(host.as_deref(), docker_host.as_deref())?,
        };
        match endpoint {
            // As with the docker CLI, TLS settings concern tcp addresses only.
            Endpoint::Tcp { host, port, .. } if tls => {
                if !self.tls_verify {
                    return Err(ConnectError::Unsupported {
                        detail: "TLS without verifying the engine's certificate (DOCKER_TLS without DOCKER_TLS_VERIFY) is not supported".into(),
                    });
                }
                Ok(Endpoint::Tcp { host, port, tls: Some(self.tls_files()?) })
            }
            other => Ok(other),
        }
    }

    /// The docker CLI's defaults: `ca.pem`, `cert.pem`, `key.pem` in `DOCKER_CERT_PATH`,
    /// else in the config directory; a default client certificate that is not there is
    /// simply not sent, one named by a flag must exist.
    fn tls_files(&self) -> Result<TlsFiles, ConnectError> {
        let dir = self.cert_path.clone().or_else(|| self.config_dir.clone()).unwrap_or_default();
        let ca = self.ca.clone().unwrap_or_else(|| dir.join("ca.pem"));
        let pick = |flag: &Option<PathBuf>, name: &str| match flag {
            Some(path) => Some(path.clone()),
            None => Some(dir.join(name)).filter(|p| p.exists()),
        };
        let client = match (pick(&self.cert, "cert.pem"), pick(&self.key, "key.pem")) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            (Some(cert), None) => {
                return Err(ConnectError::TlsFile {
                    path: cert.display().to_string(),
                    detail: "a client certificate needs its key (--tlskey or key.pem)".into(),
                });
            }
            (None, Some(key)) => {
                return Err(ConnectError::TlsFile {
                    path: key.display().to_string(),
                    detail: "a client key needs its certificate (--tlscert or cert.pem)".into(),
                });
            }
        };
        Ok(TlsFiles { ca, client })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn tls_follows_the_docker_cli() {
        let dir = std::env::temp_dir().join(format!("portolan-resolve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let certs = dir.to_string_lossy().to_string();
        // DOCKER_TLS_VERIFY alone: the default TLS address, ca.pem from DOCKER_CERT_PATH,
        // no client certificate when there is none.
        let choice = Choice::default()
            .with_env(env(&[("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", &certs)]));
        assert_eq!(
            choice.resolve().expect("resolves"),
            Endpoint::Tcp {
                host: "localhost".into(),
                port: 2376,
                tls: Some(TlsFiles { ca: dir.join("ca.pem"), client: None })
            }
        );
        // With a client certificate there, both are used.
        std::fs::write(dir.join("cert.pem"), "x").expect("write");
        std::fs::write(dir.join("key.pem"), "x").expect("write");
        let Endpoint::Tcp { tls: Some(files), .. } = choice.resolve().expect("resolves") else {
            panic!("tls expected");
        };
        assert_eq!(files.client, Some((dir.join("cert.pem"), dir.join("key.pem"))));
        // Flags win over the directory; --tlsverify works without the variable.
        let choice = Choice {
            host: Some("tcp://10.0.0.1:2376".into()),
            tls_verify: true,
            ca: Some("/flags/ca.pem".into()),
            ..Choice::default()
        }
        .with_env(env(&[("DOCKER_CERT_PATH", &certs)]));
        let Endpoint::Tcp { host, tls: Some(files), .. } = choice.resolve().expect("resolves")
        else {
            panic!("tls expected");
        };
        assert_eq!(host, "10.0.0.1");
        assert_eq!(files.ca, PathBuf::from("/flags/ca.pem"));
        // The certificate directory defaults to DOCKER_CONFIG, then ~/.docker.
        let choice = Choice { tls_verify: true, ..Choice::default() }
            .with_env(env(&[("HOME", "/home/me"), ("DOCKER_HOST", "tcp://h:1")]));
        let Endpoint::Tcp { tls: Some(files), .. } = choice.resolve().expect("resolves") else {
            panic!("tls expected");
        };
        assert_eq!(files.ca, PathBuf::from("/home/me/.docker/ca.pem"));
        // TLS settings leave a unix socket alone; no TLS without being asked.
        let choice =
            Choice { host: Some("unix:///s.sock".into()), tls_verify: true, ..Default::default() };
        assert_eq!(choice.resolve().expect("unix"), Endpoint::Unix("/s.sock".into()));
        let choice = Choice::default().with_env(env(&[("DOCKER_HOST", "tcp://h:1")]));
        assert_eq!(
            choice.resolve().expect("plain"),
            Endpoint::Tcp { host: "h".into(), port: 1, tls: None }
        );
        // Unverified TLS is refused in words.
        let choice =
            Choice::default().with_env(env(&[("DOCKER_TLS", "1"), ("DOCKER_HOST", "tcp://h:1")]));
        assert!(matches!(choice.resolve(), Err(ConnectError::Unsupported { .. })));
        // A key without its certificate is an error, named.
        let choice = Choice {
            host: Some("tcp://h:1".into()),
            tls_verify: true,
            key: Some("/k.pem".into()),
            cert_path: Some("/nonexistent".into()),
            ..Choice::default()
        };
        assert!(matches!(choice.resolve(), Err(ConnectError::TlsFile { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

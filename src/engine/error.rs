//! What can go wrong between portolan and an engine, in words: reaching it
//! ([`ConnectError`]) and a call to one that answered before ([`EngineError`]).
//! Every variant reads as a sentence the operator can act on; nothing here prints
//! Rust's debug formatting.

/// Why portolan could not talk to an engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error("{endpoint} is not a usable engine address: {detail}")]
    BadEndpoint { endpoint: String, detail: String },
    #[error("no such socket: {path}")]
    NoSuchSocket { path: String },
    #[error("permission denied on {path}")]
    PermissionDenied { path: String },
    #[error("connection refused at {endpoint}")]
    Refused { endpoint: String },
    #[error("{endpoint} did not answer within {seconds} s (timed out)")]
    TimedOut { endpoint: String, seconds: u64 },
    #[error("cannot resolve host `{host}`")]
    UnknownHost { host: String },
    #[error("{endpoint} answered, but not like a Docker engine: {detail}")]
    NotAnEngine { endpoint: String, detail: String },
    #[error("cannot use the TLS file {path}: {detail}")]
    TlsFile { path: String, detail: String },
    #[error("the certificate of {endpoint} is not trusted: {detail}")]
    CertificateNotTrusted { endpoint: String, detail: String },
    #[error("the certificate of {endpoint} is not for that name: {detail}")]
    NameMismatch { endpoint: String, detail: String },
    #[error("{endpoint} refused the TLS connection: {detail}")]
    TlsRejected { endpoint: String, detail: String },
    #[error("{detail}")]
    Unsupported { detail: String },
    #[error("ssh says: {detail}")]
    Ssh { endpoint: String, detail: String },
    #[error("there is no docker context `{name}` (contexts: {known})")]
    UnknownContext { name: String, known: String },
    #[error("the docker context `{name}` cannot be used: {detail}")]
    BadContext { name: String, detail: String },
    #[error("conflicting options: either specify --host or --context, not both")]
    HostAndContext,
    #[error("cannot connect to {endpoint}: {detail}")]
    Other { endpoint: String, detail: String },
}

impl ConnectError {
    /// What the operator can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            ConnectError::BadEndpoint { .. } => {
                "Pass -H unix:///var/run/docker.sock, -H tcp://HOST:2375 or -H ssh://USER@HOST, or fix DOCKER_HOST."
            }
            ConnectError::NoSuchSocket { .. } => {
                "Is the Docker daemon running? Start it (e.g. `sudo systemctl start docker`), or point portolan at another engine with -H or DOCKER_HOST."
            }
            ConnectError::PermissionDenied { .. } => {
                "Run portolan as a user in the `docker` group (or as root), or use an engine you may reach."
            }
            ConnectError::Refused { .. } => {
                "The daemon is not listening there: start it, or check the address given with -H or DOCKER_HOST."
            }
            ConnectError::TimedOut { .. } => {
                "The engine may be overloaded or the address may be wrong; check it and try again."
            }
            ConnectError::UnknownHost { .. } => "Check the host name in -H or DOCKER_HOST.",
            ConnectError::NotAnEngine { .. } => {
                "Check that the address points at a Docker Engine API endpoint."
            }
            ConnectError::TlsFile { .. } => {
                "Give readable PEM files with --tlscacert, --tlscert and --tlskey, or put ca.pem, cert.pem and key.pem in DOCKER_CERT_PATH (default ~/.docker)."
            }
            ConnectError::CertificateNotTrusted { .. } => {
                "The engine's certificate is not signed by the CA given: pass the CA that signed it with --tlscacert (or ca.pem in DOCKER_CERT_PATH)."
            }
            ConnectError::NameMismatch { .. } => {
                "Connect with a host name or address the engine's certificate was issued for (its subjectAltName), or reissue the certificate for this one."
            }
            ConnectError::TlsRejected { .. } => {
                "The engine did not accept this client: check the client certificate and key (--tlscert, --tlskey) and that its CA trusts them."
            }
            ConnectError::Unsupported { .. } => {
                "Use DOCKER_TLS_VERIFY=1 (or --tlsverify) with the engine's CA."
            }
            ConnectError::Ssh { .. } => {
                "portolan runs your ssh client without prompts (BatchMode): `ssh HOST docker version` must work with a key or the agent, with the host key already in known_hosts."
            }
            ConnectError::UnknownContext { .. } => {
                "Pick one of these with --context NAME or DOCKER_CONTEXT (`docker context ls` lists them too)."
            }
            ConnectError::BadContext { .. } => {
                "Check it with `docker context inspect NAME`, or choose another context."
            }
            ConnectError::HostAndContext => {
                "-H/--host names an engine directly; --context names it through a docker context. Keep one."
            }
            ConnectError::Other { .. } => "Check that the Docker daemon is running and reachable.",
        }
    }
}

/// A call to an engine that failed: how it failed, and what it was for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The engine understood the call and refused it.
    #[error("the engine answered {status}: {message}")]
    Answered { status: u16, message: String },
    #[error("the request timed out")]
    TimedOut,
    /// The engine answered with something that is not what the API describes.
    #[error("unexpected answer from the engine: {0}")]
    Unexpected(String),
    /// The connection broke or never carried the call.
    #[error("connection to the engine failed: {0}")]
    Connection(String),
    #[error("{0}")]
    Other(String),
    /// One of the errors above, with the job it stopped.
    #[error("cannot {doing}: {cause}")]
    During { doing: String, cause: Box<EngineError> },
}

impl EngineError {
    /// Says what the failed call was for: `cannot list volumes: …`.
    pub fn during(self, doing: impl Into<String>) -> EngineError {
        EngineError::During { doing: doing.into(), cause: Box::new(self) }
    }

    /// Whether the engine said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            EngineError::Answered { status, .. } => *status == 404,
            EngineError::During { cause, .. } => cause.is_not_found(),
            _ => false,
        }
    }
}

impl From<&bollard::errors::Error> for EngineError {
    fn from(error: &bollard::errors::Error) -> Self {
        use bollard::errors::Error;
        match error {
            Error::DockerResponseServerError { status_code, message } => {
                EngineError::Answered { status: *status_code, message: message.trim().to_string() }
            }
            Error::RequestTimeoutError => EngineError::TimedOut,
            Error::JsonDataError { message, .. } => EngineError::Unexpected(message.clone()),
            Error::JsonSerdeError { err } => EngineError::Unexpected(err.to_string()),
            Error::HyperResponseError { err } => EngineError::Connection(err.to_string()),
            Error::IOError { err } => EngineError::Connection(err.to_string()),
            other => EngineError::Other(other.to_string()),
        }
    }
}

impl From<bollard::errors::Error> for EngineError {
    fn from(error: bollard::errors::Error) -> Self {
        EngineError::from(&error)
    }
}

/// An engine error in words, without Rust's debug formatting.
pub fn describe(error: &bollard::errors::Error) -> String {
    EngineError::from(error).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_read_as_sentences_with_their_job() {
        let refused = bollard::errors::Error::DockerResponseServerError {
            status_code: 500,
            message: "driver failed\n".into(),
        };
        let error = EngineError::from(&refused).during("list volumes");
        assert_eq!(
            error.to_string(),
            "cannot list volumes: the engine answered 500: driver failed"
        );
        assert!(!error.is_not_found());
        let gone = bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            message: "No such container: x".into(),
        };
        assert!(EngineError::from(gone).during("inspect container x").is_not_found());
        assert_eq!(
            EngineError::from(bollard::errors::Error::RequestTimeoutError).to_string(),
            "the request timed out"
        );
    }
}

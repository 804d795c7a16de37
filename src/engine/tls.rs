//! TLS to a tcp engine: checking the certificate files before bollard reads them, and
//! naming why a handshake failed.
//!
//! bollard reads the CA itself but swallows a bad client certificate or key (the
//! handshake then goes on without one), so they are read here first to fail in words.
//! The verdicts come from rustls' own error values found in bollard's error chain.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::endpoint::TlsFiles;
use super::error::ConnectError;

/// Makes sure each file exists and holds what it should: certificates, or one key.
pub fn check_files(files: &TlsFiles) -> Result<(), ConnectError> {
    check_certificates(&files.ca)?;
    if let Some((cert, key)) = &files.client {
        check_certificates(cert)?;
        check_key(key)?;
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, ConnectError> {
    std::fs::read(path).map_err(|e| ConnectError::TlsFile {
        path: path.display().to_string(),
        detail: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => e.to_string(),
        },
    })
}

fn check_certificates(path: &Path) -> Result<(), ConnectError> {
    let bytes = read(path)?;
    let bad = |detail: &str| ConnectError::TlsFile {
        path: path.display().to_string(),
        detail: detail.to_string(),
    };
    let certificates: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|_| bad("not a PEM certificate file"))?;
    if certificates.is_empty() {
        return Err(bad("holds no PEM certificate"));
    }
    Ok(())
}

fn check_key(path: &Path) -> Result<(), ConnectError> {
    let bytes = read(path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map(|_| ()).map_err(|_| ConnectError::TlsFile {
        path: path.display().to_string(),
        detail: "holds no PEM private key".to_string(),
    })
}

/// rustls needs one process-wide crypto provider; `ring` is the one compiled in.
pub fn install_provider() {
    // Already installed (by an earlier connection) is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The TLS failure somewhere in `error`'s chain, named for the operator.
pub fn classify(endpoint: &str, error: &(dyn std::error::Error + 'static)) -> Option<ConnectError> {
    let tls = rustls_error(error)?;
    let endpoint = endpoint.to_string();
    let detail = tls.to_string();
    use rustls::CertificateError as C;
    Some(match tls {
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => ConnectError::NameMismatch { endpoint, detail },
        rustls::Error::InvalidCertificate(_) => {
            ConnectError::CertificateNotTrusted { endpoint, detail }
        }
        rustls::Error::AlertReceived(_) | rustls::Error::NoCertificatesPresented => {
            ConnectError::TlsRejected { endpoint, detail }
        }
        _ => ConnectError::Other { endpoint, detail: format!("TLS: {detail}") },
    })
}

fn rustls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // tokio-rustls and hyper-rustls wrap rustls' errors in io::Errors (sometimes two
        // deep), whose `source` skips the error they carry.
        current = match error.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => error.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapper(std::io::Error);
    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (Connect)")
        }
    }
    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    fn wrapped(tls: rustls::Error) -> Wrapper {
        let inner = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        Wrapper(std::io::Error::other(inner))
    }

    #[test]
    fn handshake_failures_are_named() {
        let unknown =
            wrapped(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer));
        assert!(matches!(
            classify("tcp://h:1", &unknown),
            Some(ConnectError::CertificateNotTrusted { .. })
        ));
        let name =
            wrapped(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName));
        assert!(matches!(classify("tcp://h:1", &name), Some(ConnectError::NameMismatch { .. })));
        let alert = wrapped(rustls::Error::AlertReceived(rustls::AlertDescription::BadCertificate));
        assert!(matches!(classify("tcp://h:1", &alert), Some(ConnectError::TlsRejected { .. })));
        let plain = Wrapper(std::io::Error::other("reset"));
        assert_eq!(classify("tcp://h:1", &plain), None);
    }

    #[test]
    fn bad_files_are_named() {
        let dir = std::env::temp_dir().join(format!("portolan-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate").expect("write");
        let files = TlsFiles { ca: junk.clone(), client: None };
        let error = check_files(&files).expect_err("junk");
        assert!(error.to_string().contains("junk.pem"), "{error}");
        let files = TlsFiles { ca: dir.join("missing.pem"), client: None };
        let error = check_files(&files).expect_err("missing");
        assert!(error.to_string().contains("no such file"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

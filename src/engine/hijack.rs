//! Starts an exec with a TTY and takes over the connection the engine hands over for
//! it, as raw bytes both ways.
//!
//! bollard's `start_exec` would do the same, but reads the output through a decoder
//! that takes any read starting with a byte 0 to 2 for the header of a multiplexed
//! frame: a shell printing `\x02` and four bytes of length (a `cat` of a binary file
//! can) froze the session while the decoder waited for up to 4 GiB, buffering all
//! that came meanwhile. A TTY's stream is never multiplexed, so here it is read as
//! it is. The connection is opened the way the engine's client reaches it: the
//! socket, tcp, TLS with the same files, or the ssh tunnel's local socket (one more
//! channel of the one ssh connection).

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use super::connect::CONNECT_TIMEOUT;
use super::endpoint::{Endpoint, TlsFiles};

/// The longest answer head read before the stream starts.
const HEAD_LIMIT: usize = 16 * 1024;

/// A connection of any kind, read and written as bytes.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub type Reader = Box<dyn AsyncRead + Unpin + Send>;
pub type Writer = Box<dyn AsyncWrite + Unpin + Send>;

/// Starts exec `exec` (created with a TTY) attached, and returns its output and input.
pub async fn start_exec(endpoint: &Endpoint, exec: &str) -> Result<(Reader, Writer), String> {
    let mut stream = tokio::time::timeout(CONNECT_TIMEOUT, dial(endpoint))
        .await
        .map_err(|_| "the engine did not accept a connection in time".to_string())??;
    stream.write_all(request(exec).as_bytes()).await.map_err(|e| e.to_string())?;
    stream.flush().await.map_err(|e| e.to_string())?;
    let (head, rest) = read_head(&mut stream).await?;
    check_status(&head, &rest)?;
    let (read, write) = tokio::io::split(stream);
    // Whatever followed the head in the same read is the stream's start.
    let reader: Reader = Box::new(std::io::Cursor::new(rest).chain(read));
    Ok((reader, Box::new(write)))
}

/// The request that starts an exec and asks for the connection. The path has no
/// version: the engine takes its own, and the body is the same in every version.
pub fn request(exec: &str) -> String {
    let body = r#"{"Detach":false,"Tty":true}"#;
    format!(
        "POST /exec/{exec}/start HTTP/1.1\r\nHost: docker\r\nUser-Agent: portolan\r\n\
         Content-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

async fn dial(endpoint: &Endpoint) -> Result<Box<dyn Io>, String> {
    match endpoint {
        Endpoint::Unix(path) => Ok(Box::new(UnixStream::connect(path).await.map_err(words)?)),
        Endpoint::Tcp { host, port, tls: None } => {
            Ok(Box::new(TcpStream::connect((host.as_str(), *port)).await.map_err(words)?))
        }
        Endpoint::Tcp { host, port, tls: Some(files) } => {
            let tcp = TcpStream::connect((host.as_str(), *port)).await.map_err(words)?;
            Ok(Box::new(tls(host, files, tcp).await?))
        }
        Endpoint::Ssh(tunnel) => {
            let socket = tunnel
                .open(CONNECT_TIMEOUT, &tunnel.target.to_string())
                .await
                .map_err(|e| e.to_string())?;
            Ok(Box::new(UnixStream::connect(socket).await.map_err(words)?))
        }
        Endpoint::Context { endpoint, .. } | Endpoint::Found { endpoint, .. } => {
            Box::pin(dial(endpoint)).await
        }
    }
}

/// TLS as the engine's client does it: the engine's certificate checked against the
/// CA given (and only it), the client certificate presented when there is one.
async fn tls(
    host: &str,
    files: &TlsFiles,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    super::tls::install_provider();
    let unreadable = |path: &std::path::Path| format!("cannot read {}", path.display());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&files.ca).map_err(|_| unreadable(&files.ca))? {
        roots.add(cert.map_err(|_| unreadable(&files.ca))?).map_err(|e| e.to_string())?;
    }
    let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
    let config = match &files.client {
        Some((cert, key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(|_| unreadable(cert))?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|_| unreadable(key))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| e.to_string())?
        }
        None => builder.with_no_client_auth(),
    };
    let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string())
        .map_err(|_| format!("`{host}` is not a host name for TLS"))?;
    tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(words)
}

fn words(error: std::io::Error) -> String {
    error.to_string()
}

/// Reads the answer's head: what comes before the first blank line, and what of the
/// stream came with it.
async fn read_head(stream: &mut Box<dyn Io>) -> Result<(String, Vec<u8>), String> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buffer.split_off(end + 4);
            return Ok((String::from_utf8_lossy(&buffer).into_owned(), rest));
        }
        if buffer.len() > HEAD_LIMIT {
            return Err("the engine's answer has no end to its head".into());
        }
        let n = stream.read(&mut chunk).await.map_err(words)?;
        if n == 0 {
            return Err("the engine closed the connection before answering".into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// The engine switches protocols (101), or with older engines answers 200 and
/// streams all the same; anything else carries its error in the body.
pub fn check_status(head: &str, body: &[u8]) -> Result<(), String> {
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse::<u16>().ok());
    match status {
        Some(101 | 200) => Ok(()),
        Some(code) => {
            let body = String::from_utf8_lossy(body);
            let message = serde_json::from_str::<serde_json::Value>(body.trim())
                .ok()
                .and_then(|v| v["message"].as_str().map(String::from))
                .unwrap_or_else(|| body.trim().to_string());
            let message = crate::model::sanitize::one_line(&message).into_owned();
            Err(format!("the engine refused the shell ({code}): {message}"))
        }
        None => Err("the engine's answer is not HTTP".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_asks_for_the_connection() {
        let request = request("abc123");
        assert!(request.starts_with("POST /exec/abc123/start HTTP/1.1\r\n"));
        assert!(request.contains("Connection: Upgrade\r\nUpgrade: tcp\r\n"));
        assert!(request.ends_with("\r\n\r\n{\"Detach\":false,\"Tty\":true}"));
        assert!(request.contains("Content-Length: 27\r\n"));
    }

    #[test]
    fn only_a_switch_or_ok_starts_the_stream() {
        assert_eq!(check_status("HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp", b""), Ok(()));
        assert_eq!(check_status("HTTP/1.0 200 OK", b""), Ok(()));
        let refused = check_status(
            "HTTP/1.1 409 Conflict",
            br#"{"message":"container abc is not running\u001b[2J"}"#,
        );
        assert_eq!(
            refused,
            Err("the engine refused the shell (409): container abc is not running".into())
        );
        assert!(check_status("garbage", b"").is_err());
    }
}

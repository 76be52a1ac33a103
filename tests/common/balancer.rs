//! A round-robin load balancer on 127.0.0.1 in front of several servers, for the fleet test:
//! every HTTP request goes to the next server in turn. It does so by giving each request a
//! connection of its own: the request's `Connection` header is rewritten to `close`, so the
//! server closes once it has answered and the client opens a new connection for its next
//! request. A server that refuses the connection (it is down) is skipped for the next one, as
//! a balancer's "next upstream on connection error" does; a request already forwarded when its
//! server dies is not replayed: the client sees its connection drop, as it would.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// The longest request head the balancer reads.
const MAX_HEAD: usize = 64 * 1024;

/// What the balancer did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests forwarded to each server, in the order they were given.
    pub requests: Vec<u64>,
    /// Connections a server refused (the request went to the next one).
    pub skipped: u64,
    /// Requests no server took (answered 502).
    pub unserved: u64,
}

pub struct Balancer {
    addr: SocketAddr,
    counts: Arc<Mutex<Counts>>,
    stop: Arc<Notify>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Balancer {
    /// A balancer on a free loopback port in front of `servers`.
    pub fn start(servers: Vec<SocketAddr>) -> Balancer {
        let counts = Arc::new(Mutex::new(Counts {
            requests: vec![0; servers.len()],
            ..Counts::default()
        }));
        let stop = Arc::new(Notify::new());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (c, st) = (counts.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("balancer runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
                let _ = ready_tx.send(listener.local_addr().expect("its address"));
                let servers = Arc::new(servers);
                let next = Arc::new(AtomicUsize::new(0));
                loop {
                    let client = tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok((client, _)) => client,
                            Err(_) => continue,
                        },
                        _ = st.notified() => return,
                    };
                    let (servers, next, counts) = (servers.clone(), next.clone(), c.clone());
                    tokio::spawn(async move {
                        serve(client, &servers, &next, &counts).await;
                    });
                }
            });
        });
        let addr = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the balancer did not start listening");
        Balancer {
            addr,
            counts,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.addr.port())
    }

    pub fn counts(&self) -> Counts {
        self.counts.lock().unwrap().clone()
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One client connection: its first request goes to the next server that takes a connection.
async fn serve(
    mut client: TcpStream,
    servers: &[SocketAddr],
    next: &AtomicUsize,
    counts: &Mutex<Counts>,
) {
    let Some((head, rest)) = read_head(&mut client).await else {
        return;
    };
    let head = close_after(&head);
    let first = next.fetch_add(1, Ordering::Relaxed);
    let mut upstream = None;
    for k in 0..servers.len() {
        let i = (first + k) % servers.len();
        match TcpStream::connect(servers[i]).await {
            Ok(s) => {
                counts.lock().unwrap().requests[i] += 1;
                upstream = Some(s);
                break;
            }
            Err(_) => counts.lock().unwrap().skipped += 1,
        }
    }
    let Some(upstream) = upstream else {
        counts.lock().unwrap().unserved += 1;
        let _ = client
            .write_all(
                b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )
            .await;
        return;
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = upstream.into_split();
    let upload = tokio::spawn(async move {
        if to_server.write_all(head.as_bytes()).await.is_err()
            || to_server.write_all(&rest).await.is_err()
        {
            return;
        }
        let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
        let _ = to_server.shutdown().await;
    });
    // The server closes after its answer (or dies): then the client's connection ends too.
    let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
    let _ = to_client.shutdown().await;
    upload.abort();
}

/// The request head (up to and without the blank line) and whatever body bytes came with it.
async fn read_head(client: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(buf[..end].to_vec()).ok()?;
            return Some((head, buf[end + 4..].to_vec()));
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        let n = client.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// `head` with `Connection: close` instead of whatever it said about the connection.
fn close_after(head: &str) -> String {
    let mut out = String::with_capacity(head.len() + 24);
    for line in head.split("\r\n") {
        let name = line.split(':').next().unwrap_or_default().trim();
        if name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("keep-alive") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

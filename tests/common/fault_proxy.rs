//! A fault-injecting TCP proxy for upload tests, on 127.0.0.1 in front of a real server. Each
//! accepted connection takes the next [`Fault`] of the plan (then plain forwarding):
//! cut the connection after N client bytes, stall after N bytes (every socket left open, nothing
//! moves), swallow the server's replies once the client has sent N bytes, or flip one byte of
//! the client's stream. The proxy can also refuse connections for a while (its listener is
//! closed, so connecting fails with ECONNREFUSED), go down altogether (every open connection
//! dropped as well), and throttle the client's bytes, which gives a SIGKILL something to
//! interrupt.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;

/// What happens to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    /// Forward this many client bytes, then drop both sockets.
    Cut(u64),
    /// Forward this many client bytes, then nothing more either way; sockets stay open.
    Stall(u64),
    /// Forward everything the client sends, but once it has sent this many bytes, swallow the
    /// server's replies and close the client's side when the server has answered.
    NoReplyAfter(u64),
    /// Flip the bits of the client byte at this position (counted over the connection).
    Corrupt(u64),
}

struct State {
    plan: VecDeque<Fault>,
    refuse_until: Option<Instant>,
    rate: Option<u64>,
    connections: u64,
}

pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    /// Drops every open connection.
    cut_all: Arc<Notify>,
    stop: Arc<Notify>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(128)
}

impl FaultProxy {
    /// A proxy on a free loopback port forwarding to `upstream`.
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let addr = probe.local_addr().expect("its address");
        drop(probe);
        let state = Arc::new(Mutex::new(State {
            plan: VecDeque::new(),
            refuse_until: None,
            rate: None,
            connections: 0,
        }));
        let (changed, stop) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let cut_all = Arc::new(Notify::new());
        let (s, c, st, cut) = (
            state.clone(),
            changed.clone(),
            stop.clone(),
            cut_all.clone(),
        );
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(async move {
                let mut ready = Some(ready_tx);
                tokio::select! {
                    _ = serve(addr, upstream, s, c, cut, &mut ready) => {}
                    _ = st.notified() => {}
                }
            });
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the proxy did not start listening");
        FaultProxy {
            addr,
            state,
            changed,
            cut_all,
            stop,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.addr.port())
    }

    /// The faults for the next connections, in order.
    pub fn plan(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.lock().unwrap().plan.extend(faults);
    }

    /// Faults planned but not yet used.
    pub fn planned(&self) -> usize {
        self.state.lock().unwrap().plan.len()
    }

    /// Closes the listener for `d` (connections are refused), then listens again.
    pub fn refuse_for(&self, d: Duration) {
        self.state.lock().unwrap().refuse_until = Some(Instant::now() + d);
        self.changed.notify_one();
    }

    /// The network goes down for `d`: every open connection is dropped at once (mid-request
    /// as it may be) and new ones are refused until `d` has passed.
    pub fn go_down_for(&self, d: Duration) {
        self.refuse_for(d);
        self.cut_all();
    }

    /// Drops every open connection at once, with whatever the client had sent that the proxy
    /// has not forwarded yet (as a power cut would).
    pub fn cut_all(&self) {
        self.cut_all.notify_waiters();
    }

    /// Limits every connection's client-to-server bytes to `bytes_per_second` (None: no limit).
    pub fn set_rate(&self, bytes_per_second: Option<u64>) {
        self.state.lock().unwrap().rate = bytes_per_second;
    }

    pub fn connections(&self) -> u64 {
        self.state.lock().unwrap().connections
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(
    addr: SocketAddr,
    upstream: SocketAddr,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    cut_all: Arc<Notify>,
    ready: &mut Option<std::sync::mpsc::Sender<()>>,
) {
    loop {
        let refuse = state.lock().unwrap().refuse_until;
        if let Some(until) = refuse {
            tokio::time::sleep_until(until.into()).await;
            state.lock().unwrap().refuse_until = None;
        }
        let listener = bind(addr).expect("binding the proxy port");
        if let Some(tx) = ready.take() {
            let _ = tx.send(());
        }
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((client, _)) = accepted else { continue };
                    let (fault, rate) = {
                        let mut s = state.lock().unwrap();
                        s.connections += 1;
                        (s.plan.pop_front().unwrap_or(Fault::Pass), s.rate)
                    };
                    tokio::spawn(relay(client, upstream, fault, rate, cut_all.clone()));
                }
                _ = changed.notified() => {
                    if state.lock().unwrap().refuse_until.is_some() {
                        break; // drops the listener: connecting now fails
                    }
                }
            }
        }
    }
}

async fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    fault: Fault,
    rate: Option<u64>,
    cut_all: Arc<Notify>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (up_sent, up_stalled) = (sent.clone(), stalled.clone());
    let up = async move {
        let mut buf = vec![0u8; 16 * 1024];
        let start = Instant::now();
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let before = up_sent.load(std::sync::atomic::Ordering::Relaxed);
            let n = n as u64;
            match fault {
                Fault::Cut(limit) | Fault::Stall(limit) if before + n >= limit => {
                    let _ = sw.write_all(&buf[..(limit - before) as usize]).await;
                    if matches!(fault, Fault::Cut(_)) {
                        return; // both sockets are dropped
                    }
                    // Silence both ways, every socket kept open, until the proxy goes away.
                    up_stalled.store(true, std::sync::atomic::Ordering::Relaxed);
                    let _keep = (cr, sw);
                    return std::future::pending::<()>().await;
                }
                Fault::Corrupt(at) if before <= at && at < before + n => {
                    buf[(at - before) as usize] ^= 0xff;
                }
                _ => {}
            }
            if sw.write_all(&buf[..n as usize]).await.is_err() {
                return;
            }
            let total = before + n;
            up_sent.store(total, std::sync::atomic::Ordering::Relaxed);
            if let Some(rate) = rate {
                let due = Duration::from_secs_f64(total as f64 / rate as f64);
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    tokio::time::sleep(wait).await;
                }
            }
        }
    };
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if stalled.load(std::sync::atomic::Ordering::Relaxed) {
                let _keep = (sr, cw);
                return std::future::pending::<()>().await;
            }
            if let Fault::NoReplyAfter(limit) = fault
                && sent.load(std::sync::atomic::Ordering::Relaxed) >= limit
            {
                // The server answered; the client never hears it. Let the rest of the reply
                // drain, then hang up on the client.
                tokio::time::sleep(Duration::from_millis(200)).await;
                return;
            }
            if cw.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    // Whichever side ends first ends the connection: both sockets are dropped together.
    tokio::select! {
        _ = up => {}
        _ = down => {}
        _ = cut_all.notified() => {}
    }
}

//! An emulated wide-area link for the upload figure: a TCP proxy on loopback in front of the
//! test tus server that gives each direction of each connection a bottleneck rate and a fixed
//! one-way delay ([`Link`]), so that what chunking really costs on a distant server — a round
//! trip per PATCH while the link idles — shows against curl sending one PATCH through the same
//! proxy.
//!
//! Each direction is a reader thread that stamps what it reads with its arrival time and a
//! writer thread that hands it on when the link would have delivered it. The queue between
//! them is bounded (about two bandwidth-delay products), so a sender faster than the link is
//! held back by TCP as by a real bottleneck's buffer.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::BenchError;
use super::report::{median, paired_ratios};
use super::upload::Rig;
use crate::logging::console;

/// booth with its default chunking must reach this share of curl's one PATCH on each link.
pub const FLOOR: f64 = 0.95;

/// The links of the figure: a good office line and a modest one.
pub const LINKS: [Shape; 2] = [
    Shape {
        mbit_per_s: 100.0,
        one_way_delay_ms: 20,
    },
    Shape {
        mbit_per_s: 20.0,
        one_way_delay_ms: 50,
    },
];

#[derive(Debug, Serialize)]
pub struct LinkFigure {
    #[serde(flatten)]
    pub shape: Shape,
    pub booth_mib_per_s: Vec<f64>,
    pub curl_mib_per_s: Vec<f64>,
    /// booth / curl within each round, in round order.
    pub round_ratios: Vec<f64>,
    /// The median of `round_ratios`, held against the floor.
    pub booth_vs_curl: f64,
}

#[derive(Debug, Serialize)]
pub struct WanFigure {
    pub file_mib: u32,
    pub rounds: usize,
    pub links: Vec<LinkFigure>,
    pub floor: f64,
}

impl WanFigure {
    pub fn below_floor(&self) -> bool {
        self.links.iter().any(|l| l.booth_vs_curl < self.floor)
    }
}

/// booth (default chunking) against curl (one PATCH) through the proxy on each of [`LINKS`],
/// in paired rounds, each going first in turn.
pub fn measure(
    base: &std::path::Path,
    mib: u32,
    rounds: usize,
    project: &std::path::Path,
) -> Result<WanFigure, BenchError> {
    console(&format!(
        "bench: upload over emulated wide-area links, {mib} MiB, {rounds} paired rounds each"
    ));
    let rig = Rig::new(base, mib, None, project)?;
    let upstream: SocketAddr = rig
        .url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .and_then(|host| host.parse().ok())
        .ok_or_else(|| BenchError::Parse(format!("the test server's URL {}", rig.url)))?;
    let single = vec![(rig.file.clone(), 0)];
    // Warms the server and the page cache, unmeasured.
    rig.booth_round(&rig.url, usize::MAX)?;
    rig.curl_round(&rig.url, &single)?;
    let mut links = Vec::new();
    for (n, shape) in LINKS.into_iter().enumerate() {
        let proxy = Proxy::start(upstream, shape)?;
        let url = format!("http://{}/files", proxy.addr());
        let (mut booth, mut curl) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            if round % 2 == 0 {
                booth.push(rig.booth_round(&url, 1000 * (n + 1) + round)?);
                curl.push(rig.curl_round(&url, &single)?);
            } else {
                curl.push(rig.curl_round(&url, &single)?);
                booth.push(rig.booth_round(&url, 1000 * (n + 1) + round)?);
            }
            console(&format!(
                "bench: {} Mbit/s {} ms round {}: booth {:.1} MiB/s, curl {:.1} MiB/s",
                shape.mbit_per_s,
                shape.one_way_delay_ms,
                round + 1,
                booth[round],
                curl[round]
            ));
        }
        let round_ratios = paired_ratios(&booth, &curl);
        links.push(LinkFigure {
            shape,
            booth_vs_curl: median(round_ratios.clone()),
            round_ratios,
            booth_mib_per_s: booth,
            curl_mib_per_s: curl,
        });
    }
    Ok(WanFigure {
        file_mib: mib,
        rounds,
        links,
        floor: FLOOR,
    })
}

pub fn print(w: &WanFigure, load: &str) {
    println!(
        "Upload over emulated links ({} MiB, {} paired rounds, {load}):",
        w.file_mib, w.rounds
    );
    for l in &w.links {
        println!(
            "  {:>5.0} Mbit/s, {:>3} ms each way: median booth / curl (one PATCH) {:.2} (floor {:.2}){}; booth median {:.1} MiB/s, curl {:.1} MiB/s",
            l.shape.mbit_per_s,
            l.shape.one_way_delay_ms,
            l.booth_vs_curl,
            w.floor,
            if l.booth_vs_curl < w.floor {
                "  BELOW THE FLOOR"
            } else {
                ""
            },
            median(l.booth_mib_per_s.clone()),
            median(l.curl_mib_per_s.clone()),
        );
    }
}

/// What is read from a socket at once (a few TCP segments).
const PIECE: usize = 64 * 1024;

/// A link's shape: its rate and its delay each way.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Shape {
    pub mbit_per_s: f64,
    pub one_way_delay_ms: u64,
}

impl Shape {
    fn bytes_per_s(self) -> f64 {
        self.mbit_per_s * 1e6 / 8.0
    }

    /// Pieces the queue of one direction holds: two bandwidth-delay products, at least 4.
    fn queue_pieces(self) -> usize {
        let bdp = self.bytes_per_s() * 2.0 * self.one_way_delay_ms as f64 / 1000.0;
        ((2.0 * bdp / PIECE as f64).ceil() as usize).max(4)
    }
}

/// One direction of a link: bytes leave at the link's rate, one after the other (a token
/// bucket one piece deep), and arrive a fixed delay later.
#[derive(Debug)]
pub struct Link {
    shape: Shape,
    /// When the link has finished sending what it was given so far.
    free_at: Option<Instant>,
}

impl Link {
    pub fn new(shape: Shape) -> Self {
        Link {
            shape,
            free_at: None,
        }
    }

    /// When `len` bytes that reached the link at `arrived` are delivered at its far end.
    pub fn schedule(&mut self, arrived: Instant, len: usize) -> Instant {
        let start = self.free_at.map_or(arrived, |f| f.max(arrived));
        let sent = start + Duration::from_secs_f64(len as f64 / self.shape.bytes_per_s());
        self.free_at = Some(sent);
        sent + Duration::from_millis(self.shape.one_way_delay_ms)
    }
}

/// The proxy; it stops accepting when dropped (connections still open finish on their own).
pub struct Proxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

impl Proxy {
    /// Listens on a free loopback port and forwards every connection to `upstream`.
    pub fn start(upstream: SocketAddr, shape: Shape) -> Result<Proxy, BenchError> {
        let spawn = |source| BenchError::Spawn {
            program: "the shaping proxy".into(),
            source,
        };
        let listener = TcpListener::bind("127.0.0.1:0").map_err(spawn)?;
        let addr = listener.local_addr().map_err(spawn)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                if let Ok(server) = TcpStream::connect(upstream) {
                    connect_pair(client, server, shape);
                }
            }
        });
        Ok(Proxy { addr, stop })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Forwards both directions of one connection through a shaped link each.
fn connect_pair(client: TcpStream, server: TcpStream, shape: Shape) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let pairs = [
        (client.try_clone(), server.try_clone()),
        (server.try_clone(), client.try_clone()),
    ];
    for (from, to) in pairs {
        if let (Ok(from), Ok(to)) = (from, to) {
            let (tx, rx) = sync_channel(shape.queue_pieces());
            std::thread::spawn(move || read_side(from, tx));
            std::thread::spawn(move || write_side(to, rx, Link::new(shape)));
        }
    }
}

/// Reads pieces as they come and queues them with their arrival time; an empty piece is the
/// end of the stream.
fn read_side(mut from: TcpStream, tx: SyncSender<(Instant, Vec<u8>)>) {
    let mut buf = vec![0u8; PIECE];
    loop {
        let n = from.read(&mut buf).unwrap_or(0);
        if tx.send((Instant::now(), buf[..n].to_vec())).is_err() || n == 0 {
            return;
        }
    }
}

/// Hands each piece on when the link delivers it; at the end, closes the writing half.
fn write_side(mut to: TcpStream, rx: Receiver<(Instant, Vec<u8>)>, mut link: Link) {
    while let Ok((arrived, piece)) = rx.recv() {
        let due = link.schedule(arrived, piece.len());
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        if piece.is_empty() || to.write_all(&piece).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Shape = Shape {
        mbit_per_s: 100.0,
        one_way_delay_ms: 20,
    };

    /// 125 000 bytes take 10 ms at 100 Mbit/s; back to back, the second waits for the first.
    #[test]
    fn pieces_leave_at_the_rate_and_arrive_a_delay_later() {
        let t0 = Instant::now();
        let mut link = Link::new(FAST);
        let ms = |d: Instant| d.duration_since(t0).as_secs_f64() * 1000.0;
        assert!((ms(link.schedule(t0, 125_000)) - 30.0).abs() < 1e-3);
        assert!((ms(link.schedule(t0, 125_000)) - 40.0).abs() < 1e-3);
        // After the link has been idle, a piece waits for nothing but its own sending.
        let later = t0 + Duration::from_secs(1);
        assert!((ms(link.schedule(later, 12_500)) - 1021.0).abs() < 1e-3);
    }

    #[test]
    fn the_queue_holds_two_bandwidth_delay_products() {
        // 12.5 MB/s × 40 ms = 500 kB; twice that in 64 KiB pieces.
        assert_eq!(FAST.queue_pieces(), 16);
        let slow = Shape {
            mbit_per_s: 0.1,
            one_way_delay_ms: 1,
        };
        assert_eq!(slow.queue_pieces(), 4);
    }

    /// Bytes cross the proxy unchanged and in order, both ways, and the far end sees the close.
    #[test]
    fn the_proxy_forwards_both_ways() -> crate::TestResult {
        let upstream = TcpListener::bind("127.0.0.1:0")?;
        let up_addr = upstream.local_addr()?;
        let echo = std::thread::spawn(move || -> std::io::Result<Vec<u8>> {
            let (mut s, _) = upstream.accept()?;
            let mut got = Vec::new();
            s.read_to_end(&mut got)?;
            s.write_all(&got)?;
            Ok(got)
        });
        let proxy = Proxy::start(up_addr, FAST)?;
        let mut c = TcpStream::connect(proxy.addr())?;
        let sent: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        c.write_all(&sent)?;
        c.shutdown(Shutdown::Write)?;
        let mut back = Vec::new();
        c.read_to_end(&mut back)?;
        let got = echo.join().map_err(|_| "the echo server panicked")??;
        assert_eq!(got, sent);
        assert_eq!(back, sent);
        Ok(())
    }
}

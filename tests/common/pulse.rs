//! A private PulseAudio daemon per test as the microphone (and speaker) that booth reaches
//! through ALSA's `default` device, fed a test signal in real time.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::*;

// ---------------------------------------------------------------------------------------------
// PulseAudio: the microphone
// ---------------------------------------------------------------------------------------------

/// Sample rate of the test microphone.
pub const MIC_RATE: u32 = 48_000;
/// Peak amplitude of [`Pulse::start_sine`] (1.0 = full scale): the level PulseAudio's own
/// module-sine-source produces, -6 dBFS peak, -9 dBFS RMS.
pub const SINE_AMPLITUDE: f64 = 0.5;

/// A private PulseAudio daemon whose default source is a test signal: the microphone for tests
/// that capture audio through ALSA's `default` device (cpal, arecord).
///
/// The daemon runs in the foreground of a child process with its own HOME, XDG_RUNTIME_DIR and
/// socket in a temporary directory, so tests in parallel each get their own. Its default source
/// is a `module-pipe-source` that a thread of this process feeds in real time, 10 ms at a time
/// (module-sine-source is not used: it delivers its tone in 2-second bursts, nothing like a
/// microphone). While nothing records, the signal runs on and is dropped, as a live microphone's
/// would; the FIFO is shrunk to one page, so a new recording starts with at most ~40 ms of
/// older audio. Dropping the `Pulse` kills the daemon and waits for it; if the test process
/// dies without dropping it (SIGKILL, abort), a watchdog process kills the daemon.
pub struct Pulse {
    dir: tempfile::TempDir,
    daemon: Child,
    /// Kills the daemon and removes `dir` if this process dies without dropping the `Pulse`
    /// (SIGKILL, abort, `process::exit`): it waits for EOF on its stdin, which only this
    /// process holds.
    watchdog: Option<Child>,
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    feeder: Option<JoinHandle<()>>,
}

/// What the feeder thread plays.
enum Signal {
    Sine {
        freq: f64,
        amplitude: f64,
    },
    /// Mono samples at [`MIC_RATE`], played in a loop.
    Loop(Vec<f32>),
}

impl Signal {
    fn sample(&self, index: u64) -> f32 {
        match self {
            Signal::Sine { freq, amplitude } => {
                // Phase from the sample index, reduced per period so it stays exact for hours.
                let rate = f64::from(MIC_RATE);
                let t = (index as f64 * freq / rate).fract();
                (amplitude * (std::f64::consts::TAU * t).sin()) as f32
            }
            Signal::Loop(samples) => samples[(index % samples.len() as u64) as usize],
        }
    }
}

impl Pulse {
    /// A microphone that hears a continuous sine of `freq_hz` at [`SINE_AMPLITUDE`].
    pub fn start_sine(freq_hz: impl Into<f64>) -> Pulse {
        Pulse::start(Signal::Sine {
            freq: freq_hz.into(),
            amplitude: SINE_AMPLITUDE,
        })
    }

    /// A microphone that hears the WAV file at `wav` (48 kHz; 16-bit or float; channels are
    /// mixed to mono), over and over.
    pub fn start_pipe(wav: &Path) -> Pulse {
        let file = read_wav(wav);
        assert_eq!(
            file.rate,
            MIC_RATE,
            "{} is {} Hz; the test microphone plays 48000 Hz WAV files (ffmpeg -i IN -ar 48000 OUT.wav)",
            wav.display(),
            file.rate
        );
        let mono = file.mono();
        assert!(!mono.is_empty(), "{} has no samples", wav.display());
        Pulse::start(Signal::Loop(mono))
    }

    fn start(signal: Signal) -> Pulse {
        check_alsa_pulse_plugin();
        let dir = tempfile::Builder::new()
            .prefix("booth-pulse-")
            .tempdir()
            .expect("creating a temporary directory for PulseAudio");
        let home = dir.path().join("home");
        let runtime = dir.path().join("run");
        fs::create_dir_all(home.join(".config")).expect("creating the daemon's HOME");
        fs::create_dir_all(&runtime).expect("creating the daemon's XDG_RUNTIME_DIR");
        fs::set_permissions(&runtime, fs::Permissions::from_mode(0o700)).expect("chmod 700");
        let socket = runtime.join("native");
        let fifo = runtime.join("mic.fifo");
        assert!(
            socket.as_os_str().len() < 100,
            "PulseAudio socket path {} is too long for a unix socket; set TMPDIR to a shorter directory",
            socket.display()
        );
        let asound = "pcm.!default { type pulse }\nctl.!default { type pulse }\n";
        fs::write(dir.path().join("asound.conf"), asound).expect("writing asound.conf");
        fs::write(home.join(".asoundrc"), asound).expect("writing .asoundrc");
        // `.fail` makes any failing line fatal, so a broken setup cannot look like silence.
        let script = format!(
            ".fail\n\
             load-module module-native-protocol-unix socket={socket} auth-anonymous=1\n\
             load-module module-null-sink sink_name=speaker rate={MIC_RATE} channels=2\n\
             load-module module-pipe-source source_name=mic file={fifo} format=s16le rate={MIC_RATE} channels=1\n\
             set-default-source mic\n\
             set-default-sink speaker\n",
            socket = socket.display(),
            fifo = fifo.display(),
        );
        let script_path = dir.path().join("daemon.pa");
        fs::write(&script_path, script).expect("writing daemon.pa");
        let log_path = dir.path().join("daemon.log");
        let log = File::create(&log_path).expect("creating daemon.log");

        // As root PulseAudio only warns ("not intended to be run as root"); none of these flags
        // is needed for that. They keep it in the foreground, alive while idle, away from any
        // system or session daemon, D-Bus, real-time scheduling and the user's files.
        let mut cmd = Command::new("pulseaudio");
        cmd.args([
            "-n", // no default.pa: only the script below
            "--daemonize=no",
            "--system=no",
            "--exit-idle-time=-1",
            "--disallow-exit",
            "--use-pid-file=no",
            "--realtime=no",
            "--high-priority=no",
            "--log-target=stderr",
        ])
        .arg("-F")
        .arg(&script_path)
        .env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .env("HOME", &home)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("PULSE_RUNTIME_PATH", runtime.join("pulse"))
        .env("PULSE_STATE_PATH", dir.path().join("state"))
        .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("dup daemon.log"))
        .stderr(log);
        let daemon = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{}", spawn_error(&cmd, "pulseaudio", &e)));

        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(r#"cat >/dev/null; kill -KILL "$0" 2>/dev/null; rm -rf -- "$1""#)
            .arg(daemon.id().to_string())
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut pulse = Pulse {
            dir,
            daemon,
            watchdog: None,
            socket,
            stop: Arc::new(AtomicBool::new(false)),
            feeder: None,
        };
        pulse.watchdog = Some(watchdog.expect("starting the watchdog shell for pulseaudio"));
        pulse.wait_until_ready();
        let default_source = pulse.pactl(&["get-default-source"]);
        assert_eq!(default_source.trim(), "mic", "{}", pulse.log());
        pulse.feeder = Some(start_feeder(&fifo, signal, Arc::clone(&pulse.stop)));
        pulse
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.daemon.try_wait().expect("waiting for pulseaudio") {
                panic!(
                    "pulseaudio exited during start-up ({status}):\n{}",
                    self.log()
                );
            }
            let out = run(
                Command::new("pactl")
                    .arg("--server")
                    .arg(self.server())
                    .arg("info"),
                "pulseaudio-utils",
            );
            if out.status.success() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "pulseaudio did not answer pactl within 20 s:\n{}\npactl said: {}",
                self.log(),
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = self.log();
        let errors: Vec<&str> = log.lines().filter(|l| l.starts_with("E:")).collect();
        assert!(
            errors.is_empty(),
            "pulseaudio reported errors while starting:\n{log}"
        );
    }

    /// The daemon's address, for `PULSE_SERVER` or `pactl --server`.
    pub fn server(&self) -> String {
        format!("unix:{}", self.socket.display())
    }

    /// Environment for a child process whose ALSA `default` device must be this daemon's
    /// microphone: apply with `Command::envs(pulse.envs())`.
    ///
    /// - `PULSE_SERVER`: the daemon's socket, for libpulse (used by ALSA's pulse plugin).
    /// - `ALSA_CONFIG_PATH`: ALSA's own configuration, then a file that makes `default` the
    ///   pulse plugin of libasound2-plugins (`pcm.!default { type pulse }`); this holds even if a
    ///   test sets its own HOME.
    /// - `HOME` (holding the same `.asoundrc`), `XDG_CONFIG_HOME`, `XDG_RUNTIME_DIR`: private
    ///   directories, so libpulse writes nothing into the real user's.
    pub fn envs(&self) -> Vec<(String, String)> {
        let dir = self.dir.path();
        let path = |p: PathBuf| p.to_string_lossy().into_owned();
        vec![
            ("PULSE_SERVER".into(), self.server()),
            (
                "ALSA_CONFIG_PATH".into(),
                format!("{}:{}", ALSA_CONF, dir.join("asound.conf").display()),
            ),
            ("HOME".into(), path(dir.join("home"))),
            ("XDG_CONFIG_HOME".into(), path(dir.join("home/.config"))),
            ("XDG_RUNTIME_DIR".into(), path(dir.join("run"))),
        ]
    }

    /// Runs `pactl` against this daemon and returns its stdout; panics if it fails.
    pub fn pactl(&self, args: &[&str]) -> String {
        let out = run_ok(
            Command::new("pactl")
                .arg("--server")
                .arg(self.server())
                .args(args),
            "pulseaudio-utils",
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The temporary directory holding the daemon's HOME, socket, FIFO and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.daemon.id()
    }

    /// Everything the daemon has logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }
}

impl Drop for Pulse {
    fn drop(&mut self) {
        // The watchdog goes first (without running its kill), so it cannot signal a reused pid.
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        self.stop.store(true, Ordering::Relaxed);
        if let Some(feeder) = self.feeder.take() {
            let _ = feeder.join();
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// ALSA's top-level configuration on Debian (libasound2-data).
const ALSA_CONF: &str = "/usr/share/alsa/alsa.conf";

/// Panics unless ALSA's pulse plugin (libasound2-plugins) and configuration are installed.
fn check_alsa_pulse_plugin() {
    assert!(
        Path::new(ALSA_CONF).exists(),
        "{ALSA_CONF} is missing (Debian package libasound2-data); run `make test`"
    );
    let mut dirs = vec![
        PathBuf::from("/usr/lib/alsa-lib"),
        PathBuf::from("/usr/lib64/alsa-lib"),
    ];
    if let Ok(entries) = fs::read_dir("/usr/lib") {
        dirs.extend(entries.flatten().map(|e| e.path().join("alsa-lib")));
    }
    let found = dirs
        .iter()
        .any(|d| d.join("libasound_module_pcm_pulse.so").exists());
    assert!(
        found,
        "ALSA's pulse plugin (libasound_module_pcm_pulse.so) is not installed: it comes with \
         the Debian package `libasound2-plugins`. Run `make test` (or scripts/setup.sh), which \
         installs it."
    );
}

/// Feeds `signal` into the daemon's FIFO at [`MIC_RATE`] in real time, 10 ms per write, until
/// `stop` is set. A write that finds the FIFO full (nobody recording) is dropped, not delayed.
fn start_feeder(fifo: &Path, signal: Signal, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    // The daemon created the FIFO and holds it open for reading and writing, so this open
    // neither blocks nor fails with ENXIO.
    let mut pipe = OpenOptions::new()
        .write(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(fifo)
        .unwrap_or_else(|e| panic!("opening {}: {e}", fifo.display()));
    // A pipe holds 64 KiB (0.68 s here) by default, which a new recording would get at once as
    // stale audio; one page (4 KiB, 42 ms) is closer to a sound card's buffer.
    let size = rustix::pipe::fcntl_setpipe_size(&pipe, 4096)
        .unwrap_or_else(|e| panic!("fcntl(F_SETPIPE_SZ) on {}: {e}", fifo.display()));
    assert!(size >= 4096, "pipe size {size}");
    std::thread::Builder::new()
        .name("pulse-mic-feeder".into())
        .spawn(move || {
            const CHUNK: u64 = MIC_RATE as u64 / 100; // 10 ms
            let period = Duration::from_millis(10);
            let start = Instant::now();
            let mut bytes = Vec::with_capacity(CHUNK as usize * 2);
            let mut chunk: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                // Chunk n holds the audio of [n, n+1) x 10 ms and exists once that time is over.
                let due = start + period * (chunk + 1) as u32;
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                bytes.clear();
                for i in chunk * CHUNK..(chunk + 1) * CHUNK {
                    bytes.extend_from_slice(&to_i16(signal.sample(i)).to_le_bytes());
                }
                match pipe.write(&bytes) {
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {} // nobody is recording
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => {
                        if !stop.load(Ordering::Relaxed) {
                            eprintln!(
                                "test microphone: writing to the PulseAudio FIFO failed: {e}"
                            );
                        }
                        return;
                    }
                }
                chunk += 1;
            }
        })
        .expect("starting the microphone feeder thread")
}

//! The microphone, through cpal's ALSA host (PulseAudio and PipeWire are reached through
//! ALSA's `default`). The device callback only copies samples into a lock-free ring, with a
//! record of when they were captured, and rings a doorbell (a one-slot channel, never
//! blocking the callback); the capture thread waits on the doorbell and turns the samples
//! into 10 ms chunks on the shared monotonic clock.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{
    BufferSize, Device, ErrorKind, SampleFormat, Stream, StreamConfig, StreamInstant,
    SupportedBufferSize, SupportedStreamConfigRange,
};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use rtrb::RingBuffer;

use super::frame::{AUDIO_RATE, AudioChunk, frames_to_duration};
use super::source::{AudioSource, CaptureError};

/// Frames per chunk handed to the pipeline: 10 ms.
const CHUNK: usize = 480;
/// Frames per device period asked of ALSA (50 ms); see `choose_config`.
const PERIOD: u32 = 2400;
/// Without data for this long the microphone is considered gone.
const SILENT_DEVICE: Duration = Duration::from_secs(2);

/// When a run of samples was captured, as the callback saw it.
#[derive(Clone, Copy)]
struct Stamp {
    capture: StreamInstant,
    frames: u32,
}

pub struct AlsaMic {
    device: String,
    /// cpal's id of the device without its host (`hw:CARD=Loopback,DEV=1`): opens it again.
    stable_name: Option<String>,
    device_channels: u16,
    out_channels: u16,
    // Held for its lifetime: dropping it stops the device.
    _stream: StreamHolder,
    samples: rtrb::Consumer<i16>,
    stamps: rtrb::Consumer<Stamp>,
    anchor: (StreamInstant, Instant),
    current: Option<(Instant, u32)>,
    failed: Arc<Mutex<Option<String>>>,
    xruns: Arc<AtomicU64>,
    lost: Arc<AtomicBool>,
    /// Rung by the callback after each period (and on an error): there may be news.
    doorbell: Receiver<()>,
    buf: Vec<i16>,
    period_logged: bool,
}

/// Wakes the capture thread without ever blocking the device callback: a full doorbell
/// already says "look".
fn ring(doorbell: &Sender<()>) {
    let _ = doorbell.try_send(());
}

/// cpal's ALSA stream is not `Send` on every version; it is only ever touched from the thread
/// that owns the source (created, then dropped), so it lives in its own holder thread.
struct StreamHolder {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for StreamHolder {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn find_device(name: Option<&str>) -> Result<(Device, String), CaptureError> {
    let host = cpal::default_host();
    let label = name.unwrap_or("default").to_string();
    let lookup = |n: &str| {
        let by_id = format!("alsa:{n}")
            .parse()
            .ok()
            .and_then(|id| host.device_by_id(&id));
        by_id.or_else(|| {
            host.input_devices().ok().and_then(|mut devs| {
                devs.find(|d| {
                    d.id().is_ok_and(|id| id.to_string() == format!("alsa:{n}"))
                        || d.to_string() == n
                })
            })
        })
    };
    let found = match name {
        None => host.default_input_device(),
        Some(n) => match lookup(n) {
            Some(d) => Some(d),
            None => match without_subdevice(n) {
                Ok(Some(device)) => {
                    tracing::debug!(asked = n, opening = %device, "ALSA subdevice 0: opening its device");
                    lookup(&device)
                }
                Ok(None) => None,
                Err(detail) => {
                    return Err(CaptureError::Microphone {
                        device: label,
                        detail,
                    });
                }
            },
        },
    };
    match found {
        Some(d) => Ok((d, label)),
        None => Err(CaptureError::MicrophoneNotFound {
            device: label,
            hint: microphone_hint(),
        }),
    }
}

/// ALSA names a PCM down to its subdevice, `hw:Loopback,1,0` (or `hw:CARD=Loopback,DEV=1,
/// SUBDEV=0`), but cpal lists and opens devices only (`hw:CARD=Loopback,DEV=1`), and ALSA then
/// takes the device's first free subdevice. Subdevice 0 is that one unless another program holds
/// it, so it maps to its device; another subdevice cannot be chosen through cpal, and is refused
/// rather than silently recording a different one. `Ok(None)`: not a name with a subdevice.
fn without_subdevice(name: &str) -> Result<Option<String>, String> {
    let Some((prefix, rest)) = name.split_once(':') else {
        return Ok(None);
    };
    let parts: Vec<&str> = rest.split(',').map(str::trim).collect();
    let [card, device, subdevice] = parts.as_slice() else {
        return Ok(None);
    };
    let card = card.strip_prefix("CARD=").unwrap_or(card);
    let device = device.strip_prefix("DEV=").unwrap_or(device);
    let subdevice = subdevice.strip_prefix("SUBDEV=").unwrap_or(subdevice);
    match (device.parse::<u32>(), subdevice.parse::<u32>()) {
        (Ok(device), Ok(0)) => Ok(Some(format!("{prefix}:CARD={card},DEV={device}"))),
        (Ok(device), Ok(sub)) => Err(format!(
            "subdevice {sub} cannot be chosen (ALSA opens the first free subdevice of \
             {prefix}:CARD={card},DEV={device}): use subdevice 0 or the device without one"
        )),
        _ => Ok(None),
    }
}

fn microphone_hint() -> String {
    let names: Vec<String> = list_microphones().into_iter().map(|m| m.id).collect();
    if names.is_empty() {
        " (no microphones found: is a sound card or PulseAudio present?)".into()
    } else {
        format!(" (microphones present: {})", names.join(", "))
    }
}

fn classify(device: &str, e: &cpal::Error) -> CaptureError {
    let device = device.to_string();
    match e.kind() {
        ErrorKind::DeviceBusy => CaptureError::MicrophoneBusy { device },
        ErrorKind::PermissionDenied => CaptureError::MicrophonePermission { device },
        ErrorKind::DeviceNotAvailable | ErrorKind::HostUnavailable => {
            CaptureError::MicrophoneNotFound {
                device,
                hint: microphone_hint(),
            }
        }
        _ => CaptureError::Microphone {
            device,
            detail: e.to_string(),
        },
    }
}

/// The config to open: 48 kHz, mono if offered else stereo (else the fewest channels),
/// 16-bit if offered else float.
fn choose_config(ranges: &[SupportedStreamConfigRange]) -> Option<(StreamConfig, SampleFormat)> {
    let ok = |r: &&SupportedStreamConfigRange| {
        r.min_sample_rate() <= AUDIO_RATE
            && r.max_sample_rate() >= AUDIO_RATE
            && matches!(r.sample_format(), SampleFormat::I16 | SampleFormat::F32)
            && r.channels() >= 1
    };
    let best = ranges.iter().filter(ok).min_by_key(|r| {
        let ch = match r.channels() {
            1 => 0,
            2 => 1,
            n => n as u32,
        };
        (ch, (r.sample_format() != SampleFormat::I16) as u32)
    })?;
    // cpal keeps two periods of buffer, and by default lets the device pick the period: 1024
    // frames (21 ms) on snd-aloop, so a capture thread held up for 43 ms (by the encoder, or
    // by a busy machine) loses samples. 50 ms periods give 100 ms of slack where the device
    // allows; meters still update 20 times a second.
    let buffer_size = match best.buffer_size() {
        SupportedBufferSize::Range { min, max } if (*min..=*max).contains(&PERIOD) => {
            BufferSize::Fixed(PERIOD)
        }
        _ => BufferSize::Default,
    };
    Some((
        StreamConfig {
            channels: best.channels(),
            sample_rate: AUDIO_RATE,
            buffer_size,
        },
        best.sample_format(),
    ))
}

/// What the capture callbacks write into and tell: the samples and their capture times,
/// the doorbell of the thread that reads them, and how the stream is faring.
struct Feed {
    samples: rtrb::Producer<i16>,
    stamps: rtrb::Producer<Stamp>,
    bell: Sender<()>,
    failed: Arc<Mutex<Option<String>>>,
    xruns: Arc<AtomicU64>,
    lost: Arc<AtomicBool>,
}

/// The input stream in `format`, its callbacks feeding `feed` (whole periods only: a period
/// that does not fit is dropped rather than split from its time stamp).
fn build_stream(
    dev: &Device,
    config: StreamConfig,
    format: SampleFormat,
    feed: Feed,
) -> Result<Stream, cpal::Error> {
    let Feed {
        samples: mut sample_tx,
        stamps: mut stamp_tx,
        bell,
        failed,
        xruns,
        lost,
    } = feed;
    let (error_bell, bell_i16, bell_f32) = (bell.clone(), bell.clone(), bell);
    let err_cb = move |e: cpal::Error| match e.kind() {
        ErrorKind::Xrun => {
            xruns.fetch_add(1, Ordering::Relaxed);
        }
        _ => {
            if let Ok(mut f) = failed.lock() {
                *f = Some(e.to_string());
            }
            lost.store(true, Ordering::Relaxed);
            ring(&error_bell);
        }
    };
    let ch = config.channels as usize;
    match format {
        SampleFormat::I16 => dev.build_input_stream::<i16, _, _>(
            config,
            move |data: &[i16], info: &cpal::InputCallbackInfo| {
                let frames = data.len() / ch;
                if sample_tx.slots() >= data.len() && stamp_tx.slots() >= 1 {
                    let _ = sample_tx.push_entire_slice(data);
                    let _ = stamp_tx.push(Stamp {
                        capture: info.timestamp().capture,
                        frames: frames as u32,
                    });
                }
                ring(&bell_i16);
            },
            err_cb,
            None,
        ),
        _ => dev.build_input_stream::<f32, _, _>(
            config,
            move |data: &[f32], info: &cpal::InputCallbackInfo| {
                let frames = data.len() / ch;
                if sample_tx.slots() >= data.len() && stamp_tx.slots() >= 1 {
                    if let Ok(chunk) = sample_tx.write_chunk_uninit(data.len()) {
                        chunk.fill_from_iter(
                            data.iter()
                                .map(|&s| (s.clamp(-1.0, 1.0) * 32767.0).round() as i16),
                        );
                    }
                    let _ = stamp_tx.push(Stamp {
                        capture: info.timestamp().capture,
                        frames: frames as u32,
                    });
                }
                ring(&bell_f32);
            },
            err_cb,
            None,
        ),
    }
}

/// The name cpal lists the device under, without its host prefix: what a reopen looks for.
fn stable_name(dev: &Device) -> Option<String> {
    dev.id().ok().map(|id| {
        let id = id.to_string();
        id.strip_prefix("alsa:")
            .map_or_else(|| id.clone(), str::to_string)
    })
}

/// The input configuration booth records with on `dev`: 48 kHz, 16-bit or float.
fn input_config(dev: &Device, label: &str) -> Result<(StreamConfig, SampleFormat), CaptureError> {
    let ranges: Vec<_> = dev
        .supported_input_configs()
        .map_err(|e| classify(label, &e))?
        .collect();
    choose_config(&ranges).ok_or_else(|| CaptureError::Microphone {
        device: label.to_string(),
        detail: "cannot record at 48000 Hz in 16-bit or float (try plughw: instead of hw:)".into(),
    })
}

impl AlsaMic {
    /// Opens `device` (ALSA's default when `None`) at 48 kHz and starts it.
    pub fn open(device: Option<&str>) -> Result<Self, CaptureError> {
        let (dev, label) = find_device(device)?;
        let stable_name = stable_name(&dev);
        let (config, format) = input_config(&dev, &label)?;
        let channels = config.channels;
        let (sample_tx, samples) =
            RingBuffer::<i16>::new(AUDIO_RATE as usize * 2 * channels as usize);
        let (stamp_tx, stamps) = RingBuffer::<Stamp>::new(4096);
        let failed = Arc::new(Mutex::new(None));
        let xruns = Arc::new(AtomicU64::new(0));
        let lost = Arc::new(AtomicBool::new(false));
        let (bell, doorbell) = crossbeam_channel::bounded(1);

        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = {
            let (failed, xruns, lost) = (failed.clone(), xruns.clone(), lost.clone());
            let thread_label = label.clone();
            std::thread::Builder::new()
                .name("booth-alsa".into())
                .spawn(move || {
                    let feed = Feed {
                        samples: sample_tx,
                        stamps: stamp_tx,
                        bell,
                        failed,
                        xruns,
                        lost,
                    };
                    let built = build_stream(&dev, config, format, feed);
                    let stream: Stream = match built {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = ready_tx.send(Err(classify(&thread_label, &e)));
                            return;
                        }
                    };
                    // StreamInstant counts from stream creation: pair it with the monotonic
                    // clock once, here, before any callback is interpreted.
                    let anchor = (stream.now(), Instant::now());
                    if let Err(e) = stream.play() {
                        let _ = ready_tx.send(Err(classify(&thread_label, &e)));
                        return;
                    }
                    let _ = ready_tx.send(Ok(anchor));
                    // Keep the stream alive until the source is dropped.
                    let _ = stop_rx.recv();
                    drop(stream);
                })
                .map_err(|e| CaptureError::Microphone {
                    device: label.clone(),
                    detail: e.to_string(),
                })?
        };
        let holder = StreamHolder {
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        let anchor = match ready_rx.recv() {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(CaptureError::Microphone {
                    device: label,
                    detail: "audio thread ended unexpectedly".into(),
                });
            }
        };
        let out_channels = channels.min(2);
        tracing::info!(device = %label, channels, ?format, "microphone opened");
        Ok(AlsaMic {
            device: label,
            stable_name,
            device_channels: channels,
            out_channels,
            _stream: holder,
            samples,
            stamps,
            anchor,
            current: None,
            failed,
            xruns,
            lost,
            doorbell,
            buf: Vec::new(),
            period_logged: false,
        })
    }

    fn to_instant(&self, at: StreamInstant) -> Instant {
        let (s0, i0) = self.anchor;
        if at >= s0 {
            i0 + at.duration_since(s0)
        } else {
            i0.checked_sub(s0.duration_since(at)).unwrap_or(i0)
        }
    }

    /// Capture instant of the next sample to be read, advancing the stamp cursor by `frames`.
    fn take_time(&mut self, mut frames: u32) -> Option<Instant> {
        let mut first = None;
        while frames > 0 {
            if self.current.is_none_or(|(_, left)| left == 0) {
                let s = self.stamps.pop().ok()?;
                if !self.period_logged {
                    // The device's period: how often the callback runs, and half of the
                    // ALSA buffer (cpal keeps two), which bounds how long a stall it survives.
                    tracing::info!(device = %self.device, frames = s.frames, "microphone period");
                    self.period_logged = true;
                }
                self.current = Some((self.to_instant(s.capture), s.frames));
            }
            let (at, left) = self.current?;
            first.get_or_insert(at);
            let n = left.min(frames);
            self.current = Some((at + frames_to_duration(n as u64), left - n));
            frames -= n;
        }
        first
    }
}

impl AudioSource for AlsaMic {
    fn describe(&self) -> String {
        format!(
            "microphone {} ({} ch, 48 kHz)",
            self.device, self.device_channels
        )
    }

    fn stable_name(&self) -> Option<String> {
        self.stable_name.clone()
    }

    fn channels(&self) -> u16 {
        self.out_channels
    }

    fn is_live(&self) -> bool {
        true
    }

    fn next_chunk(&mut self) -> Result<Option<AudioChunk>, CaptureError> {
        let ch = self.device_channels as usize;
        let want = CHUNK * ch;
        let silent_by = Instant::now() + SILENT_DEVICE;
        while self.samples.slots() < want {
            if self.lost.load(Ordering::Relaxed) {
                let detail = self
                    .failed
                    .lock()
                    .ok()
                    .and_then(|f| f.clone())
                    .unwrap_or_else(|| "device error".into());
                return Err(CaptureError::MicrophoneLost {
                    device: self.device.clone(),
                    detail,
                });
            }
            let why = match self.doorbell.recv_deadline(silent_by) {
                Ok(()) => continue,
                _ if self.samples.slots() >= want => break,
                // Reported with its cause at the top of the loop.
                _ if self.lost.load(Ordering::Relaxed) => continue,
                Err(RecvTimeoutError::Timeout) => {
                    format!("no sound data for {} s", SILENT_DEVICE.as_secs())
                }
                // The stream dropped its callbacks without an error.
                Err(RecvTimeoutError::Disconnected) => "its sound stream ended".to_string(),
            };
            return Err(CaptureError::MicrophoneLost {
                device: self.device.clone(),
                detail: why,
            });
        }
        self.buf.resize(want, 0);
        if self.samples.pop_entire_slice(&mut self.buf).is_err() {
            return Err(CaptureError::Microphone {
                device: self.device.clone(),
                detail: "sample ring out of step".into(),
            });
        }
        let captured = self.take_time(CHUNK as u32).unwrap_or_else(Instant::now);
        let samples = match self.device_channels {
            1 | 2 => self.buf.clone(),
            _ => self
                .buf
                .chunks_exact(ch)
                .flat_map(|f| [f[0], f[1]])
                .collect(),
        };
        let xruns = self.xruns.swap(0, Ordering::Relaxed);
        if xruns > 0 {
            tracing::warn!(device = %self.device, xruns, "microphone overrun: samples were lost");
        }
        Ok(Some(AudioChunk {
            channels: self.out_channels,
            samples,
            captured,
        }))
    }
}

/// A microphone for `booth devices`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MicListing {
    pub id: String,
    pub name: String,
    pub is_default: bool,
    pub channels: Vec<u16>,
    pub can_record_48k: bool,
}

pub fn list_microphones() -> Vec<MicListing> {
    let host = cpal::default_host();
    let default = host
        .default_input_device()
        .and_then(|d| d.id().ok())
        .map(|id| id.to_string());
    let Ok(devices) = host.input_devices() else {
        return Vec::new();
    };
    devices
        .map(|d| {
            let id = d.id().map(|i| i.to_string()).unwrap_or_default();
            let ranges: Vec<_> = d
                .supported_input_configs()
                .map(|r| r.collect())
                .unwrap_or_default();
            let mut channels: Vec<u16> = ranges.iter().map(|r| r.channels()).collect();
            channels.sort_unstable();
            channels.dedup();
            MicListing {
                is_default: default.as_deref() == Some(id.as_str()),
                name: d.to_string(),
                id: id.strip_prefix("alsa:").unwrap_or(&id).to_string(),
                channels,
                can_record_48k: choose_config(&ranges).is_some(),
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "alsa_tests.rs"]
mod tests;

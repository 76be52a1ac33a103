//! Builders for the MP4 boxes booth writes, on top of `mp4-atom`: the `ftyp` brands, the
//! sample descriptions (`avc1` + `avcC`, `mp4a` + `esds`), track and movie headers, and the
//! audio edit list. Kept apart so the fragmented writer and the finalizer describe the tracks
//! identically.

use mp4_atom::esds::{DecoderConfig, DecoderSpecific, EsDescriptor, SLConfig};
use mp4_atom::{
    Audio, Avc1, Avcc, Codec, Dinf, Dref, DrefEntry, Edts, Elst, ElstEntry, Esds, FixedPoint,
    FourCC, Ftyp, Hdlr, Mdhd, Mdia, Minf, Moov, Mp4a, Mvex, Mvhd, Smhd, Stbl, Stco, Stsc, Stsd,
    Stsz, StszSamples, Stts, Tkhd, Trak, Trex, Url, Visual, Vmhd,
};

use super::{
    AUDIO_TIMESCALE, AUDIO_TRACK, MOVIE_TIMESCALE, MuxError, TrackSetup, VIDEO_TIMESCALE,
    VIDEO_TRACK,
};

/// Sample flags for `trun`: a sync sample, and a sample that depends on others. Every entry
/// carries its flags explicitly: entries without flags would inherit "sync" from the first.
pub const SYNC_SAMPLE_FLAGS: u32 = 0x0200_0000;
pub const NON_SYNC_SAMPLE_FLAGS: u32 = 0x0101_0000;

pub fn ftyp(fragmented: bool) -> Ftyp {
    let brands: &[&[u8; 4]] = if fragmented {
        &[b"isom", b"iso6", b"avc1", b"mp41"]
    } else {
        &[b"isom", b"iso2", b"avc1", b"mp41"]
    };
    Ftyp {
        major_brand: FourCC::new(b"isom"),
        minor_version: 512,
        compatible_brands: brands.iter().map(|b| FourCC::new(b)).collect(),
    }
}

fn dinf() -> Dinf {
    Dinf {
        dref: Dref {
            entries: vec![DrefEntry::Url(Url {
                location: String::new(),
            })],
        },
    }
}

fn empty_stbl(codec: Codec) -> Stbl {
    Stbl {
        stsd: Stsd {
            codecs: vec![codec],
        },
        stts: Stts::default(),
        stsc: Stsc::default(),
        stsz: Stsz {
            samples: StszSamples::Different { sizes: vec![] },
        },
        stco: Some(Stco::default()),
        ..Default::default()
    }
}

pub fn video_codec(setup: &TrackSetup) -> Result<Codec, MuxError> {
    Ok(Codec::Avc1(Avc1 {
        visual: Visual {
            data_reference_index: 1,
            width: setup.width as u16,
            height: setup.height as u16,
            ..Default::default()
        },
        avcc: Avcc::new(&setup.sps, &setup.pps)?,
        btrt: None,
        colr: None,
        pasp: None,
        taic: None,
        fiel: None,
        spatial: None,
    }))
}

pub fn audio_codec(setup: &TrackSetup) -> Codec {
    let asc = &setup.audio_config;
    // The parsed fields are informational; the raw AudioSpecificConfig is what gets written.
    let profile = asc.first().map_or(2, |b| b >> 3);
    let freq_index = match asc[..] {
        [a, b, ..] => ((a & 0x07) << 1) | (b >> 7),
        _ => 3,
    };
    Codec::Mp4a(Mp4a {
        audio: Audio {
            data_reference_index: 1,
            channel_count: setup.audio_channels,
            sample_size: 16,
            sample_rate: FixedPoint::new(AUDIO_TIMESCALE as u16, 0),
        },
        esds: Esds {
            es_desc: EsDescriptor {
                es_id: AUDIO_TRACK as u16,
                depends_on_es_id: None,
                url: None,
                ocr_es_id: None,
                stream_priority: 0,
                dec_config: DecoderConfig {
                    object_type_indication: 0x40,
                    stream_type: 0x05,
                    up_stream: 0,
                    buffer_size_db: Default::default(),
                    max_bitrate: setup.audio_bitrate,
                    avg_bitrate: setup.audio_bitrate,
                    dec_specific: Some(DecoderSpecific {
                        profile,
                        freq_index,
                        chan_conf: setup.audio_channels as u8,
                        raw: asc.clone(),
                    }),
                },
                sl_config: SLConfig {},
            },
        },
        btrt: None,
        taic: None,
    })
}

/// Track durations in their own timescales, and the audio samples really recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Durations {
    pub video: u64,
    pub audio_media: u64,
    /// Audio presented after the priming is skipped, in audio samples.
    pub audio_presented: u64,
}

fn to_movie(value: u64, timescale: u32) -> u64 {
    (value as u128 * MOVIE_TIMESCALE as u128 / timescale as u128) as u64
}

impl Durations {
    pub fn movie(&self) -> u64 {
        to_movie(self.video, VIDEO_TIMESCALE).max(to_movie(self.audio_presented, AUDIO_TIMESCALE))
    }
}

fn tkhd(track_id: u32, duration: u64, audio: bool, setup: &TrackSetup) -> Tkhd {
    Tkhd {
        track_id,
        duration,
        enabled: true,
        in_movie: true,
        alternate_group: if audio { 1 } else { 0 },
        volume: if audio {
            FixedPoint::new(1, 0)
        } else {
            FixedPoint::new(0, 0)
        },
        width: if audio {
            FixedPoint::new(0, 0)
        } else {
            FixedPoint::new(setup.width as u16, 0)
        },
        height: if audio {
            FixedPoint::new(0, 0)
        } else {
            FixedPoint::new(setup.height as u16, 0)
        },
        ..Default::default()
    }
}

fn mdhd(timescale: u32, duration: u64) -> Mdhd {
    Mdhd {
        timescale,
        duration,
        language: "und".to_string(),
        ..Default::default()
    }
}

/// The audio edit list: skip the encoder's priming samples, present `presented` samples
/// (`None` while fragmented, where the length is not known yet and 0 means "all of it").
fn audio_edts(priming: u32, presented: Option<u64>) -> Edts {
    Edts {
        elst: Some(Elst {
            entries: vec![ElstEntry {
                segment_duration: presented.map_or(0, |p| to_movie(p, AUDIO_TIMESCALE)),
                media_time: Some(priming as u64),
                media_rate: FixedPoint::new(1, 0),
            }],
        }),
    }
}

pub fn video_trak(setup: &TrackSetup, stbl: Stbl, duration: u64) -> Trak {
    Trak {
        tkhd: tkhd(
            VIDEO_TRACK,
            to_movie(duration, VIDEO_TIMESCALE),
            false,
            setup,
        ),
        edts: None,
        meta: None,
        mdia: Mdia {
            mdhd: mdhd(VIDEO_TIMESCALE, duration),
            hdlr: Hdlr {
                handler: FourCC::new(b"vide"),
                name: "booth video".to_string(),
            },
            minf: Minf {
                vmhd: Some(Vmhd::default()),
                dinf: dinf(),
                stbl,
                ..Default::default()
            },
        },
        senc: None,
        tref: None,
        udta: None,
    }
}

pub fn audio_trak(setup: &TrackSetup, stbl: Stbl, durations: Option<Durations>) -> Trak {
    let presented = durations.map(|d| d.audio_presented);
    Trak {
        tkhd: tkhd(
            AUDIO_TRACK,
            presented.map_or(0, |p| to_movie(p, AUDIO_TIMESCALE)),
            true,
            setup,
        ),
        edts: Some(audio_edts(setup.audio_priming, presented)),
        meta: None,
        mdia: Mdia {
            mdhd: mdhd(AUDIO_TIMESCALE, durations.map_or(0, |d| d.audio_media)),
            hdlr: Hdlr {
                handler: FourCC::new(b"soun"),
                name: "booth audio".to_string(),
            },
            minf: Minf {
                smhd: Some(Smhd::default()),
                dinf: dinf(),
                stbl,
                ..Default::default()
            },
        },
        senc: None,
        tref: None,
        udta: None,
    }
}

fn mvhd(duration: u64) -> Mvhd {
    Mvhd {
        timescale: MOVIE_TIMESCALE,
        duration,
        rate: FixedPoint::new(1, 0),
        volume: FixedPoint::new(1, 0),
        next_track_id: AUDIO_TRACK + 1,
        ..Default::default()
    }
}

/// The init `moov` of the fragmented file: both tracks with empty sample tables, plus `mvex`.
pub fn init_moov(setup: &TrackSetup) -> Result<Moov, MuxError> {
    let trex = |track_id| Trex {
        track_id,
        default_sample_description_index: 1,
        default_sample_duration: 0,
        default_sample_size: 0,
        default_sample_flags: 0,
    };
    Ok(Moov {
        mvhd: mvhd(0),
        mvex: Some(Mvex {
            mehd: None,
            trex: vec![trex(VIDEO_TRACK), trex(AUDIO_TRACK)],
        }),
        trak: vec![
            video_trak(setup, empty_stbl(video_codec(setup)?), 0),
            audio_trak(setup, empty_stbl(audio_codec(setup)), None),
        ],
        ..Default::default()
    })
}

/// The `moov` of a finished file, given each track's complete sample table.
pub fn final_moov(setup: &TrackSetup, video: Stbl, audio: Stbl, durations: Durations) -> Moov {
    Moov {
        mvhd: mvhd(durations.movie()),
        trak: vec![
            video_trak(setup, video, durations.video),
            audio_trak(setup, audio, Some(durations)),
        ],
        ..Default::default()
    }
}

/// Recovers the track description from an init or final `moov` written by booth.
pub fn track_setup(moov: &Moov) -> Option<TrackSetup> {
    let mut setup = TrackSetup {
        width: 0,
        height: 0,
        sps: vec![],
        pps: vec![],
        audio_channels: 0,
        audio_config: vec![],
        audio_priming: 0,
        audio_bitrate: 0,
    };
    let mut have = (false, false);
    for trak in &moov.trak {
        match trak.mdia.minf.stbl.stsd.codecs.first()? {
            Codec::Avc1(avc1) => {
                setup.width = avc1.visual.width as u32;
                setup.height = avc1.visual.height as u32;
                setup.sps = avc1.avcc.sequence_parameter_sets.first()?.clone();
                setup.pps = avc1.avcc.picture_parameter_sets.first()?.clone();
                have.0 = trak.tkhd.track_id == VIDEO_TRACK;
            }
            Codec::Mp4a(mp4a) => {
                setup.audio_channels = mp4a.audio.channel_count;
                let dc = &mp4a.esds.es_desc.dec_config;
                setup.audio_config = dc.dec_specific.as_ref()?.raw.clone();
                setup.audio_bitrate = dc.avg_bitrate;
                setup.audio_priming = trak
                    .edts
                    .as_ref()
                    .and_then(|e| e.elst.as_ref())
                    .and_then(|l| l.entries.first())
                    .and_then(|e| e.media_time)
                    .unwrap_or(0) as u32;
                have.1 = trak.tkhd.track_id == AUDIO_TRACK;
            }
            _ => return None,
        }
    }
    (have == (true, true)).then_some(setup)
}

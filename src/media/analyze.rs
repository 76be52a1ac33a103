//! Level and picture analysis (stub until the analysis branch lands).

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    pub rms_dbfs: f32,
    pub peak_dbfs: f32,
    pub clipped: bool,
}

pub struct LevelMeter;

impl LevelMeter {
    pub fn new(_channels: u16) -> Self {
        LevelMeter
    }
    pub fn push(&mut self, _samples: &[i16]) -> Vec<Level> {
        Vec::new()
    }
}

//! Pixel format conversion to I420 (stub).

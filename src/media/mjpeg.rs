//! MJPEG decoding to I420 (stub).

//! Level and picture analysis (stub).

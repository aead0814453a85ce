//! Glob matching (Redis stringmatchlen).

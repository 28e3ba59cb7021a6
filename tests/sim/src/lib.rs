//! Simulators (placeholder).

//! detect (to be built).

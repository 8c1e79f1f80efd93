//! policy (to be built).

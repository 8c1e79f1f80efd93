//! agent (to be built).

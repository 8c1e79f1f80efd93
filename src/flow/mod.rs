//! flow (to be built).

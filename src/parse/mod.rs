//! parse (to be built).

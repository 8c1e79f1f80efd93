//! notify (to be built).

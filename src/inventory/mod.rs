//! inventory (to be built).

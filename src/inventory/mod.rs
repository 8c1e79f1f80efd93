//! Who owns what: campus networks, owners by network, host records, account owners,
//! protected and allow-listed assets. Pure lookups built from config.

mod campus;

pub use campus::Campus;

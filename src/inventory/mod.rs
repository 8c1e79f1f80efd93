//! Who owns what: campus networks, owners by network, host records, account owners,
//! protected and allow-listed assets. Pure lookups built from config.

mod campus;
pub mod correlate;
mod owners;

pub use campus::Campus;
pub use correlate::Correlator;
pub use owners::Inventory;

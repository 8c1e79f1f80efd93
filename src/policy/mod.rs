//! The pure policy engine: incident lifecycle, business-day calendar, severity.
//!
//! Owns every change to an [`Incident`](crate::model::Incident). Pure: no I/O, no clock reads,
//! no randomness — time is always an argument. Must not touch the store, notifiers or hooks;
//! it only returns [`Effect`](crate::model::Effect)s for the shell to carry out.

mod calendar;
mod engine;
mod settings;
mod severity;

pub use calendar::Calendar;
pub use engine::{Step, open, step};
pub use settings::Policy;
pub use severity::severity;

//! Plain data shared by every part of cordon: what was seen ([`Observation`]), what it means
//! ([`Evidence`], [`Finding`]), who it is about ([`Subject`]), and the incident lifecycle's
//! vocabulary ([`Incident`], [`Event`], [`Effect`]); a sensor's own health ([`SensorStats`]).
//!
//! Owns no behaviour beyond validation of canonical values; depends on nothing else in the crate.

mod category;
mod effect;
mod event;
mod evidence;
mod incident;
mod observation;
mod sensor;
mod subject;

pub use category::{Category, Severity};
pub use effect::{Audience, Effect, EffectKind, EnforceAction, NoticeKind};
pub use event::{Answer, Event, HoldReason, OfficeAction};
pub use evidence::{Evidence, EvidenceKind, Finding, HostInfo, Owner};
pub use incident::{Deadline, DeadlineKind, Deferral, Incident, IncidentId, Phase, Plan};
pub use observation::{ObsKind, Observation, Proto, Signature};
pub use sensor::SensorStats;
pub use subject::{AccountName, InvalidValue, MacAddr, Subject};

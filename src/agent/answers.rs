//! The answer pages' and office API's view of the store.
use super::run::Core;
use crate::api::{AnswerOutcome, AnswerSink, ApiError, IncidentView};
use crate::model::{Answer, Event, Incident, IncidentId};
use crate::store::{IncidentFilter, Store};
use jiff::Timestamp;
use std::sync::Arc;

pub struct StoreAnswers(pub Arc<Core>);

impl AnswerSink for StoreAnswers {
    fn answer(
        &self,
        id: &IncidentId,
        answer: Answer,
        by: &str,
        now: Timestamp,
    ) -> Result<AnswerOutcome, ApiError> {
        let core = &self.0;
        let step = {
            let mut store = core.lock_store();
            if store
                .incident(id)
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .is_none()
            {
                return Err(ApiError::NotFound);
            }
            super::apply_event(
                &mut *store,
                &core.policy,
                id,
                &Event::OwnerAnswered {
                    answer,
                    by: by.to_string(),
                },
                &format!("owner:{by}"),
                now,
            )
            .map_err(|e| ApiError::Internal(e.to_string()))?
        };
        core.wake.notify_one();
        Ok(AnswerOutcome {
            recorded: if step.audit.is_empty() {
                "Your answer was recorded.".into()
            } else {
                step.audit.join(" ")
            },
            repair_by: step.incident.plan.as_ref().map(|p| p.repair_by),
            next_deadline: step.incident.next_deadline(),
        })
    }
}

impl IncidentView for StoreAnswers {
    fn get(&self, id: &IncidentId) -> Result<Option<Incident>, ApiError> {
        self.0
            .lock_store()
            .incident(id)
            .map_err(|e| ApiError::Internal(e.to_string()))
    }
    fn list_open(&self, limit: usize) -> Result<Vec<Incident>, ApiError> {
        let mut v = self
            .0
            .lock_store()
            .incidents(&IncidentFilter {
                include_closed: false,
                limit: None,
            })
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        v.reverse();
        v.truncate(limit);
        Ok(v)
    }
}

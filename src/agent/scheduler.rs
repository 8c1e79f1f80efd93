//! Fires deadlines: sleeps until the earliest one in the store (at most a second, so changes
//! from other processes are seen), then hands every due incident a `Tick`.
use super::run::Core;
use crate::store::Store;
use jiff::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub async fn deadlines(core: Arc<Core>, shutdown: CancellationToken) {
    loop {
        let now = Timestamp::now();
        let fired = {
            let mut store = core.lock_store();
            super::fire_due(&mut *store, &core.policy, now)
        };
        match fired {
            Ok(steps) if !steps.is_empty() => {
                for s in &steps {
                    tracing::info!(incident = %s.incident.id, phase = s.incident.phase.name(), "deadline reached");
                }
                core.wake.notify_one();
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot fire deadlines"),
        }
        let next = core.lock_store().next_deadline().ok().flatten();
        let sleep = next
            .map(|t| {
                Duration::try_from(t.duration_since(Timestamp::now()))
                    .unwrap_or(Duration::ZERO)
                    .min(Duration::from_secs(1))
            })
            .unwrap_or(Duration::from_secs(1));
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

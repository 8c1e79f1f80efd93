//! Carries out effects from the outbox: renders and delivers notices, calls hooks through the
//! guards, and turns each result into a store update plus, where the engine cares, an event.
use crate::config::Config;
use crate::enforce::{Enforcer, HookValues, IdempotencyKey, Outcome};
use crate::model::{
    Audience, EffectKind, EnforceAction, Event, Evidence, HoldReason, Incident, NoticeKind,
};
use crate::notify::{self, Message, Notifier, Templates};
use crate::store::OutboxItem;
use jiff::Timestamp;
use std::time::Duration;

/// What became of one attempt.
#[derive(Debug)]
pub enum Outcome2 {
    /// Finished (ok or failed for good), with a result for the record and an engine event.
    Finished {
        ok: bool,
        result: String,
        event: Option<Event>,
    },
    /// Try again after `after`; `event`, if any, goes to the engine now.
    Retry {
        error: String,
        after: Duration,
        event: Option<Event>,
    },
}

pub struct Executor {
    pub cfg: Config,
    pub notifier: Notifier,
    pub enforcer: Enforcer,
    pub templates: Templates,
}

impl Executor {
    /// Carry out one effect of `incident`. `attempts` counts earlier tries.
    pub async fn execute(
        &self,
        item: &OutboxItem,
        incident: &Incident,
        evidence: &[Evidence],
        now: Timestamp,
    ) -> Outcome2 {
        match &item.effect.kind {
            EffectKind::Notify {
                notice,
                audience,
                reason,
            } => {
                self.notice(item, incident, evidence, *notice, *audience, reason, now)
                    .await
            }
            EffectKind::Hook { action } => self.hook(item, incident, *action).await,
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn notice(
        &self,
        item: &OutboxItem,
        incident: &Incident,
        evidence: &[Evidence],
        notice: NoticeKind,
        audience: Audience,
        reason: &str,
        now: Timestamp,
    ) -> Outcome2 {
        let to = notify::recipients(audience, incident, &self.cfg);
        if to.is_empty() {
            return Outcome2::Finished {
                ok: true,
                result: format!("no recipients for {}", notify::audience_name(audience)),
                event: None,
            };
        }
        // Only the owner answers; the link is scoped to this incident and this recipient.
        let link = (audience == Audience::Owner)
            .then(|| notify::answer_link(&self.cfg.notify, &incident.id, &to[0], now));
        let ctx = notify::context(
            incident,
            evidence,
            notice,
            reason,
            &self.cfg.calendar.timezone.tz,
            link,
            &self.cfg.office,
        );
        let rendered = match notify::render(&self.templates, &ctx) {
            Ok(r) => r,
            Err(e) => {
                return Outcome2::Finished {
                    ok: false,
                    result: format!("template error: {e}"),
                    event: (audience == Audience::Owner).then(|| Event::NoticeFailed {
                        key: item.key.clone(),
                        notice,
                        permanent: true,
                        reason: e.to_string(),
                    }),
                };
            }
        };
        let msg = Message::new(
            to.clone(),
            rendered,
            &ctx,
            incident.id.clone(),
            notice,
            audience,
            item.key.clone(),
        );
        let owner = audience == Audience::Owner;
        match self.notifier.deliver(&msg).await {
            Ok(()) => Outcome2::Finished {
                ok: true,
                result: format!("delivered to {}", to.join(", ")),
                event: owner.then(|| Event::NoticeDelivered {
                    key: item.key.clone(),
                    notice,
                }),
            },
            Err(e) => {
                let retry = &self.cfg.notify.retry;
                let attempt = item.attempts + 1;
                if !e.permanent() && attempt < retry.max_attempts.max(1) {
                    let after = e
                        .retry_after()
                        .unwrap_or_else(|| notify::backoff(retry, attempt));
                    Outcome2::Retry {
                        error: e.to_string(),
                        after,
                        event: None,
                    }
                } else {
                    Outcome2::Finished {
                        ok: false,
                        result: format!("delivery to {} failed: {e}", to.join(", ")),
                        event: owner.then(|| Event::NoticeFailed {
                            key: item.key.clone(),
                            notice,
                            permanent: true,
                            reason: e.to_string(),
                        }),
                    }
                }
            }
        }
    }

    async fn hook(
        &self,
        item: &OutboxItem,
        incident: &Incident,
        action: EnforceAction,
    ) -> Outcome2 {
        let key = match IdempotencyKey::parse(&item.key) {
            Ok(k) => k,
            Err(e) => {
                return Outcome2::Finished {
                    ok: false,
                    result: format!("refused: {e}"),
                    event: Some(done(item, action, false, e.to_string())),
                };
            }
        };
        let values = HookValues::for_subject(
            incident.id.clone(),
            action,
            key,
            &incident.subject,
            incident.host.mac,
        );
        let protected = incident.host.protected;
        match self
            .enforcer
            .execute(&values, protected, incident.approved)
            .await
        {
            Outcome::Done { detail } => Outcome2::Finished {
                ok: true,
                result: format!("done: {detail}"),
                event: Some(done(item, action, true, detail)),
            },
            Outcome::DryRun { rendered } => Outcome2::Finished {
                ok: true,
                result: format!("dry run (nothing executed): {rendered}"),
                event: Some(done(item, action, true, format!("dry run: {rendered}"))),
            },
            Outcome::Held(reason) => Outcome2::Finished {
                ok: false,
                result: format!("held: {reason:?}"),
                event: Some(Event::EnforcementHeld {
                    key: item.key.clone(),
                    action,
                    reason,
                }),
            },
            Outcome::Transient { error } => {
                // Enforcement is never given up on a transient failure: a hook that is down
                // at the deadline gets the call once it is back (with capped backoff).
                let retry = &self.cfg.enforce.retry;
                let attempts = item.attempts.saturating_add(1);
                let event = failing_alert_due(attempts, retry.max_attempts).then(|| {
                    Event::EnforcementFailing {
                        key: item.key.clone(),
                        action,
                        attempts,
                        error: error.clone(),
                    }
                });
                Outcome2::Retry {
                    after: crate::enforce::backoff(retry, item.attempts),
                    error,
                    event,
                }
            }
            Outcome::Permanent { error } => Outcome2::Finished {
                ok: false,
                result: format!("failed: {error}"),
                event: Some(done(item, action, false, error)),
            },
            Outcome::NoHook => Outcome2::Finished {
                ok: false,
                result: format!("no {} hook configured", action.as_str()),
                event: Some(Event::EnforcementHeld {
                    key: item.key.clone(),
                    action,
                    reason: HoldReason::HookFailed,
                }),
            },
        }
    }
}

/// Is the office told, at this many failed attempts in a row, that a hook is failing? At
/// `max_attempts`, then again at every power of two from twice that on (a hook down for days
/// reminds ever less often), so an alert is not lost for good when `max_attempts` is lowered
/// below the attempts an item has made already (across a restart).
fn failing_alert_due(attempts: u32, max_attempts: u32) -> bool {
    let max = max_attempts.max(1);
    attempts == max || attempts >= max.saturating_mul(2) && attempts.is_power_of_two()
}

fn done(item: &OutboxItem, action: EnforceAction, ok: bool, detail: String) -> Event {
    Event::EnforcementDone {
        key: item.key.clone(),
        action,
        ok,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::failing_alert_due;

    #[test]
    fn a_failing_hook_alerts_at_max_attempts_then_at_powers_of_two() {
        let due = |max| {
            (1..=70)
                .filter(|&a| failing_alert_due(a, max))
                .collect::<Vec<_>>()
        };
        assert_eq!(due(3), [3, 8, 16, 32, 64]);
        assert_eq!(due(5), [5, 16, 32, 64]);
        assert_eq!(due(8), [8, 16, 32, 64]);
        assert_eq!(due(0), [1, 2, 4, 8, 16, 32, 64], "0 counts as 1");
        // Lowered from 10 to 3 after an item had failed 5 times: it still alerts, at 8.
        assert!((6..=8).any(|a| failing_alert_due(a, 3)));
        // A huge max_attempts does not overflow: it alerts at max_attempts only.
        assert!(failing_alert_due(u32::MAX, u32::MAX));
        assert!(!failing_alert_due(1 << 31, u32::MAX));
    }
}

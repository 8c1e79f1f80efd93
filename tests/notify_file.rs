//! File channel, per-recipient rate limit, template overrides, answer tokens, recipients.
#[path = "support/notify_fixture.rs"]
mod notify_fixture;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cordon::model::*;
use cordon::notify::token::{TokenError, sign, verify};
use cordon::notify::{self, DeliveryError, Message, Notifier, RenderError, Templates};
use notify_fixture::*;

fn msg(to: &str, kind: NoticeKind, key: &str) -> Message {
    let cfg = config("");
    let inc = incident(Category::One);
    let tz = jiff::tz::TimeZone::get(TZ).unwrap();
    let ctx = notify::context(&inc, &[evidence()], kind, "test", &tz, None, &cfg.office);
    let r = notify::render(&Templates::builtin(), &ctx).unwrap();
    Message::new(
        vec![to.into()],
        r,
        &ctx,
        inc.id.clone(),
        kind,
        Audience::Owner,
        key.into(),
    )
}

fn file_notifier(dir: &std::path::Path, per_hour: u32) -> Notifier {
    let cfg = config(&format!(
        "per_recipient_per_hour = {per_hour}\n[notify.file]\ndir = \"{}\"\n",
        dir.display()
    ));
    Notifier::from_config(&cfg.notify).unwrap()
}

fn eml_files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn file_channel_writes_one_complete_file_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let n = file_notifier(dir.path(), 100);
    let m = msg(
        "dana@chem.campus.edu",
        NoticeKind::First,
        "CRD-2026-000123/1/notify",
    );
    n.deliver(&m).await.unwrap();
    // A retry of the same effect (same key) is not written twice.
    n.deliver(&m).await.unwrap();
    n.deliver(&msg(
        "dana@chem.campus.edu",
        NoticeKind::First,
        "CRD-2026-000123/3/notify",
    ))
    .await
    .unwrap();
    n.deliver(&msg(
        "dana@chem.campus.edu",
        NoticeKind::Second,
        "CRD-2026-000123/2/notify",
    ))
    .await
    .unwrap();
    let files = eml_files(dir.path());
    // Four deliveries of three distinct messages: three files, no temporary files left.
    assert_eq!(files.len(), 3, "{files:?}");
    for f in &files {
        assert!(f.ends_with(".eml") && !f.starts_with('.'), "{f}");
        assert!(f.contains("-CRD-2026-000123-"), "{f}");
    }
    assert_eq!(files.iter().filter(|f| f.contains("-first-")).count(), 2);
    assert_eq!(files.iter().filter(|f| f.contains("-second-")).count(), 1);
    let first = files.iter().find(|f| f.contains("-first-")).unwrap();
    let text = std::fs::read_to_string(dir.path().join(first)).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("To: dana@chem.campus.edu"));
    assert!(head.contains("Message-ID: <CRD-2026-000123.1.notify@cordon>"));
    assert!(head.contains("X-Cordon-Key: CRD-2026-000123/1/notify"));
    assert!(head.contains(&format!("Subject: {}", m.subject)));
    assert!(body.contains("2026-11-20 16:02:11 EST (-05:00)"));
    assert!(body.contains("SRC=10.1.2.3 DST=203.0.113.7"));
}

#[tokio::test]
async fn rate_limit_delays_not_drops() {
    let dir = tempfile::tempdir().unwrap();
    let n = file_notifier(dir.path(), 2);
    let m = |k: &str| msg("dana@chem.campus.edu", NoticeKind::First, k);
    n.deliver(&m("k/1")).await.unwrap();
    n.deliver(&m("k/2")).await.unwrap();
    let err = n.deliver(&m("k/3")).await.unwrap_err();
    match &err {
        DeliveryError::RateLimited {
            recipient,
            retry_after,
        } => {
            assert_eq!(recipient, "dana@chem.campus.edu");
            // 2 per hour: one cell every 30 minutes.
            assert!(retry_after.as_secs() > 25 * 60 && retry_after.as_secs() <= 30 * 60);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        !err.permanent(),
        "rate limiting must be retried, never dropped"
    );
    assert_eq!(
        err.retry_after(),
        Some(*match &err {
            DeliveryError::RateLimited { retry_after, .. } => retry_after,
            _ => unreachable!(),
        })
    );
    // Case does not dodge the limit; another recipient is not affected.
    assert!(
        n.deliver(&msg("DANA@chem.campus.edu", NoticeKind::First, "k/4"))
            .await
            .is_err()
    );
    n.deliver(&msg("office@campus.edu", NoticeKind::First, "k/5"))
        .await
        .unwrap();
    assert_eq!(eml_files(dir.path()).len(), 3);
}

#[test]
fn templates_override_fallback_and_compile_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("first.j2"),
        "Subject: Hey {{ incident_id }} <{{ address }}>\n\nSeen {{ evidence_time }}; ports {{ ports|join(\"/\") }}; raw {{ raw_lines|join(\" | \") }}\n",
    )
    .unwrap();
    let t = Templates::load(Some(dir.path())).unwrap();
    assert!(t.origin("first").unwrap().ends_with("first.j2"));
    assert!(t.origin("second").unwrap().starts_with("built-in"));
    let cfg = config("");
    let tz = jiff::tz::TimeZone::get(TZ).unwrap();
    let mut inc = incident(Category::One);
    inc.host.hostname = Some("<b>&x</b>".into());
    let ctx = notify::context(
        &inc,
        &[evidence()],
        NoticeKind::First,
        "r",
        &tz,
        None,
        &cfg.office,
    );
    let r = notify::render(&t, &ctx).unwrap();
    // No HTML escaping in text mail.
    assert_eq!(r.subject, "Hey CRD-2026-000123 <10.1.2.3>");
    assert!(
        r.body
            .starts_with("Seen 2026-11-20 16:02:11 EST (-05:00); ports 22/2222; raw Nov 20")
    );
    // A template without an override falls back to the built-in.
    let ctx2 = notify::context(
        &inc,
        &[evidence()],
        NoticeKind::Second,
        "r",
        &tz,
        None,
        &cfg.office,
    );
    let r2 = notify::render(&t, &ctx2).unwrap();
    assert!(r2.subject.contains("SECOND NOTICE"));
    assert!(r2.body.contains("Host name:     <b>&x</b>"));

    // A broken template is a config error naming the file.
    std::fs::write(dir.path().join("closed.j2"), "Subject: {% if %}\n").unwrap();
    let err = Templates::load(Some(dir.path())).unwrap_err();
    assert!(matches!(err, RenderError::Compile { .. }));
    assert!(err.to_string().contains("closed.j2"), "{err}");

    // A template without the Subject line is refused at load, naming the file and why.
    let dir2 = tempfile::tempdir().unwrap();
    std::fs::write(dir2.path().join("first.j2"), "Hello\n").unwrap();
    let err = Templates::load(Some(dir2.path())).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("first.j2") && text.contains("Subject:"),
        "{text}"
    );
}

#[test]
fn every_builtin_renders_and_actions_follow_subject_and_category() {
    let cfg = config("");
    let tz = jiff::tz::TimeZone::get(TZ).unwrap();
    let t = Templates::builtin();
    for kind in [
        NoticeKind::First,
        NoticeKind::Second,
        NoticeKind::Escalated,
        NoticeKind::Enforced,
        NoticeKind::Released,
        NoticeKind::Held,
        NoticeKind::Closed,
        NoticeKind::Briefing,
        NoticeKind::OfficeAlert,
    ] {
        let ctx = notify::context(
            &incident(Category::One),
            &[evidence()],
            kind,
            "why",
            &tz,
            None,
            &cfg.office,
        );
        let r = notify::render(&t, &ctx).unwrap();
        assert!(
            r.subject.contains("CRD-2026-000123"),
            "{kind:?}: {}",
            r.subject
        );
        assert!(r.body.contains("why"), "{kind:?}");
    }
    let mut three = incident(Category::Three);
    three.deadlines.clear();
    let ctx = notify::context(&three, &[], NoticeKind::First, "", &tz, None, &cfg.office);
    assert_eq!(ctx.action, "none (Category 3 is never enforced)");
    assert_eq!(ctx.deadline, None);
    let r = notify::render(&t, &ctx).unwrap();
    assert!(r.body.contains("none (Category 3 is never enforced)"));

    let mut acct = incident(Category::One);
    acct.subject = Subject::Account("alice".to_string().try_into().unwrap());
    let ctx = notify::context(
        &acct,
        &[evidence()],
        NoticeKind::First,
        "",
        &tz,
        None,
        &cfg.office,
    );
    assert_eq!(ctx.action, "the account will be locked");
    assert_eq!(ctx.account.as_deref(), Some("alice"));

    // Summer time shows EDT.
    let mut e = evidence();
    e.first_seen = ts("2026-07-01T12:00:00Z");
    let ctx = notify::context(
        &incident(Category::One),
        &[e],
        NoticeKind::First,
        "",
        &tz,
        None,
        &cfg.office,
    );
    assert_eq!(ctx.evidence_time, "2026-07-01 08:00:00 EDT (-04:00)");
}

#[test]
fn tokens_are_scoped_and_tamper_evident() {
    let secret = b"0123456789abcdef";
    let a = IncidentId::new(2026, 1);
    let b = IncidentId::new(2026, 2);
    let exp = ts("2026-12-01T00:00:00Z");
    let now = ts("2026-11-25T00:00:00Z");
    let tok = sign(secret, &a, "dana@chem.campus.edu", exp);
    let c = verify(secret, &tok, now).unwrap();
    assert_eq!(
        (c.incident, c.recipient.as_str(), c.expires),
        (a.clone(), "dana@chem.campus.edu", exp)
    );

    // Expired (exactly at and after expiry).
    assert_eq!(verify(secret, &tok, exp), Err(TokenError::Expired(exp)));

    // Swap in another incident's or recipient's payload, keeping the MAC: rejected.
    let (_, mac) = tok.split_once('.').unwrap();
    for payload in [
        format!("{}\ndana@chem.campus.edu\n{}", b, exp.as_second()),
        format!("{}\nmallory@evil.example\n{}", a, exp.as_second()),
        format!("{}\ndana@chem.campus.edu\n{}", a, exp.as_second() + 86400),
    ] {
        let forged = format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), mac);
        assert_eq!(verify(secret, &forged, now), Err(TokenError::BadSignature));
    }
    // A token for another incident/recipient names that one, not ours.
    let other = sign(secret, &b, "eve@campus.edu", exp);
    let c2 = verify(secret, &other, now).unwrap();
    assert_ne!(c2.incident, a);
    assert_ne!(c2.recipient, "dana@chem.campus.edu");

    // Flip one character anywhere in the MAC.
    let mut bytes = tok.clone().into_bytes();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(bytes).unwrap();
    assert_eq!(verify(secret, &flipped, now), Err(TokenError::BadSignature));

    // Wrong key, garbage.
    assert_eq!(
        verify(b"other key", &tok, now),
        Err(TokenError::BadSignature)
    );
    for junk in ["", ".", "abc", "a.b.c", "%%%.%%%", &"A".repeat(5000)] {
        assert_eq!(
            verify(secret, junk, now),
            Err(TokenError::Malformed),
            "{junk:?}"
        );
    }
}

#[test]
fn recipients_by_audience() {
    let cfg = config("");
    let mut inc = incident(Category::One);
    assert_eq!(
        notify::recipients(Audience::Owner, &inc, &cfg),
        vec!["dana@chem.campus.edu"]
    );
    assert_eq!(
        notify::recipients(Audience::Office, &inc, &cfg),
        vec!["security@campus.edu"]
    );
    assert_eq!(
        notify::recipients(Audience::SeverityList(Severity::High), &inc, &cfg),
        vec!["ciso@campus.edu", "cio@campus.edu"]
    );
    assert!(notify::recipients(Audience::SeverityList(Severity::Low), &inc, &cfg).is_empty());
    inc.owner = None;
    assert!(notify::recipients(Audience::Owner, &inc, &cfg).is_empty());
}

#[test]
fn answer_link_verifies_for_its_recipient_until_ttl() {
    let cfg = config("token_ttl = \"2h\"");
    let id = IncidentId::new(2026, 7);
    let now = ts("2026-11-20T21:00:00Z");
    let link = notify::answer_link(&cfg.notify, &id, "dana@chem.campus.edu", now);
    let tok = link
        .strip_prefix("https://cordon.campus.edu/a/")
        .expect("link under the configured base URL");
    let c = verify(b"test-secret-0123456789", tok, now).unwrap();
    assert_eq!(c.incident, id);
    assert_eq!(c.recipient, "dana@chem.campus.edu");
    assert_eq!(c.expires, ts("2026-11-20T23:00:00Z"));
    assert!(matches!(
        verify(b"test-secret-0123456789", tok, ts("2026-11-20T23:00:01Z")),
        Err(TokenError::Expired(_))
    ));
}

#[test]
fn a_template_naming_an_unknown_field_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("held.j2"),
        "Subject: {{ incident_id }}\n\n{{ incidnet_id }}\n",
    )
    .unwrap();
    let err = Templates::load(Some(dir.path())).unwrap_err();
    assert!(err.to_string().contains("held.j2"), "{err}");
    std::fs::write(dir.path().join("held.j2"), "no subject line\n").unwrap();
    let err = Templates::load(Some(dir.path())).unwrap_err();
    assert!(err.to_string().contains("held.j2"), "{err}");
}

//! Real SMTP delivery through lettre to a real SMTP server (the test sink) on 127.0.0.1.
#[path = "support/notify_fixture.rs"]
mod notify_fixture;
#[path = "support/smtp_sink.rs"]
mod smtp_sink;

use cordon::model::{Audience, Category, NoticeKind};
use cordon::notify::{self, DeliveryError, Message, Notifier, Templates};
use notify_fixture::*;
use smtp_sink::{SinkConfig, start};
use std::time::Duration;

fn smtp_notify(port: u16, auth: &str) -> String {
    format!(
        "[notify.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout = \"5s\"\n{auth}"
    )
}

fn first_notice(to: Vec<String>) -> Message {
    let cfg = config("");
    let inc = incident(Category::One);
    let tz = jiff::tz::TimeZone::get(TZ).unwrap();
    let tok = notify::token::sign(
        b"test-secret-0123456789",
        &inc.id,
        "dana@chem.campus.edu",
        ts("2026-12-04T00:00:00Z"),
    );
    let ctx = notify::context(
        &inc,
        &[evidence()],
        NoticeKind::First,
        "Outbound scanning was detected.",
        &tz,
        Some(format!("https://cordon.campus.edu/a/{tok}")),
        &cfg.office,
    );
    let r = notify::render(&Templates::builtin(), &ctx).unwrap();
    Message::new(
        to,
        r,
        &ctx,
        inc.id.clone(),
        NoticeKind::First,
        Audience::Owner,
        "CRD-2026-000123/1/notify".into(),
    )
}

#[tokio::test]
async fn plain_delivery_carries_every_required_field() {
    let sink = start(SinkConfig::default()).await;
    let cfg = config(&smtp_notify(sink.port(), ""));
    let n = Notifier::from_config(&cfg.notify).unwrap();
    let msg = first_notice(vec!["dana@chem.campus.edu".into()]);
    n.deliver(&msg).await.unwrap();
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.from, "cordon@campus.edu");
    assert_eq!(m.to, vec!["dana@chem.campus.edu".to_string()]);
    assert_eq!(m.auth_user, None);
    let d = &m.data;
    let (headers, body) = d.split_once("\r\n\r\n").unwrap();
    assert!(headers.contains("Subject: [CRD-2026-000123]"), "{headers}");
    assert!(
        headers.contains("X-Cordon-Key: CRD-2026-000123/1/notify"),
        "{headers}"
    );
    assert!(
        headers.contains("Message-ID: <CRD-2026-000123.1.notify@cordon>"),
        "{headers}"
    );
    assert!(
        headers.contains("Content-Transfer-Encoding: 8bit"),
        "{headers}"
    );
    // Every field a notice to an owner must carry.
    for needle in [
        "CRD-2026-000123",                                        // incident id
        "Category:      1",                                       // category number
        "actively causing problems for other computers or users", // what it means
        "Severity:      medium",                                  // severity
        "2026-11-20 16:02:11 EST (-05:00)",                       // evidence time with zone
        "Address:       10.1.2.3",                                // campus address
        "lab-ws-17.chem.campus.edu",                              // host name
        "203.0.113.7",                                            // peer addresses
        "198.51.100.23",
        "protocol: tcp",                                           // protocol
        "ports: 22, 2222",                                         // ports
        "ET SCAN Potential SSH Scan OUTBOUND (sid 2003068)",       // signature
        "SRC=10.1.2.3 DST=203.0.113.7 PROTO=TCP SPT=51000 DPT=22", // raw log lines
        "SRC=10.1.2.3 DST=198.51.100.23",
        "Deadline: 2026-11-20 16:21:00 EST (-05:00)", // deadline with zone
        "this host will be disconnected from the network (quarantine)", // action
        "https://cordon.campus.edu/a/",               // answer link
    ] {
        assert!(body.contains(needle), "missing {needle:?} in:\n{body}");
    }
}

#[tokio::test]
async fn auth_plain_is_used_when_configured() {
    let sink = start(SinkConfig {
        credentials: Some(("relay-user".into(), "s3cret".into())),
        ..Default::default()
    })
    .await;
    let cfg = config(&smtp_notify(
        sink.port(),
        "username = \"relay-user\"\npassword = \"s3cret\"\n",
    ));
    let n = Notifier::from_config(&cfg.notify).unwrap();
    n.deliver(&first_notice(vec!["dana@chem.campus.edu".into()]))
        .await
        .unwrap();
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].auth_user.as_deref(), Some("relay-user"));

    // Wrong password: refused with 535, which is a permanent failure.
    let cfg = config(&smtp_notify(
        sink.port(),
        "username = \"relay-user\"\npassword = \"wrong\"\n",
    ));
    let n = Notifier::from_config(&cfg.notify).unwrap();
    let err = n
        .deliver(&first_notice(vec!["dana@chem.campus.edu".into()]))
        .await
        .unwrap_err();
    assert!(err.permanent(), "{err:?}");
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn rejected_recipient_550_is_permanent_451_is_transient() {
    let sink = start(SinkConfig {
        rcpt_rules: vec![("nobody@".into(), 550), ("busy@".into(), 451)],
        ..Default::default()
    })
    .await;
    let cfg = config(&smtp_notify(sink.port(), ""));
    let n = Notifier::from_config(&cfg.notify).unwrap();

    let err = n
        .deliver(&first_notice(vec!["nobody@campus.edu".into()]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DeliveryError::Smtp {
                permanent: true,
                ..
            }
        ),
        "{err:?}"
    );

    let err = n
        .deliver(&first_notice(vec!["busy@campus.edu".into()]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DeliveryError::Smtp {
                permanent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn connection_refused_is_transient_and_bad_address_permanent() {
    // Bind then drop to get a port nothing listens on.
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let cfg = config(&smtp_notify(port, ""));
    let n = Notifier::from_config(&cfg.notify).unwrap();
    let err = n
        .deliver(&first_notice(vec!["dana@chem.campus.edu".into()]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DeliveryError::Smtp {
                permanent: false,
                ..
            }
        ),
        "{err:?}"
    );

    let err = n
        .deliver(&first_notice(vec!["not an address".into()]))
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Address { .. }), "{err:?}");
    assert!(err.permanent());
}

#[tokio::test]
async fn no_recipients_is_permanent() {
    let sink = start(SinkConfig::default()).await;
    let cfg = config(&smtp_notify(sink.port(), ""));
    let n = Notifier::from_config(&cfg.notify).unwrap();
    let err = n.deliver(&first_notice(vec![])).await.unwrap_err();
    assert_eq!(err, DeliveryError::NoRecipients);
    assert!(err.permanent());
}

#[test]
fn default_ports_follow_the_mode() {
    use cordon::config::SmtpTls;
    assert_eq!(notify::SmtpChannel::default_port(SmtpTls::Starttls), 587);
    assert_eq!(notify::SmtpChannel::default_port(SmtpTls::Tls), 465);
    assert_eq!(notify::SmtpChannel::default_port(SmtpTls::None), 25);
}

#[tokio::test]
async fn smtp_retry_does_not_duplicate_the_file_copy() {
    let sink = start(SinkConfig {
        rcpt_rules: vec![("busy@".into(), 451)],
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&format!(
        "[notify.file]\ndir = \"{}\"\n{}",
        dir.path().display(),
        smtp_notify(sink.port(), "")
    ));
    let n = Notifier::from_config(&cfg.notify).unwrap();
    let msg = first_notice(vec!["busy@campus.edu".into()]);
    for _ in 0..3 {
        let err = n.deliver(&msg).await.unwrap_err();
        assert!(!err.permanent(), "{err:?}");
    }
    // The SMTP failure decides; the file copy was written once.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let rcpts = sink
        .commands()
        .iter()
        .filter(|c| c.starts_with("RCPT"))
        .count();
    assert_eq!(rcpts, 3, "every attempt reached the SMTP server");
}

#[tokio::test]
async fn dot_lines_survive_stuffing_and_auth_login_works() {
    use lettre::transport::smtp::authentication::{Credentials, Mechanism};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let sink = start(SinkConfig {
        credentials: Some(("u".into(), "p w".into())),
        ..Default::default()
    })
    .await;
    // Through the notifier: a body line starting with "." arrives intact.
    let cfg = config(&smtp_notify(
        sink.port(),
        "username = \"u\"\npassword = \"p w\"\n",
    ));
    let n = Notifier::from_config(&cfg.notify).unwrap();
    let mut msg = first_notice(vec!["dana@chem.campus.edu".into()]);
    msg.body = "line one\n.starts with a dot\n..two dots\n.\nend\n".into();
    n.deliver(&msg).await.unwrap();
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    let body = got[0].data.split_once("\r\n\r\n").unwrap().1;
    assert_eq!(
        body.trim_end(),
        "line one\r\n.starts with a dot\r\n..two dots\r\n.\r\nend"
    );
    assert!(sink.commands().iter().any(|c| c.starts_with("AUTH PLAIN")));

    // AUTH LOGIN, driven by lettre directly against the sink.
    let t = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sink.port())
        .credentials(Credentials::new("u".into(), "p w".into()))
        .authentication(vec![Mechanism::Login])
        .build();
    let email = lettre::Message::builder()
        .from("a@campus.edu".parse().unwrap())
        .to("b@campus.edu".parse().unwrap())
        .subject("x")
        .body(String::from("hi"))
        .unwrap();
    t.send(email).await.unwrap();
    let got = sink.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].auth_user.as_deref(), Some("u"));
    assert!(sink.commands().iter().any(|c| c == "AUTH LOGIN"));
}

/// A campus CA and a relay certificate for 127.0.0.1 signed by it: the CA as PEM (what an
/// operator puts in `ca_file`) and the relay's TLS configuration for the sink.
fn internal_ca_and_relay() -> (String, std::sync::Arc<tokio_rustls::rustls::ServerConfig>) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Campus Test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let relay_key = KeyPair::generate().unwrap();
    let relay = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&relay_key, &ca)
        .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![relay.der().clone(), ca.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(relay_key.serialize_der())),
        )
        .unwrap();
    (ca.pem(), std::sync::Arc::new(server))
}

fn starttls_notify(port: u16, extra: &str) -> String {
    format!(
        "[notify.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"starttls\"\ntimeout = \"5s\"\n{extra}"
    )
}

/// A relay whose certificate an internal CA signed, which refuses mail before STARTTLS: with
/// that CA in `ca_file` the notice goes through encrypted; with the system's roots alone the
/// certificate is refused and nothing is sent, in the clear or otherwise.
#[tokio::test]
async fn starttls_to_a_relay_signed_by_an_internal_ca() {
    let (ca_pem, relay_tls) = internal_ca_and_relay();
    let sink = start(SinkConfig {
        tls: Some(relay_tls),
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("campus-ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let msg = first_notice(vec!["dana@chem.campus.edu".into()]);

    let trusting = config(&starttls_notify(
        sink.port(),
        &format!("ca_file = '{}'\n", ca_file.display()),
    ));
    let n = Notifier::from_config(&trusting.notify).unwrap();
    n.deliver(&msg).await.unwrap();
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, vec!["dana@chem.campus.edu".to_string()]);
    let commands = sink.commands();
    let tls_at = commands
        .iter()
        .position(|c| c.eq_ignore_ascii_case("STARTTLS"));
    let mail_at = commands.iter().position(|c| c.starts_with("MAIL"));
    assert!(
        matches!((tls_at, mail_at), (Some(t), Some(m)) if t < m),
        "{commands:?}"
    );

    let system_roots_only = config(&starttls_notify(sink.port(), ""));
    let n = Notifier::from_config(&system_roots_only.notify).unwrap();
    let err = n.deliver(&msg).await.unwrap_err();
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    assert!(
        !err.permanent(),
        "a certificate problem may be fixed: {err}"
    );
    assert_eq!(sink.messages().len(), 1, "nothing more reached the relay");

    // A relay (or someone in between) that does not offer STARTTLS gets no mail in the clear.
    let plain = start(SinkConfig::default()).await;
    let stripped = config(&starttls_notify(
        plain.port(),
        &format!("ca_file = '{}'\n", ca_file.display()),
    ));
    let n = Notifier::from_config(&stripped.notify).unwrap();
    assert!(n.deliver(&msg).await.is_err());
    let commands = plain.commands();
    assert!(
        !commands.iter().any(|c| c.starts_with("MAIL")),
        "{commands:?}"
    );
    assert!(plain.messages().is_empty());
}

/// A `ca_file` that cannot be read, holds no certificate, or comes with `tls = "none"` stops
/// the notifier at start, naming the key and the reason.
#[test]
fn a_bad_ca_file_is_reported_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.txt");
    std::fs::write(&not_pem, "just text\n").unwrap();
    let (ca_pem, _) = internal_ca_and_relay();
    let good = dir.path().join("ca.pem");
    std::fs::write(&good, ca_pem).unwrap();
    let missing = dir.path().join("missing.pem");
    for (tls, file, want) in [
        ("starttls", &missing, "No such file"),
        ("tls", &not_pem, "holds no PEM certificate"),
        ("none", &good, "sends in the clear"),
    ] {
        let cfg = config(&format!(
            "[notify.smtp]\nhost = \"127.0.0.1\"\ntls = \"{tls}\"\nca_file = '{}'\n",
            file.display()
        ));
        let err = match Notifier::from_config(&cfg.notify) {
            Ok(_) => panic!("{tls} with {} was accepted", file.display()),
            Err(e) => e.to_string(),
        };
        assert!(
            err.starts_with("notify.smtp: ca_file ") && err.contains(want),
            "{err}"
        );
    }
}

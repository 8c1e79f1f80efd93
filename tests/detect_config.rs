//! The `[detect.*]` tables: typed, defaulted, unknown keys refused with their path.
use cordon::config::{ConfigError, parse};

const BASE: &str = r#"
[campus]
networks = ["10.0.0.0/8"]
[calendar]
timezone = "Europe/Berlin"
[office]
name = "Security Office"
email = "security@campus.example"
[notify]
from = "cordon@campus.example"
answer_base_url = "https://cordon.campus.example"
token_secret = "not-a-real-secret-0123456789"
[notify.file]
dir = "var/outbox"
"#;

#[test]
fn defaults_apply_when_tables_are_absent() {
    let cfg = parse(BASE).unwrap();
    let d = &cfg.detect;
    assert!(d.scan.enabled && d.flood.enabled && d.spam.enabled);
    assert_eq!(d.scan.horizontal_min_destinations, 100);
    assert_eq!(d.scan.vertical_min_ports, 50);
    assert_eq!(d.scan.window.0.as_secs(), 60);
    assert!(!d.scan.include_internal);
    assert_eq!(d.flood.min_connections_per_sec, 200);
    assert!(!d.flood.require_handshake);
    assert_eq!(d.spam.ports, vec![25]);
    assert_eq!(d.spam.min_servers, 25);
    assert!(d.bruteforce.ports.contains(&22) && d.bruteforce.ports.contains(&3389));
    assert_eq!(d.login.failures_per_user, 10);
    assert_eq!(d.login.blame_ttl.0.as_secs(), 86_400);
    assert_eq!(d.beacon.min_contacts, 12);
    assert_eq!(d.beacon.ignore_ports, vec![53, 123]);
}

#[test]
fn tables_override_and_unknown_keys_are_refused_with_their_path() {
    let text = format!(
        "{BASE}\n[detect.scan]\nwindow = \"2m\"\nvertical_min_ports = 20\n[detect.login]\nfailures_per_user = 5\n[detect.beacon]\nenabled = false\n"
    );
    let cfg = parse(&text).unwrap();
    assert_eq!(cfg.detect.scan.window.0.as_secs(), 120);
    assert_eq!(cfg.detect.scan.vertical_min_ports, 20);
    assert_eq!(cfg.detect.scan.horizontal_min_destinations, 100);
    assert_eq!(cfg.detect.login.failures_per_user, 5);
    assert!(!cfg.detect.beacon.enabled);

    let bad = format!("{BASE}\n[detect.spam]\nmin_server = 3\n");
    match parse(&bad) {
        Err(ConfigError::Invalid(problems)) => {
            assert!(problems[0].path.starts_with("detect.spam"), "{problems:?}");
            assert!(problems[0].reason.contains("min_server"), "{problems:?}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

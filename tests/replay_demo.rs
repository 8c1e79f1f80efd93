//! The bundled demo (config/cordon.toml + captures/eve-demo.json) through `cordon replay`:
//! the whole policy in data time, nobody answering.
use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn demo_replay_shows_the_whole_policy() {
    let out = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "replay",
            "--json",
            "-c",
            "config/cordon.toml",
            "captures/eve-demo.json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ev: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut subject_of = BTreeMap::new();
    let mut category = BTreeMap::new();
    for e in ev.iter().filter(|e| e["type"] == "incident_opened") {
        let id = e["incident"].as_str().unwrap().to_string();
        subject_of.insert(id.clone(), e["subject"].as_str().unwrap().to_string());
        category.insert(
            e["subject"].as_str().unwrap().to_string(),
            e["category"].as_u64().unwrap(),
        );
    }
    assert_eq!(
        category,
        BTreeMap::from([
            ("host 10.0.0.1".to_string(), 1),
            ("host 10.10.4.23".to_string(), 1),
            ("host 10.10.7.31".to_string(), 3),
            ("host 10.30.12.77".to_string(), 2),
            ("host 10.99.14.201".to_string(), 1),
        ])
    );
    let hooks: Vec<(String, String)> = ev
        .iter()
        .filter(|e| e["type"] == "hook")
        .map(|e| {
            (
                subject_of[e["incident"].as_str().unwrap()].clone(),
                e["time"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let hooked: Vec<&str> = hooks.iter().map(|(s, _)| s.as_str()).collect();
    // No owner → at once; owner silent → after 15 minutes; Category 2 → at the 3-day cap
    // (Thanksgiving does not move a calendar-day cap); protected and Category 3 → never.
    assert_eq!(
        hooked,
        ["host 10.99.14.201", "host 10.10.4.23", "host 10.30.12.77"]
    );
    assert!(hooks[0].1.starts_with("2026-11-23T09:08"), "{hooks:?}");
    assert!(hooks[1].1.starts_with("2026-11-23T09:20"), "{hooks:?}");
    assert!(hooks[2].1.starts_with("2026-11-26T09:20"), "{hooks:?}");
    let notices: Vec<&str> = ev
        .iter()
        .filter(|e| e["type"] == "notice")
        .map(|e| e["notice"].as_str().unwrap())
        .collect();
    assert!(
        notices.contains(&"second"),
        "Category 2 second notice missing"
    );
    assert!(
        notices.contains(&"held"),
        "protected host must be held for the office"
    );
}

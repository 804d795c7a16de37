//! Any text as a Traefik rule, and as the rule label of a container: parsing never
//! panics, errors point inside the text, and what parses prints back to the same tree.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use portolan::routes::{traefik_labels, traefik_rule};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match traefik_rule::parse(&text) {
        Ok(rule) => {
            let shown = rule.to_string();
            assert_eq!(traefik_rule::parse(&shown).as_ref(), Ok(&rule), "display: {shown}");
            let _ = (rule.hosts(), rule.path_prefixes(), rule.paths(), rule.describe());
            let _ = (rule.syntax(), rule.normalized(), rule.is_sni_catch_all());
        }
        Err(err) => {
            assert!(err.offset() <= text.len(), "{err} is outside {} bytes", text.len());
            let _ = err.to_string();
        }
    }

    // The same text as labels: a rule, a default-rule template, a middleware list.
    let mut labels = BTreeMap::new();
    labels.insert("traefik.http.routers.fuzz.rule".to_string(), text.to_string());
    labels.insert("traefik.http.routers.fuzz.middlewares".to_string(), text.to_string());
    labels.insert("traefik.tcp.routers.sni.rule".to_string(), text.to_string());
    let settings = traefik_labels::ProviderSettings {
        default_rule: Some(text.to_string()),
        ..traefik_labels::ProviderSettings::default()
    };
    let container = traefik_labels::read_labels("fuzz", &labels, &[80], &settings);
    let implicit = traefik_labels::read_labels("other", &BTreeMap::new(), &[80], &settings);
    let _ = traefik_labels::cross_check(&[container, implicit], None);
});

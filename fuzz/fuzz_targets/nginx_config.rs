//! Any text as an nginx configuration, with includes that resolve to the same text:
//! reading never panics and every finding has a line.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use portolan::routes::nginx;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // A few includes resolve, so expansion runs without making each input slow.
    let mut calls = 0;
    let routes = nginx::read("/etc/nginx/nginx.conf", &text, |pattern| {
        calls += 1;
        (calls <= 8).then(|| vec![(pattern.to_string(), text.to_string())])
    });
    for finding in &routes.findings {
        assert!(finding.line >= 1, "{finding:?}");
    }
    for server in &routes.servers {
        for location in &server.locations {
            if let nginx::Action::Proxy(target) = &location.action {
                let _ = (target.is_resolvable(), target.effective_port());
            }
        }
    }

    // The first line as an include pattern against a small file set, and the text as
    // `nginx -T` output.
    let files: BTreeMap<String, String> = nginx::split_dump(&text).into_iter().collect();
    let pattern = text.lines().next().unwrap_or("");
    let _ = nginx::resolve_include(&files, "/etc/nginx", pattern);
});

//! Parsing, checking, evaluating and planning never panic, whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use visibility_query::{ExecutionStatus, RecordValues, SearchAttributeType, SearchAttributes, compile};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let attrs = SearchAttributes::new()
        .with_custom("Kw", SearchAttributeType::Keyword)
        .with_custom("Txt", SearchAttributeType::Text)
        .with_custom("N", SearchAttributeType::Int)
        .with_custom("D", SearchAttributeType::Double)
        .with_custom("B", SearchAttributeType::Bool)
        .with_custom("T", SearchAttributeType::Datetime)
        .with_custom("L", SearchAttributeType::KeywordList);
    match compile(text, &attrs) {
        Ok(q) => {
            let rec = RecordValues::new("wf", "run", "type")
                .with_status(ExecutionStatus::Completed)
                .with_attribute("Kw", "k")
                .with_attribute("Txt", "some text")
                .with_attribute("N", "3")
                .with_attribute("D", "2.5")
                .with_attribute("B", "true")
                .with_attribute("T", "2024-01-01T00:00:00Z")
                .with_attribute("L", r#"["a","b"]"#);
            let m = q.matches(&rec);
            let plan = q.plan();
            assert!(!m || plan.admits(&rec), "plan lost a match");
            let _ = q.compare(&rec, &rec);
        }
        Err(e) => {
            assert!(e.offset() <= text.len());
            let _ = e.to_string();
        }
    }
});

//! Store behaviour on every engine: hostile values round-trip and find back
//! exactly, custom attributes persist across a reopen with their rules, count
//! groups by status, page tokens are bound to their query.

mod support;

use visibility_query::{ExecutionStatus, FieldLayout, RecordValues, SearchAttributeType as T};
use visibility_sql::{Count, Error, SqlVisibilityStore};

fn at(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

/// A filter-language string literal for any value.
fn quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

const HOSTILE: &[&str] = &[
    "'; DROP TABLE executions_visibility; --",
    "\" OR 1=1 --",
    "back\\slash\\",
    "100%",
    "a_b",
    "%",
    "_",
    "!%_",
    "nul\0inside",
    "héllo wörld ✓ 日本語 🚀",
    "trailing space ",
    "$1 ?1 ? :name",
    "",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_values_round_trip_and_match_exactly() {
    let long = "k".repeat(4096);
    let mut values: Vec<&str> = HOSTILE.to_vec();
    values.push(&long);
    for e in support::engines().await {
        let ns = support::unique_ns("inject");
        let s = &e.store;
        s.create_search_attribute(&ns, "Kw", T::Keyword)
            .await
            .unwrap();
        s.create_search_attribute(&ns, "Lst", T::KeywordList)
            .await
            .unwrap();
        let odd_name = "Odd'Name\"; DROP TABLE custom_search_attributes; --";
        s.create_search_attribute(&ns, odd_name, T::Int)
            .await
            .unwrap();
        let mut stored = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let rec = RecordValues::new(*v, format!("run-{i:02}"), *v)
                .with_start_time(at("2024-01-01T00:00:00Z"))
                .with_attribute("Kw", *v)
                .with_attribute("Lst", serde_json::to_string(&[*v, "other"]).unwrap())
                .with_attribute(odd_name, i.to_string())
                .with_attribute(format!("unknown {v}"), *v);
            match s.upsert(&ns, &rec).await {
                Ok(()) => stored.push(rec),
                // PostgreSQL text cannot hold NUL: a typed, non-retryable refusal.
                Err(err @ Error::InvalidRecord { .. })
                    if e.name == "postgres" && v.contains('\0') =>
                {
                    assert!(!err.is_retryable());
                }
                // MySQL's indexed workflow_id is VARBINARY(1020): the same typed refusal.
                Err(err @ Error::InvalidRecord { .. }) if e.name == "mysql" && v.len() > 1020 => {
                    assert!(!err.is_retryable());
                }
                Err(err) => panic!("{}: upsert {v:?}: {err}", e.name),
            }
        }
        assert!(
            stored.len() >= values.len() - 1,
            "{}: {} stored",
            e.name,
            stored.len()
        );
        for rec in &stored {
            let v = rec.workflow_id.as_str();
            let ctx = format!("{} value {v:?}", e.name);
            for filter in [
                format!("WorkflowId = {}", quote(v)),
                format!("Kw = {} AND WorkflowType = {}", quote(v), quote(v)),
                format!("Lst = {}", quote(v)),
                format!("RunId = {}", quote(&rec.run_id)),
            ] {
                let page = s
                    .list(&ns, &filter, 100, None)
                    .await
                    .unwrap_or_else(|err| panic!("{ctx}: {filter}: {err}"));
                let want: Vec<&RecordValues> =
                    stored.iter().filter(|r| r.workflow_id == v).collect();
                let got: Vec<&RecordValues> = page.records.iter().collect();
                assert_eq!(got, want, "{ctx}: {filter}");
            }
            // LIKE metacharacters in a prefix are literal.
            if !v.is_empty() {
                let prefix: String = v.chars().take(2).collect();
                let page = s
                    .list(
                        &ns,
                        &format!("Kw STARTS_WITH {}", quote(&prefix)),
                        100,
                        None,
                    )
                    .await
                    .unwrap();
                let want = stored
                    .iter()
                    .filter(|r| r.workflow_id.starts_with(&prefix))
                    .count();
                assert_eq!(page.records.len(), want, "{ctx}: prefix {prefix:?}");
            }
        }
        // The odd attribute name is stored and listed back exactly.
        let names: Vec<String> = s
            .list_search_attributes(&ns)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert!(names.iter().any(|n| n == odd_name), "{}: {names:?}", e.name);
        // Both tables are intact.
        assert_eq!(
            s.count(&ns, "").await.unwrap(),
            Count::Total(stored.len() as u64),
            "{}",
            e.name
        );
        assert_eq!(s.list_search_attributes(&ns).await.unwrap().len(), 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_groups_by_status() {
    for e in support::engines().await {
        let ns = support::unique_ns("count");
        let s = &e.store;
        let statuses = [
            ExecutionStatus::Running,
            ExecutionStatus::Completed,
            ExecutionStatus::Completed,
            ExecutionStatus::Failed,
            ExecutionStatus::Completed,
        ];
        for (i, st) in statuses.iter().enumerate() {
            let mut rec = RecordValues::new(
                format!("wf-{i}"),
                format!("run-{i}"),
                if i < 4 { "A" } else { "B" },
            )
            .with_status(*st)
            .with_start_time(at("2024-01-01T00:00:00Z"));
            if i == 0 {
                // Hidden by the implicit TemporalNamespaceDivision IS NULL.
                rec = rec.with_attribute("TemporalNamespaceDivision", "internal");
            }
            s.upsert(&ns, &rec).await.unwrap();
        }
        let groups = |v: &[(&str, u64)]| {
            Count::Groups(v.iter().map(|(k, n)| (Some((*k).to_owned()), *n)).collect())
        };
        assert_eq!(
            s.count(&ns, "GROUP BY ExecutionStatus").await.unwrap(),
            groups(&[("Completed", 3), ("Failed", 1)]),
            "{}",
            e.name
        );
        assert_eq!(
            s.count(&ns, "WorkflowType = 'A' GROUP BY ExecutionStatus")
                .await
                .unwrap(),
            groups(&[("Completed", 2), ("Failed", 1)]),
            "{}",
            e.name
        );
        assert_eq!(s.count(&ns, "").await.unwrap(), Count::Total(4));
        assert_eq!(
            s.count(&ns, "ExecutionStatus = 'Completed'").await.unwrap(),
            Count::Total(3)
        );
        let by_division = s
            .count(&ns, "GROUP BY TemporalNamespaceDivision")
            .await
            .unwrap();
        assert_eq!(
            by_division,
            Count::Groups(vec![(None, 4), (Some("internal".into()), 1)]),
            "{}",
            e.name
        );
        // Only ExecutionStatus and TemporalNamespaceDivision group; ORDER BY never runs on SQL.
        let err = s.count(&ns, "GROUP BY WorkflowType").await.unwrap_err();
        assert!(
            matches!(err, Error::Query { .. } | Error::Unsupported { .. }),
            "{err}"
        );
        assert!(matches!(
            s.list(&ns, "ORDER BY StartTime", 10, None).await,
            Err(Error::Unsupported { .. })
        ));
        assert!(matches!(
            s.list(&ns, "GROUP BY ExecutionStatus", 10, None).await,
            Err(Error::Unsupported { .. })
        ));
        assert!(matches!(
            s.list(&ns, "Nope = 1", 10, None).await,
            Err(Error::Query { .. })
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_tokens_upsert_and_delete() {
    for e in support::engines().await {
        let ns = support::unique_ns("paging");
        let s = &e.store;
        for i in 0..5 {
            let rec = RecordValues::new(format!("wf-{i}"), format!("run-{i}"), "T")
                .with_start_time(at("2024-01-01T00:00:00.123456789Z"));
            s.upsert(&ns, &rec).await.unwrap();
        }
        let first = s.list(&ns, "WorkflowType = 'T'", 2, None).await.unwrap();
        assert_eq!(first.records.len(), 2);
        // Times come back floored to the microsecond.
        assert_eq!(
            first.records[0].start_time,
            Some(at("2024-01-01T00:00:00.123456Z"))
        );
        let token = first.next_page_token.unwrap();
        // A token continues only its own query and namespace.
        for (other_ns, filter) in [
            (ns.as_str(), "WorkflowType = 'U'"),
            ("elsewhere", "WorkflowType = 'T'"),
        ] {
            let err = s.list(other_ns, filter, 2, Some(&token)).await.unwrap_err();
            assert!(matches!(err, Error::PageToken { .. }), "{err}");
            assert!(!err.is_retryable());
        }
        assert!(matches!(
            s.list(&ns, "WorkflowType = 'T'", 2, Some(b"junk")).await,
            Err(Error::PageToken { .. })
        ));
        let second = s
            .list(&ns, "WorkflowType = 'T'", 2, Some(&token))
            .await
            .unwrap();
        assert_eq!(second.records[0].run_id, "run-2");
        // Upsert replaces, delete removes.
        let closed = RecordValues::new("wf-0", "run-0", "T")
            .with_status(ExecutionStatus::Completed)
            .with_start_time(at("2024-01-01T00:00:00Z"))
            .with_close_time(at("2024-01-02T00:00:00Z"));
        s.upsert(&ns, &closed).await.unwrap();
        let all = s.list(&ns, "", 10, None).await.unwrap();
        assert_eq!(all.records.len(), 5);
        assert_eq!(
            all.records.last(),
            Some(&closed),
            "{}: closed runs sort after open ones",
            e.name
        );
        assert!(s.delete(&ns, "run-0").await.unwrap());
        assert!(!s.delete(&ns, "run-0").await.unwrap());
        assert_eq!(s.count(&ns, "").await.unwrap(), Count::Total(4));
        s.optimize().await.unwrap();
        let no_start = RecordValues::new("w", "r", "t");
        assert!(matches!(
            s.upsert(&ns, &no_start).await,
            Err(Error::InvalidRecord { .. })
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_attributes_persist_with_limits_and_reuse_hazard() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("v.db").display());
    let open = || async {
        let s = SqlVisibilityStore::builder()
            .url(url.clone())
            .build()
            .await
            .unwrap();
        s.setup().await.unwrap();
        s
    };
    let s = open().await;
    let ns = "ns";
    for (i, name) in ["A", "B", "C"].iter().enumerate() {
        let a = s.create_search_attribute(ns, name, T::Int).await.unwrap();
        assert_eq!(a.field.as_deref(), Some(format!("Int0{}", i + 1).as_str()));
        assert!(a.previously_used_by.is_empty());
    }
    // Limits per type, reserved and duplicate names.
    let full = s
        .create_search_attribute(ns, "D", T::Int)
        .await
        .unwrap_err();
    assert!(
        full.to_string()
            .contains("cannot have more than 3 search attribute of type Int"),
        "{full}"
    );
    assert!(matches!(
        s.create_search_attribute(ns, "TemporalX", T::Int).await,
        Err(Error::Attribute { .. })
    ));
    assert!(matches!(
        s.create_search_attribute(ns, "A", T::Keyword).await,
        Err(Error::Attribute { .. })
    ));
    // Another namespace has its own fields.
    assert_eq!(
        s.create_search_attribute("other", "Z", T::Int)
            .await
            .unwrap()
            .field
            .as_deref(),
        Some("Int01")
    );

    let rec = RecordValues::new("w", "r", "t")
        .with_start_time(at("2024-01-01T00:00:00Z"))
        .with_attribute("B", "42");
    s.upsert(ns, &rec).await.unwrap();
    assert_eq!(
        s.list(ns, "B = 42", 10, None).await.unwrap().records.len(),
        1
    );
    assert_eq!(
        s.list(ns, "Int02 = 42", 10, None)
            .await
            .unwrap()
            .records
            .len(),
        1
    );
    s.remove_search_attribute(ns, "B").await.unwrap();
    assert!(matches!(
        s.remove_search_attribute(ns, "B").await,
        Err(Error::NoSuchAttribute { .. })
    ));
    assert!(matches!(
        s.list(ns, "B = 42", 10, None).await,
        Err(Error::Query { .. })
    ));
    s.close().await;

    // Reopened: the state and the field's history survive.
    let s = open().await;
    let names: Vec<_> = s
        .list_search_attributes(ns)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.field))
        .collect();
    assert_eq!(
        names,
        [
            ("A".to_owned(), Some("Int01".to_owned())),
            ("C".to_owned(), Some("Int03".to_owned()))
        ]
    );
    let reuse = s.create_search_attribute(ns, "E", T::Int).await.unwrap();
    assert_eq!(reuse.field.as_deref(), Some("Int02"));
    // The hazard, told to the caller: E now reads B's old values.
    assert_eq!(reuse.previously_used_by, ["B"]);
    assert_eq!(
        s.list(ns, "E = 42", 10, None).await.unwrap().records.len(),
        1
    );
    s.close().await;
    let s = open().await;
    let names: Vec<_> = s
        .list_search_attributes(ns)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["A", "C", "E"]);
}

#[tokio::test]
async fn passwords_stay_out_of_debug_and_errors() {
    let b = SqlVisibilityStore::builder()
        .url("postgres://user:hunter2@127.0.0.1:1/db?password=hunter3")
        .timeout(std::time::Duration::from_secs(1));
    let shown = format!("{b:?}");
    assert!(!shown.contains("hunter"), "{shown}");
    // Nothing listens on port 1: a retryable connection error, without the password.
    if cfg!(feature = "postgres") {
        let err = b.build().await.unwrap_err();
        assert!(err.is_retryable(), "{err}");
        assert!(!format!("{err} {err:?}").contains("hunter"), "{err:?}");
    }
    let err = SqlVisibilityStore::builder()
        .url("oracle://u:hunter2@h/db")
        .build()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }));
    assert!(!format!("{err} {err:?}").contains("hunter"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creators_get_distinct_fields() {
    for e in support::engines().await {
        let ns = support::unique_ns("race");
        let tasks: Vec<_> = (0..3)
            .map(|i| {
                let s = e.store.clone();
                let ns = ns.clone();
                tokio::spawn(async move {
                    s.create_search_attribute(&ns, &format!("K{i}"), T::Keyword)
                        .await
                })
            })
            .collect();
        let mut fields = Vec::new();
        for t in tasks {
            fields.push(t.await.unwrap().unwrap().field.unwrap());
        }
        fields.sort();
        assert_eq!(
            fields,
            ["Keyword01", "Keyword02", "Keyword03"],
            "{}",
            e.name
        );
    }
}

#[tokio::test]
async fn attribute_names_are_case_sensitive() {
    for e in support::engines().await {
        let ns = support::unique_ns("case");
        let s = &e.store;
        s.create_search_attribute(&ns, "Region", T::Keyword)
            .await
            .unwrap();
        s.create_search_attribute(&ns, "region", T::Keyword)
            .await
            .unwrap();
        s.remove_search_attribute(&ns, "region").await.unwrap();
        let left: Vec<_> = s
            .list_search_attributes(&ns)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.name, c.field))
            .collect();
        assert_eq!(
            left,
            [("Region".to_owned(), Some("Keyword01".to_owned()))],
            "{}",
            e.name
        );
    }
}

/// A store whose field layout differs from the one the database was set up with is refused
/// when it connects, before it can run a statement against columns that are not there.
#[tokio::test]
async fn a_database_set_up_with_another_layout_is_refused_at_connect() {
    for e in support::engines().await {
        let fewer = FieldLayout::temporal_sql().with_limit(T::Keyword, 3);
        let err = SqlVisibilityStore::builder()
            .url(&e.url)
            .field_layout(fewer)
            .build()
            .await
            .expect_err("another layout");
        match &err {
            Error::SchemaMismatch { found, expected } => {
                assert!(found.contains("Keyword=10"), "{}: {found}", e.name);
                assert!(expected.contains("Keyword=3"), "{}: {expected}", e.name);
            }
            other => panic!("{}: expected SchemaMismatch, got {other:?}", e.name),
        }
        assert!(!err.is_retryable(), "{err}");
        // The database's own layout still connects and sets up (idempotent).
        let same = SqlVisibilityStore::builder().url(&e.url).build().await;
        same.expect("the same layout")
            .setup()
            .await
            .expect("setup again");
    }
}

/// Two stores with different layouts setting up one fresh database at once: one records its
/// layout, the other is refused and says which layout the database has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_setups_with_different_layouts_one_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("fresh.db").display());
    let store = |layout: FieldLayout| {
        SqlVisibilityStore::builder()
            .url(&url)
            .field_layout(layout)
            .build()
    };
    let default = store(FieldLayout::temporal_sql()).await.expect("build");
    let wide = store(FieldLayout::temporal_sql().with_limit(T::Int, 6))
        .await
        .expect("no record yet: builds");
    let (a, b) = tokio::join!(default.setup(), wide.setup());
    let refused = match (a, b) {
        (Ok(()), Err(refused)) | (Err(refused), Ok(())) => refused,
        other => panic!("exactly one setup wins: {other:?}"),
    };
    assert!(matches!(refused, Error::SchemaMismatch { .. }), "{refused}");
    assert!(refused.to_string().contains("fresh database"), "{refused}");
}

//! Group commit: concurrent callers share transactions, each gets its own sequence
//! numbers, and one bad request fails alone.

use std::sync::Arc;

use bantay_store::{GroupCommit, NewEvent, Trust};
use serde_json::json;

use crate::{database, ledger, Backend, T0};

async fn concurrent_callers_share_commits(backend: Backend) {
    let db = database(backend).await;
    let (store, _) = ledger(&db).await;
    let store = Arc::new(store);
    let group = GroupCommit::start(store.clone(), Arc::new(|| T0), 1000);
    let mut tasks = Vec::new();
    for caller in 0..64 {
        let group = group.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for i in 0..20 {
                let body = if caller == 13 && i == 7 {
                    json!({"id": "F-bad", "clause": "4.5"}) // missing fields: refused
                } else {
                    json!({"id": format!("F{caller}-{i}"), "clause": "4.5", "subject": "root@cps-db-1", "summary": "interactive use", "evidence": "auth.log:1"})
                };
                match group.append(vec![NewEvent::new("finding.opened", "system:scan", T0, body)]).await {
                    Ok(appended) => mine.push(appended.first),
                    Err(e) => assert!(caller == 13 && i == 7 && e.to_string().contains("missing field"), "{e}"),
                }
            }
            mine
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.extend(t.await.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (3..3 + 64 * 20 - 1).collect::<Vec<u64>>(),
        "every good request got its own number"
    );
    let v = store.verify(&Trust::default()).await.unwrap();
    assert_eq!((v.events, v.problem), (3 + 64 * 20 - 1, None));
    assert!(v.heads < 64 * 20 / 2, "requests shared commits ({} heads)", v.heads);
    assert_eq!(store.replay_differences().await.unwrap(), Vec::<String>::new());
}

crate::on_both_backends!(concurrent_callers_share_commits);

//! Group commit: many callers append at once, one transaction (and one fsync, one signed
//! head) carries them all. A request that would fail does not sink the others: when a
//! group's transaction fails, its requests are retried one by one, so each caller gets
//! its own answer.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::error::{Result, StoreError};
use crate::ledger::{Appended, NewEvent, Store};

type Reply = oneshot::Sender<Result<Appended>>;

/// A handle to the committing task; clone it freely.
#[derive(Debug, Clone)]
pub struct GroupCommit {
    requests: mpsc::Sender<(Vec<NewEvent>, Reply)>,
}

/// The clock, from the edge of the system (the store never reads it).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

impl GroupCommit {
    /// Starts committing on the current tokio runtime. Groups hold up to `max_events`
    /// events (a request larger than that is committed alone).
    pub fn start(store: Arc<Store>, clock: Clock, max_events: usize) -> Self {
        let (requests, mut incoming) =
            mpsc::channel::<(Vec<NewEvent>, Reply)>(4 * max_events.max(1));
        tokio::spawn(async move {
            while let Some(first) = incoming.recv().await {
                let mut group = vec![first];
                let mut events = group[0].0.len();
                while events < max_events {
                    match incoming.try_recv() {
                        Ok(next) => {
                            events += next.0.len();
                            group.push(next);
                        }
                        Err(_) => break,
                    }
                }
                commit(&store, &clock, group).await;
            }
        });
        Self { requests }
    }

    /// Appends `events` as one unit, together with whatever else is waiting; returns once
    /// they are durable.
    pub async fn append(&self, events: Vec<NewEvent>) -> Result<Appended> {
        let (reply, answer) = oneshot::channel();
        self.requests.send((events, reply)).await.map_err(|_| StoreError::GroupCommitStopped)?;
        answer.await.map_err(|_| StoreError::GroupCommitStopped)?
    }
}

async fn commit(store: &Store, clock: &Clock, group: Vec<(Vec<NewEvent>, Reply)>) {
    if group.len() == 1 {
        for (events, reply) in group {
            let _ = reply.send(store.append(events, clock()).await);
        }
        return;
    }
    let sizes: Vec<u64> = group.iter().map(|(events, _)| events.len() as u64).collect();
    let all: Vec<&NewEvent> = group.iter().flat_map(|(events, _)| events.iter()).collect();
    match store.append_refs(&all, clock()).await {
        Ok(appended) => {
            let mut first = appended.first;
            for ((_, reply), count) in group.into_iter().zip(sizes) {
                let _ = reply.send(Ok(Appended { first, count, head: appended.head.clone() }));
                first += count;
            }
        }
        Err(_) => {
            for (events, reply) in group {
                let _ = reply.send(store.append(events, clock()).await);
            }
        }
    }
}

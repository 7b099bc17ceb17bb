-- The ledger: one row per event, in order. `event` holds the event's canonical bytes
-- (RFC 8785 JSON), `leaf` their RFC 6962 leaf hash; nothing else is stored about an event,
-- so nothing can disagree with what the tree covers.
CREATE TABLE ledger_events (
    seq   INTEGER PRIMARY KEY,
    leaf  BLOB NOT NULL,
    event BLOB NOT NULL
);

-- Every signed tree head, one per committed append.
CREATE TABLE ledger_heads (
    size      INTEGER PRIMARY KEY,
    root      BLOB NOT NULL,
    time      INTEGER NOT NULL,
    key_seq   INTEGER NOT NULL,
    signature BLOB NOT NULL
);

-- The newest head, one row: appends lock it so that writers take turns.
CREATE TABLE ledger_state (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL,
    root BLOB NOT NULL
);
INSERT INTO ledger_state (id, size, root) VALUES (1, 0, X'');

-- Signing keys by the event that introduced them (a projection of the key events).
CREATE TABLE ledger_keys (
    seq        INTEGER PRIMARY KEY,
    public_key BLOB NOT NULL
);

-- Current state. `seq` is the event that last changed the row.
CREATE TABLE units (
    id     TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    parent TEXT,
    seq    INTEGER NOT NULL
);

CREATE TABLE personnel (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    port TEXT,
    seq  INTEGER NOT NULL
);

CREATE TABLE assignments (
    person      TEXT NOT NULL REFERENCES personnel (id),
    unit        TEXT NOT NULL REFERENCES units (id),
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER,
    personnel_order TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (person, valid_from)
);

CREATE TABLE resources (
    id     TEXT PRIMARY KEY,
    kind   TEXT NOT NULL,
    class  TEXT NOT NULL,
    system TEXT,
    port   TEXT,
    seq    INTEGER NOT NULL
);

CREATE TABLE grants (
    id          TEXT PRIMARY KEY,
    person      TEXT NOT NULL REFERENCES personnel (id),
    resource    TEXT NOT NULL REFERENCES resources (id),
    clause      TEXT NOT NULL,
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER,
    status      TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    seq         INTEGER NOT NULL
);
CREATE INDEX grants_by_person ON grants (person);

CREATE TABLE findings (
    id       TEXT PRIMARY KEY,
    clause   TEXT NOT NULL,
    subject  TEXT NOT NULL,
    summary  TEXT NOT NULL,
    evidence TEXT NOT NULL,
    status   TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'remediated', 'reopened')),
    opened   INTEGER NOT NULL,
    seq      INTEGER NOT NULL
);

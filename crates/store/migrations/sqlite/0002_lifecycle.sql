-- The privileged-access lifecycle (issue 4): people's mail addresses and the heads of
-- units, where a resource's access is enforced, and requests, approvals, grant states,
-- tasks, reviews, notifications and API tokens.
ALTER TABLE personnel ADD COLUMN email TEXT;

-- Assignments gain the head of a unit, and a person may hold concurrent assignments
-- (a designation beside their post): one row per person, unit and start.
CREATE TABLE assignments_v2 (
    person          TEXT NOT NULL REFERENCES personnel (id),
    unit            TEXT NOT NULL REFERENCES units (id),
    valid_from      INTEGER NOT NULL,
    valid_until     INTEGER,
    personnel_order TEXT NOT NULL,
    is_head         INTEGER NOT NULL DEFAULT 0,
    seq             INTEGER NOT NULL,
    PRIMARY KEY (person, unit, valid_from)
);
INSERT INTO assignments_v2 (person, unit, valid_from, valid_until, personnel_order, seq)
    SELECT person, unit, valid_from, valid_until, personnel_order, seq FROM assignments;
DROP TABLE assignments;
ALTER TABLE assignments_v2 RENAME TO assignments;
CREATE INDEX assignments_by_unit ON assignments (unit, is_head);
ALTER TABLE resources ADD COLUMN target TEXT;
ALTER TABLE resources ADD COLUMN target_role TEXT;

-- Grants gain the states `suspended` (stopped after a realignment, awaiting revocation)
-- and `expired`, and the request that made them. SQLite cannot change a CHECK in place.
CREATE TABLE grants_v2 (
    id          TEXT PRIMARY KEY,
    person      TEXT NOT NULL REFERENCES personnel (id),
    resource    TEXT NOT NULL REFERENCES resources (id),
    clause      TEXT NOT NULL,
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER,
    status      TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'expired', 'revoked')),
    request     TEXT,
    seq         INTEGER NOT NULL
);
INSERT INTO grants_v2 (id, person, resource, clause, valid_from, valid_until, status, seq)
    SELECT id, person, resource, clause, valid_from, valid_until, status, seq FROM grants;
DROP TABLE grants;
ALTER TABLE grants_v2 RENAME TO grants;
CREATE INDEX grants_by_person ON grants (person);
CREATE INDEX grants_by_status ON grants (status, valid_until);

-- Requests for privileged access (4.1, 4.2) and their approval chains. `chain` lists the
-- unit whose head approves each step (JSON array of unit ids); `approved` counts the
-- steps done; `reasons` is the decision that let the request in or refused it.
CREATE TABLE requests (
    id          TEXT PRIMARY KEY,
    requester   TEXT NOT NULL REFERENCES personnel (id),
    person      TEXT NOT NULL REFERENCES personnel (id),
    resource    TEXT NOT NULL REFERENCES resources (id),
    clause      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('standing', 'just_in_time')),
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused', 'withdrawn', 'expired')),
    chain       TEXT NOT NULL,
    steps       INTEGER NOT NULL,
    approved    INTEGER NOT NULL,
    reasons     TEXT NOT NULL,
    submitted   INTEGER NOT NULL,
    submitted_seq INTEGER NOT NULL,
    expires     INTEGER NOT NULL,
    seq         INTEGER NOT NULL
);
CREATE INDEX requests_by_status ON requests (status, expires);
CREATE INDEX requests_by_person ON requests (person);

-- One row per approval step done: who approved, for which unit, bound to the request's
-- ledger leaf (`digest`), so an approval covers exactly what was asked.
CREATE TABLE approvals (
    request  TEXT NOT NULL REFERENCES requests (id),
    step     INTEGER NOT NULL,
    unit     TEXT NOT NULL,
    approver TEXT NOT NULL REFERENCES personnel (id),
    time     INTEGER NOT NULL,
    digest   TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (request, step)
);

-- Work a person must do and confirm with evidence: removing access on a target Bantay
-- does not reach (section 3's revocation after a realignment).
CREATE TABLE tasks (
    id       TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL,
    reason   TEXT NOT NULL,
    due      INTEGER NOT NULL,
    status   TEXT NOT NULL CHECK (status IN ('open', 'done')),
    evidence TEXT,
    done_by  TEXT,
    seq      INTEGER NOT NULL
);

-- What Bantay did on a real target for a grant: the role it granted, and whether it is
-- still there.
CREATE TABLE enforcements (
    grant_id TEXT PRIMARY KEY,
    target   TEXT NOT NULL,
    role     TEXT NOT NULL,
    login    TEXT NOT NULL,
    status   TEXT NOT NULL CHECK (status IN ('granted', 'removed')),
    seq      INTEGER NOT NULL
);

-- Access reviews: a campaign over standing grants, one item per grant, decided by the
-- head of the holder's unit before the deadline.
CREATE TABLE reviews (
    id       TEXT PRIMARY KEY,
    title    TEXT NOT NULL,
    deadline INTEGER NOT NULL,
    status   TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    opened   INTEGER NOT NULL,
    seq      INTEGER NOT NULL
);
CREATE TABLE review_items (
    review     TEXT NOT NULL REFERENCES reviews (id),
    grant_id   TEXT NOT NULL,
    reviewer   TEXT NOT NULL,
    decision   TEXT NOT NULL CHECK (decision IN ('pending', 'confirmed', 'revoked')),
    decided_by TEXT,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (review, grant_id)
);

-- Whoever must act is told: in Bantay (this table is their inbox) and by mail.
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created    INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    attempts   INTEGER NOT NULL,
    last_error TEXT,
    seq        INTEGER NOT NULL
);
CREATE INDEX notifications_by_recipient ON notifications (recipient);

-- API tokens for scripts and connectors: only the SHA-256 of the secret is kept.
CREATE TABLE api_tokens (
    id      TEXT PRIMARY KEY,
    person  TEXT NOT NULL REFERENCES personnel (id),
    hash    TEXT NOT NULL UNIQUE,
    created INTEGER NOT NULL,
    revoked INTEGER,
    seq     INTEGER NOT NULL
);

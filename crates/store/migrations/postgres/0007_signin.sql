-- Signing in to Bantay itself (issue 7).
--
-- Bantay's own roles beyond what the organisation already says (a unit head heads a
-- unit, the datacenter approver heads the pack's approver unit, a guard is on a roster):
-- auditors and administrators are named by `role.assigned` / `role.removed` events.
CREATE TABLE access_roles (
    person TEXT NOT NULL REFERENCES personnel (id),
    role   TEXT NOT NULL,
    seq    BIGINT NOT NULL,
    PRIMARY KEY (person, role)
);

-- Browser sessions, by the SHA-256 of the cookie's secret (`session.opened`,
-- `session.closed`); the CSRF token is derived from the secret, so it is not kept.
CREATE TABLE sessions (
    hash      TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    person    TEXT NOT NULL REFERENCES personnel (id),
    factors   TEXT NOT NULL,
    created   BIGINT NOT NULL,
    expires   BIGINT NOT NULL,
    closed    BIGINT,
    seq       BIGINT NOT NULL
);

-- Secrets are not evidence: a person's password (argon2id, PHC string) and TOTP secret
-- are kept here, outside the ledger, which records only that they were set
-- (`credential.set`), so that nobody who can read the ledger can try them offline.
-- Replay does not rebuild this table.
CREATE TABLE credentials (
    person   TEXT PRIMARY KEY,
    password TEXT NOT NULL,
    totp     TEXT,
    changed  BIGINT NOT NULL
);

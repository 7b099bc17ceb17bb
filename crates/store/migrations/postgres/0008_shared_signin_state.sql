-- What every `bantay serve` over one database must agree on about signing in, kept here
-- rather than in each process so that several servers (DESIGN.md, "Growing past one
-- machine") and a restarted one hold the same lockout, the same used codes and the same
-- idle clock. Like the credentials, these are not evidence and are outside the ledger
-- (a failed sign-in is logged; replay does not rebuild these tables).

-- Failed sign-ins by key (`name:…`, `address:…`), pruned past the lockout window.
CREATE TABLE signin_failures (
    key  TEXT NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX signin_failures_by_key ON signin_failures (key, failed_at);

-- The last TOTP time step each person signed in with: a code is good once.
CREATE TABLE totp_steps (
    person TEXT PRIMARY KEY,
    step   BIGINT NOT NULL
);

-- When each open session was last used, to a minute, for the idle timeout.
CREATE TABLE session_use (
    reference TEXT PRIMARY KEY,
    last_seen BIGINT NOT NULL
);

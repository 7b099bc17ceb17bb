-- Connectors and detective monitoring (issue 6): the registry of documented system
-- accounts (4.5). Authentication logs are not kept here: an ingest is one ledger event
-- with the hash of what was read, and what it finds becomes findings.
CREATE TABLE system_accounts (
    host      TEXT NOT NULL,
    account   TEXT NOT NULL,
    system    TEXT NOT NULL,
    purpose   TEXT NOT NULL,
    custodian TEXT NOT NULL,
    usage     TEXT NOT NULL,
    -- JSON array of addresses, networks or host names.
    origins   TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (host, account)
);

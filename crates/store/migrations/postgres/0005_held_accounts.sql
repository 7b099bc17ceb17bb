-- Imports of the privileged access that really exists (issue 6): each account a
-- source (a Linux host, a PostgreSQL server, an application's role export) shows with
-- privileged access, on the resource that source is, and the person each is linked to.
-- An import replaces everything known of its source.
CREATE TABLE held_accounts (
    source       TEXT NOT NULL,
    account      TEXT NOT NULL,
    -- linux, postgres or application
    kind         TEXT NOT NULL,
    resource     TEXT NOT NULL REFERENCES resources (id),
    -- root-equivalent, superuser, application administrator
    full_control INTEGER NOT NULL,
    -- JSON array: each way the account holds its access, with where it was read
    how          TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    PRIMARY KEY (source, account)
);

CREATE TABLE account_links (
    source  TEXT NOT NULL,
    account TEXT NOT NULL,
    person  TEXT NOT NULL REFERENCES personnel (id),
    seq     BIGINT NOT NULL,
    PRIMARY KEY (source, account)
);

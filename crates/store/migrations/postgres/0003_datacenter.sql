-- Datacenter access (issue 5): incidents, cameras, the guard roster, emergency passes
-- and the guard's logbook.

-- The helpdesk's incident register (1.1, 1.3.1) with its SLA clocks.
CREATE TABLE incidents (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    priority   TEXT NOT NULL,
    tier       INTEGER NOT NULL,
    owner      TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    opened     BIGINT NOT NULL,
    respond_by BIGINT NOT NULL,
    resolve_by BIGINT NOT NULL,
    responded  BIGINT,
    resolved   BIGINT,
    seq        BIGINT NOT NULL
);

-- CCTV cameras (4.3) and when each was down.
CREATE TABLE cameras (
    datacenter  TEXT NOT NULL,
    camera      TEXT NOT NULL,
    operational INTEGER NOT NULL,
    since       BIGINT NOT NULL,
    note        TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (datacenter, camera)
);
CREATE TABLE camera_outages (
    datacenter TEXT NOT NULL,
    camera     TEXT NOT NULL,
    down_from  BIGINT NOT NULL,
    down_until BIGINT,
    seq        BIGINT NOT NULL,
    PRIMARY KEY (datacenter, camera, down_from)
);

-- The guard roster (4.4): who guards which datacenter when.
CREATE TABLE roster (
    id          TEXT PRIMARY KEY,
    guard       TEXT NOT NULL REFERENCES personnel (id),
    datacenter  TEXT NOT NULL,
    post        TEXT NOT NULL,
    valid_from  BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    seq         BIGINT NOT NULL
);
CREATE INDEX roster_by_datacenter ON roster (datacenter, valid_from);

-- Emergency passes (4.3).
CREATE TABLE passes (
    id          TEXT PRIMARY KEY,
    requester   TEXT NOT NULL REFERENCES personnel (id),
    person      TEXT NOT NULL REFERENCES personnel (id),
    datacenter  TEXT NOT NULL,
    incident    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    valid_from  BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'refused', 'revoked')),
    approver    TEXT,
    reasons     TEXT NOT NULL,
    token       TEXT,
    submitted   BIGINT NOT NULL,
    seq         BIGINT NOT NULL
);

-- 4.3's "one person a shift", held by the database itself: an approved pass takes a
-- slot of every shift its window touches, and a slot is taken once.
CREATE TABLE pass_shifts (
    datacenter  TEXT NOT NULL,
    shift_start BIGINT NOT NULL,
    slot        INTEGER NOT NULL,
    pass        TEXT NOT NULL REFERENCES passes (id),
    seq         BIGINT NOT NULL,
    PRIMARY KEY (datacenter, shift_start, slot)
);

-- The guard's logbook (4.4): every entry, exit and refused attempt.
CREATE TABLE visits (
    id         TEXT PRIMARY KEY,
    pass       TEXT,
    person     TEXT NOT NULL,
    datacenter TEXT NOT NULL,
    guard      TEXT NOT NULL,
    entered    BIGINT NOT NULL,
    exited     BIGINT,
    exit_guard TEXT,
    seq        BIGINT NOT NULL
);
CREATE TABLE guard_log (
    seq        BIGINT PRIMARY KEY,
    datacenter TEXT NOT NULL,
    guard      TEXT NOT NULL,
    time       BIGINT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('entry', 'exit', 'refused')),
    pass       TEXT,
    person     TEXT,
    verdict    TEXT NOT NULL
);

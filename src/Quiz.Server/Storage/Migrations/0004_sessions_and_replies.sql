-- Staff sessions live in the store, not only in the cookie: the cookie names a row here, and every
-- request checks it (still open, not expired, the account still has that role and scope). So a
-- logout, a removed account or a changed scope ends the session on every node at once, and a
-- cookie minted by another instance with the same key ring names no session here.
CREATE TABLE staff_sessions (
    id           TEXT PRIMARY KEY,             -- 128 random bits, carried in the protected cookie
    account_name TEXT NOT NULL COLLATE NOCASE,
    role         TEXT NOT NULL,
    unit_code    TEXT,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    ended_at     TEXT
);
CREATE INDEX staff_sessions_account ON staff_sessions (account_name);

-- Failed logins per name (known or not, so a lockout says nothing about which names exist).
CREATE TABLE login_failures (
    name         TEXT PRIMARY KEY COLLATE NOCASE,
    failures     INTEGER NOT NULL,
    locked_until TEXT
);

-- What a finish reply said, so a repeated Finish, on any node and after any restart, answers the
-- same. attempts_left is known before the commit; the ranks are written once the ranking answered
-- (NULL until then, or when it answered pending: the repeat then asks the boards).
ALTER TABLE results ADD COLUMN attempts_left INTEGER;
ALTER TABLE results ADD COLUMN national_rank INTEGER;
ALTER TABLE results ADD COLUMN unit_rank INTEGER;
ALTER TABLE results ADD COLUMN organisation_rank INTEGER;

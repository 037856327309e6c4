-- As 0003_accounts.sql, for PostgreSQL: SQLite's NOCASE collation does not exist there, so a
-- collation of that name is made first (ICU, level 2: case-insensitive, accent-sensitive). Unlike
-- citext it needs no extension and no change to the queries: `name = @name`, the primary key and
-- ON CONFLICT (name) all compare without case, as on SQLite.
CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

CREATE TABLE accounts (
    name          TEXT COLLATE nocase PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'unit-staff')),
    unit_code     TEXT,
    created_at    TEXT NOT NULL,
    CHECK (role = 'admin' OR unit_code IS NOT NULL)
);

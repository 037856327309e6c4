-- Staff accounts for the dashboard and the admin console. Passwords are ASP.NET Core
-- PasswordHasher hashes; unit staff see only the subtree of their unit (a region or an organisation).
CREATE TABLE accounts (
    name          TEXT PRIMARY KEY COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'unit-staff')),
    unit_code     TEXT,
    created_at    TEXT NOT NULL,
    CHECK (role = 'admin' OR unit_code IS NOT NULL)
);

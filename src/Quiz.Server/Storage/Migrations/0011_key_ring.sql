-- The Data Protection key ring (it signs and encrypts the staff cookie and the antiforgery
-- tokens), shared by every node of the store (issue 13): a cookie minted on one node is read on
-- any other. One row per XML element the key manager writes (a key, or a revocation), never
-- updated; the key manager picks the default key from all of them.
CREATE TABLE data_protection_keys (
    id            INTEGER PRIMARY KEY,
    friendly_name TEXT    NOT NULL,
    xml           TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
);

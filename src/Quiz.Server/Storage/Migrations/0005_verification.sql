-- Registration needs proof of the number (issue 10): a pending registration waits here for its
-- code. The store holds it, not a node's memory, so another node or a restart accepts the code.
-- Only a keyed hash of the code is kept; the row goes once it is used, voided or expired.
-- Times are Unix milliseconds.
CREATE TABLE verifications (
    id                TEXT    PRIMARY KEY,     -- random, handed to the client
    mobile_hash       TEXT    NOT NULL,        -- as participants.mobile_hash
    mobile_masked     TEXT    NOT NULL,
    nickname          TEXT    NOT NULL,        -- the profile given at register: used only for a new number
    region_code       TEXT    NOT NULL,
    organisation_code TEXT,
    track             TEXT    NOT NULL,
    code_hash         TEXT    NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    expires_at        INTEGER NOT NULL
);
CREATE INDEX verifications_expiry ON verifications (expires_at);

-- Every code sent, per number, for the resend interval and the daily cap; kept a day.
CREATE TABLE verification_sends (
    mobile_hash TEXT    NOT NULL,
    sent_at     INTEGER NOT NULL
);
CREATE INDEX verification_sends_number ON verification_sends (mobile_hash, sent_at);
CREATE INDEX verification_sends_time ON verification_sends (sent_at);

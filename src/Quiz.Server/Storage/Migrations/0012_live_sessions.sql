-- Live sessions (issue 16): a host-paced competition. The running state lives in the node that
-- runs the session; what it decides is written here as it happens, so exports and reports read the
-- store, and a node that takes a session over finds its players and every revealed question.
CREATE TABLE live_sessions (
    id         TEXT    PRIMARY KEY,
    code       TEXT    NOT NULL,            -- 6 digits, unique among sessions not ended
    title      TEXT    NOT NULL,
    unit_code  TEXT,
    created_by TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    definition TEXT    NOT NULL,            -- JSON: the questions (id and version), rounds, seconds, speed rule
    phase      TEXT    NOT NULL,
    ended_at   TEXT
);
CREATE INDEX live_sessions_code ON live_sessions (code);

-- Everyone who joined: a guest (nickname and region) or a registered participant.
CREATE TABLE live_players (
    session_id     TEXT    NOT NULL REFERENCES live_sessions (id),
    id             INTEGER NOT NULL,
    rejoin_hash    TEXT    NOT NULL,        -- SHA-256 of the secret rejoin key
    nickname       TEXT    NOT NULL,
    region_code    TEXT,
    participant_id INTEGER,
    joined_at      TEXT    NOT NULL,
    PRIMARY KEY (session_id, id)
);

-- Each question as played: written when it is revealed or skipped.
CREATE TABLE live_questions (
    session_id     TEXT    NOT NULL REFERENCES live_sessions (id),
    question_index INTEGER NOT NULL,
    question_id    TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    skipped        INTEGER NOT NULL,
    shown_at       TEXT    NOT NULL,
    buzz_winner    INTEGER,
    PRIMARY KEY (session_id, question_index)
);

-- The answers of a revealed question, one per player (the key is the "counts once" guard).
CREATE TABLE live_answers (
    session_id     TEXT    NOT NULL,
    question_index INTEGER NOT NULL,
    player_id      INTEGER NOT NULL,
    choices        TEXT    NOT NULL,        -- shown positions, e.g. "0,2"
    correct        INTEGER NOT NULL,
    points         INTEGER NOT NULL,
    elapsed_ms     INTEGER NOT NULL,
    PRIMARY KEY (session_id, question_index, player_id)
);

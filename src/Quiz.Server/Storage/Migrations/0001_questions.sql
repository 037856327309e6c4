-- The question bank. A question is the author's stable id; its content lives in versions, so a
-- finished round can point at exactly the version it was played with.
CREATE TABLE questions (
    id              TEXT PRIMARY KEY,
    current_version INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE question_versions (
    question_id  TEXT    NOT NULL REFERENCES questions (id),
    version      INTEGER NOT NULL,
    content_hash TEXT    NOT NULL,
    type         TEXT    NOT NULL CHECK (type IN ('single', 'multiple', 'truefalse')),
    stem         TEXT    NOT NULL,
    options      TEXT    NOT NULL, -- JSON array of strings
    answer       TEXT    NOT NULL, -- letters of the right options, e.g. 'ACD'
    explanation  TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    tracks       TEXT    NOT NULL, -- JSON array
    category     TEXT    NOT NULL,
    difficulty   INTEGER NOT NULL CHECK (difficulty BETWEEN 1 AND 3),
    tags         TEXT    NOT NULL, -- JSON array
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (question_id, version)
);

CREATE INDEX question_versions_category ON question_versions (category, difficulty);

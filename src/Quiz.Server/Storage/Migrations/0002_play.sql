-- Units: the region hierarchy (province > city > county, deeper optional) and organisations.
CREATE TABLE regions (
    code           TEXT PRIMARY KEY,
    name           TEXT    NOT NULL,
    parent_code    TEXT REFERENCES regions (code),
    level          TEXT    NOT NULL,
    depth          INTEGER NOT NULL,           -- 1 = province
    headcount_base INTEGER NOT NULL CHECK (headcount_base > 0)
);
CREATE INDEX regions_parent ON regions (parent_code, code);

CREATE TABLE organisations (
    code           TEXT PRIMARY KEY,
    name           TEXT    NOT NULL,
    type           TEXT    NOT NULL,
    region_code    TEXT    NOT NULL REFERENCES regions (code),
    headcount_base INTEGER NOT NULL CHECK (headcount_base > 0),
    demo           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX organisations_type ON organisations (type);

-- Campaigns are data: their stages and rules live in the definition (JSON), never in code.
CREATE TABLE campaigns (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    definition TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- A participant is a mobile number, kept only as a keyed hash.
CREATE TABLE participants (
    id                INTEGER PRIMARY KEY,
    mobile_hash       TEXT    NOT NULL UNIQUE,
    mobile_masked     TEXT    NOT NULL,
    nickname          TEXT    NOT NULL,
    region_code       TEXT    NOT NULL REFERENCES regions (code),
    organisation_code TEXT REFERENCES organisations (code),
    track             TEXT    NOT NULL,
    registered_at     TEXT    NOT NULL
);

-- Extra attempts an admin granted for one day of a stage.
CREATE TABLE bonus_attempts (
    campaign_id    TEXT    NOT NULL,
    stage_id       TEXT    NOT NULL,
    participant_id INTEGER NOT NULL REFERENCES participants (id),
    day            TEXT    NOT NULL,
    extra          INTEGER NOT NULL CHECK (extra >= 0),
    PRIMARY KEY (campaign_id, stage_id, participant_id, day)
);

-- Every started round counts against the day's attempts; its questions are fixed at the start.
CREATE TABLE rounds (
    id             TEXT PRIMARY KEY,           -- random, handed to the client
    campaign_id    TEXT    NOT NULL,
    stage_id       TEXT    NOT NULL,
    participant_id INTEGER NOT NULL REFERENCES participants (id),
    day            TEXT    NOT NULL,           -- campaign day (China Standard Time by default)
    started_at     TEXT    NOT NULL,
    deadline       TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('started', 'finished', 'void')),
    questions      TEXT    NOT NULL            -- JSON: [{id, version, order}] as drawn and shuffled
);
CREATE INDEX rounds_attempts ON rounds (participant_id, campaign_id, stage_id, day);

-- A finished round. The id is assigned at commit, so it follows commit order: the ranking engine
-- replays results in this order.
CREATE TABLE results (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id          TEXT    NOT NULL UNIQUE REFERENCES rounds (id),
    campaign_id       TEXT    NOT NULL,
    stage_id          TEXT    NOT NULL,
    participant_id    INTEGER NOT NULL,
    day               TEXT    NOT NULL,
    score             INTEGER NOT NULL,
    max_score         INTEGER NOT NULL,
    correct           INTEGER NOT NULL,
    duration_ms       INTEGER NOT NULL,
    finished_at       TEXT    NOT NULL,
    auto_finished     INTEGER NOT NULL,
    flagged           TEXT,                    -- why the round looks automated; kept, shown to admins
    first_in_campaign INTEGER NOT NULL,
    first_of_day      INTEGER NOT NULL
);
CREATE INDEX results_campaign ON results (campaign_id, id);
CREATE INDEX results_participant ON results (participant_id, campaign_id, day);

CREATE TABLE answers (
    result_id        INTEGER NOT NULL REFERENCES results (id),
    position         INTEGER NOT NULL,
    question_id      TEXT    NOT NULL,
    question_version INTEGER NOT NULL,
    chosen           TEXT    NOT NULL,         -- letters in the bank's own option order, '' = unanswered
    correct          INTEGER NOT NULL,
    points           INTEGER NOT NULL,
    elapsed_ms       INTEGER,
    PRIMARY KEY (result_id, position)
);
CREATE INDEX answers_question ON answers (question_id, question_version);

-- Projections fed by RoundCompleted; rebuildable from results and answers.
CREATE TABLE unit_daily_stats (
    campaign_id      TEXT    NOT NULL,
    unit_kind        TEXT    NOT NULL,         -- 'region' or 'organisation'
    unit_code        TEXT    NOT NULL,
    day              TEXT    NOT NULL,
    new_participants INTEGER NOT NULL DEFAULT 0,
    participants     INTEGER NOT NULL DEFAULT 0, -- distinct persons who played that day
    rounds           INTEGER NOT NULL DEFAULT 0,
    points           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, unit_kind, unit_code, day)
);

CREATE TABLE question_stats (
    question_id      TEXT    NOT NULL,
    question_version INTEGER NOT NULL,
    answered         INTEGER NOT NULL DEFAULT 0,
    correct          INTEGER NOT NULL DEFAULT 0,
    option_counts    TEXT    NOT NULL DEFAULT '[0,0,0,0,0,0,0,0]', -- times each option was chosen
    PRIMARY KEY (question_id, question_version)
);

-- Which results a projection has applied, so a redelivered event changes nothing.
CREATE TABLE projection_applied (
    projection TEXT    NOT NULL,
    result_id  INTEGER NOT NULL,
    PRIMARY KEY (projection, result_id)
);

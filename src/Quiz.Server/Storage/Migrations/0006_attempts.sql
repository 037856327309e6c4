-- The daily attempt cap, held in the database rather than in one node's memory: a start claims an
-- attempt with one conditional upsert (a row lock on both SQLite and PostgreSQL), so starts racing
-- on two nodes can never pass the cap. Voided rounds give their attempt back.
CREATE TABLE attempts (
    participant_id INTEGER NOT NULL,
    campaign_id    TEXT    NOT NULL,
    stage_id       TEXT    NOT NULL,
    day            TEXT    NOT NULL,
    used           INTEGER NOT NULL CHECK (used >= 0),
    PRIMARY KEY (participant_id, campaign_id, stage_id, day)
);

INSERT INTO attempts (participant_id, campaign_id, stage_id, day, used)
SELECT participant_id, campaign_id, stage_id, day, COUNT(*) FROM rounds WHERE status <> 'void'
GROUP BY participant_id, campaign_id, stage_id, day;

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

-- Which node holds a round in play (rounds in play live in that node's memory until issue 13):
-- a node that restarts voids only its own, and rounds of a node that never comes back are voided
-- once they are well past their deadline (a live node finishes its rounds at the deadline).
ALTER TABLE rounds ADD COLUMN node TEXT;

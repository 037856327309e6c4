-- The 2025 season's rules as data (issue 15): ladders per role, invitations, the daily learning
-- task. Each is kept per person in the store and written in the transaction of what earns it, so a
-- repeated Finish or a repeated acknowledgement changes nothing.

-- A scene's ladder per person and campaign: moved by each finished round in the scene, inside the
-- finish transaction (after the check that the round was not finished before).
CREATE TABLE ladders (
    participant_id INTEGER NOT NULL REFERENCES participants (id),
    campaign_id    TEXT    NOT NULL,
    scene          TEXT    NOT NULL,
    step           INTEGER NOT NULL CHECK (step >= 0),
    rescued        INTEGER NOT NULL,          -- 0/1: a round with every answer right, ever
    PRIMARY KEY (participant_id, campaign_id, scene)
);

-- What the finish reply said about the ladder, so a repeated Finish answers the same.
ALTER TABLE results ADD COLUMN ladder_step INTEGER;
ALTER TABLE results ADD COLUMN ladder_rescued INTEGER;

-- Invitations: a participant's code (made on first request), and who invited a participant (set
-- once, when a new number registers with a code: registering again changes nothing).
ALTER TABLE participants ADD COLUMN invite_code TEXT;
CREATE UNIQUE INDEX participants_invite_code ON participants (invite_code);
ALTER TABLE participants ADD COLUMN invited_by INTEGER REFERENCES participants (id);
ALTER TABLE verifications ADD COLUMN invited_by INTEGER;

-- An invitee who took part: one row per invitee and campaign (the key is the guard), written with
-- the invitee's first finished round in a stage that rewards invitations. The inviter's points and
-- extra attempts that day are counted from these rows.
CREATE TABLE invitation_rewards (
    campaign_id TEXT    NOT NULL,
    invitee_id  INTEGER NOT NULL REFERENCES participants (id),
    inviter_id  INTEGER NOT NULL REFERENCES participants (id),
    stage_id    TEXT    NOT NULL,
    day         TEXT    NOT NULL,
    result_id   INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, invitee_id)
);
CREATE INDEX invitation_rewards_inviter ON invitation_rewards (inviter_id, campaign_id, stage_id, day);

-- The daily learning task, done: one row a person, stage and day.
CREATE TABLE learning_tasks (
    participant_id INTEGER NOT NULL REFERENCES participants (id),
    campaign_id    TEXT    NOT NULL,
    stage_id       TEXT    NOT NULL,
    day            TEXT    NOT NULL,
    done_at        TEXT    NOT NULL,
    PRIMARY KEY (participant_id, campaign_id, stage_id, day)
);

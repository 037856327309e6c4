-- Surveys on a campaign (issue 17). The questions are part of the campaign's definition; each
-- version of them is kept here as it was, so answers stay with the questions they answered.
CREATE TABLE survey_versions (
    campaign_id TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    definition  TEXT    NOT NULL,           -- JSON: the survey as the campaign definition had it
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (campaign_id, version)
);

-- One reply a person and campaign (the key is the "answered once" guard), whatever the version.
CREATE TABLE survey_responses (
    campaign_id    TEXT    NOT NULL,
    participant_id INTEGER NOT NULL REFERENCES participants (id),
    version        INTEGER NOT NULL,
    answered_at    TEXT    NOT NULL,
    PRIMARY KEY (campaign_id, participant_id),
    FOREIGN KEY (campaign_id, version) REFERENCES survey_versions (campaign_id, version)
);
CREATE INDEX survey_responses_version ON survey_responses (campaign_id, version);

-- The options chosen, one row each.
CREATE TABLE survey_choices (
    campaign_id    TEXT    NOT NULL,
    participant_id INTEGER NOT NULL,
    question_id    TEXT    NOT NULL,
    option_id      TEXT    NOT NULL,
    PRIMARY KEY (campaign_id, participant_id, question_id, option_id),
    FOREIGN KEY (campaign_id, participant_id) REFERENCES survey_responses (campaign_id, participant_id)
);

-- Free-text answers (at most 100 characters, through the nickname filter): admins only.
CREATE TABLE survey_texts (
    campaign_id    TEXT    NOT NULL,
    participant_id INTEGER NOT NULL,
    question_id    TEXT    NOT NULL,
    text           TEXT    NOT NULL,
    PRIMARY KEY (campaign_id, participant_id, question_id),
    FOREIGN KEY (campaign_id, participant_id) REFERENCES survey_responses (campaign_id, participant_id)
);

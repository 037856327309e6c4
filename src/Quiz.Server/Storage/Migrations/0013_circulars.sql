-- Circulars issued on the schedule (issue 17): the daily dispatch, the weekly review and the
-- half-month circular of each province and city office, kept as the files were on the evening
-- they were issued. The unique key is the "issued once" guard: two nodes, or a node restarted
-- after its look, write one row per circular whatever they generate (INSERT .. ON CONFLICT DO NOTHING).
CREATE TABLE issued_circulars (
    id          INTEGER PRIMARY KEY,
    campaign_id TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('daily', 'weekly', 'half-month')),
    unit_code   TEXT    NOT NULL,
    period_from TEXT    NOT NULL,           -- campaign days, yyyy-MM-dd, both included
    period_to   TEXT    NOT NULL,
    issued_at   TEXT    NOT NULL,
    docx        BLOB    NOT NULL,
    xlsx        BLOB    NOT NULL,           -- the annex, as issued with it
    UNIQUE (campaign_id, kind, unit_code, period_from, period_to)
);
CREATE INDEX issued_circulars_campaign ON issued_circulars (campaign_id, period_to);

-- A circular's weak topics read the answers of one period's results: without this, finding them
-- walked every result of the campaign (results_campaign is by id) for each province and city.
CREATE INDEX results_campaign_day ON results (campaign_id, day, participant_id);

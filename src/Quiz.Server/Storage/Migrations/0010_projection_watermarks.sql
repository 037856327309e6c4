-- How far each projection has applied every finished round (issue 11): all results with an id up
-- to result_id are applied. The catch-up from the store starts there after a restart instead of
-- re-reading every result, the consumers skip events at or below it, and the claims of
-- projection_applied at or below it are no longer needed and are deleted.
CREATE TABLE projection_watermarks (
    projection TEXT    PRIMARY KEY,
    result_id  INTEGER NOT NULL
);

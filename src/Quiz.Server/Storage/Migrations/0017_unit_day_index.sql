-- A refresh of a day's unit boards (UnitStandings) reads that day's rows of a campaign; the key
-- starts with the unit, so without this it scanned every day of the campaign (BENCHMARKS.md,
-- "A day's unit boards by an index").
CREATE INDEX unit_daily_stats_day ON unit_daily_stats (campaign_id, day);

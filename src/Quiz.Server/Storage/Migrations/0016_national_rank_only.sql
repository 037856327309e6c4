-- A finish ranks the person nationally only (BENCHMARKS.md, "The finish ranks nationally"): the
-- county and organisation ranks are read with the person's standing, so a finish reply kept for a
-- repeated Finish holds no ranks but the national one.
ALTER TABLE results DROP COLUMN unit_rank;
ALTER TABLE results DROP COLUMN organisation_rank;

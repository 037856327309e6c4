-- The finish reply carries the person's county and organisation places again, with each board's
-- size (BENCHMARKS.md, "The places back in the finish"): kept, as the national rank is, so that a
-- repeated Finish answers what the first one did.
ALTER TABLE results ADD COLUMN national_size INTEGER;
ALTER TABLE results ADD COLUMN unit_rank INTEGER;
ALTER TABLE results ADD COLUMN unit_size INTEGER;
ALTER TABLE results ADD COLUMN organisation_rank INTEGER;
ALTER TABLE results ADD COLUMN organisation_size INTEGER;

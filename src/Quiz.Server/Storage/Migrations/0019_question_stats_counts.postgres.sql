-- The times each option was chosen, as eight integer columns instead of one JSON text: the
-- question-stats projection adds a whole batch to them in one upsert, where adding to a JSON text
-- took two statements a question, or eight JSON reads a row in SQL (BENCHMARKS.md, "The
-- projections' statements folded").
ALTER TABLE question_stats
    ADD COLUMN chosen_a bigint NOT NULL DEFAULT 0,
    ADD COLUMN chosen_b bigint NOT NULL DEFAULT 0,
    ADD COLUMN chosen_c bigint NOT NULL DEFAULT 0,
    ADD COLUMN chosen_d bigint NOT NULL DEFAULT 0,
    ADD COLUMN chosen_e bigint NOT NULL DEFAULT 0,
    ADD COLUMN chosen_f bigint NOT NULL DEFAULT 0,
    ADD COLUMN chosen_g bigint NOT NULL DEFAULT 0,
    ADD COLUMN chosen_h bigint NOT NULL DEFAULT 0;
UPDATE question_stats SET chosen_a = COALESCE((option_counts::json ->> 0)::bigint, 0), chosen_b = COALESCE((option_counts::json ->> 1)::bigint, 0), chosen_c = COALESCE((option_counts::json ->> 2)::bigint, 0), chosen_d = COALESCE((option_counts::json ->> 3)::bigint, 0), chosen_e = COALESCE((option_counts::json ->> 4)::bigint, 0), chosen_f = COALESCE((option_counts::json ->> 5)::bigint, 0), chosen_g = COALESCE((option_counts::json ->> 6)::bigint, 0), chosen_h = COALESCE((option_counts::json ->> 7)::bigint, 0);
ALTER TABLE question_stats DROP COLUMN option_counts;

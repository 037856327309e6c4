-- The times each option was chosen, as eight integer columns instead of one JSON text: the
-- question-stats projection adds a whole batch to them in one upsert, where adding to a JSON text
-- took two statements a question, or eight JSON reads a row in SQL (BENCHMARKS.md, "The
-- projections' statements folded").
ALTER TABLE question_stats ADD COLUMN chosen_a INTEGER NOT NULL DEFAULT 0;
ALTER TABLE question_stats ADD COLUMN chosen_b INTEGER NOT NULL DEFAULT 0;
ALTER TABLE question_stats ADD COLUMN chosen_c INTEGER NOT NULL DEFAULT 0;
ALTER TABLE question_stats ADD COLUMN chosen_d INTEGER NOT NULL DEFAULT 0;
ALTER TABLE question_stats ADD COLUMN chosen_e INTEGER NOT NULL DEFAULT 0;
ALTER TABLE question_stats ADD COLUMN chosen_f INTEGER NOT NULL DEFAULT 0;
ALTER TABLE question_stats ADD COLUMN chosen_g INTEGER NOT NULL DEFAULT 0;
ALTER TABLE question_stats ADD COLUMN chosen_h INTEGER NOT NULL DEFAULT 0;
UPDATE question_stats SET chosen_a = COALESCE(option_counts ->> 0, 0), chosen_b = COALESCE(option_counts ->> 1, 0), chosen_c = COALESCE(option_counts ->> 2, 0), chosen_d = COALESCE(option_counts ->> 3, 0), chosen_e = COALESCE(option_counts ->> 4, 0), chosen_f = COALESCE(option_counts ->> 5, 0), chosen_g = COALESCE(option_counts ->> 6, 0), chosen_h = COALESCE(option_counts ->> 7, 0);
ALTER TABLE question_stats DROP COLUMN option_counts;

-- Scenes (issue 15): a stage may let the participant pick a scene for a round (2024: campus,
-- workplace, city, countryside), one scene a day. The day's scene is held on the day's attempts
-- row, so the one upsert that claims an attempt also holds the scene, on any node ('' = a stage
-- without scenes).
ALTER TABLE attempts ADD COLUMN scene TEXT NOT NULL DEFAULT '';

-- The scene a round was played in: the pool it drew from, and the group its score counts in
-- (rule best-per-scene-summed), read back when the ranking is rebuilt from the store.
ALTER TABLE rounds ADD COLUMN scene TEXT;

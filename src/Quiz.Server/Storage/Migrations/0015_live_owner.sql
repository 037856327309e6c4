-- One node runs a live session at a time (issue 16). A node that loads a session takes the next
-- owner number; each write of the session first checks that the number is still its own, so a
-- node that lost the session (the balancer sent its room elsewhere while it was slow or away)
-- writes nothing more and drops its copy, instead of two nodes deciding the same room.
ALTER TABLE live_sessions ADD COLUMN owner INTEGER NOT NULL DEFAULT 0;

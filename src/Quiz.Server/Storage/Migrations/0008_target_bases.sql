-- Headcount bases by kind (issue 15): besides its resident adults (headcount_base), a region may
-- carry the headcount officials set as the target (e.g. 20 % of residents aged 18–60). A campaign
-- says which of the two its participation rate divides by; NULL = no target given for the region.
ALTER TABLE regions ADD COLUMN target_base INTEGER CHECK (target_base > 0);

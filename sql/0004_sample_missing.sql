-- Why a sample has no value, so that decide can say "stale" rather than "missing": 'stale' (the
-- source dated it older than [METRICS] max_age) or 'out_of_range' (NaN, infinite, negative, or
-- a load above 1e9); NULL when it has a value or no reason is known. See policy::Missing.
ALTER TABLE load_samples ADD COLUMN missing TEXT;

-- Features derived again for products whose blocking keys came from older rules.
CREATE TEMP TABLE rekeyed (id bigint PRIMARY KEY, features jsonb NOT NULL) ON COMMIT DROP

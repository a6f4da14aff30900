-- Staging for one product_matches run; dropped at commit.
CREATE TEMP TABLE staged_products (
    product_key   text PRIMARY KEY,
    name          text NOT NULL,
    brand         text,
    category      text NOT NULL,
    category_name text NOT NULL,
    product_code  text,
    attributes    jsonb NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE staged_matches (
    listing_id  bigint PRIMARY KEY,
    product_key text NOT NULL,
    method      text NOT NULL,
    score       double precision NOT NULL,
    signature   text NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE staged_keys (
    product_key text NOT NULL,
    key         text NOT NULL
) ON COMMIT DROP

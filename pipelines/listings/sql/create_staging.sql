-- Staging tables for one listings partition; they vanish at commit.
CREATE TEMP TABLE staged_items (
    external_id  text PRIMARY KEY,
    title        text NOT NULL,
    price        numeric(16, 3),
    currency     char(3) NOT NULL,
    price_kind   text NOT NULL,
    condition    text,
    location     text,
    url          text,
    seller       text,
    product_code text,
    is_sold      boolean NOT NULL,
    seen_at      timestamptz NOT NULL,
    attributes   jsonb NOT NULL,
    images       jsonb NOT NULL,
    metadata     jsonb NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE staged_positions (
    search_id   bigint NOT NULL,
    external_id text NOT NULL,
    position    integer NOT NULL,
    page        integer NOT NULL
) ON COMMIT DROP;

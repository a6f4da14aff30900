-- Per search of the staged partition: its listings (positions) and how often each field that may
-- be empty was found on them, so an audit can name the searches where a field went missing.
SELECT p.search_id, count(*) AS listings,
       count(i.url) AS url, count(i.condition) AS condition, count(i.location) AS location,
       count(i.seller) AS seller, count(i.product_code) AS product_code,
       count(*) FILTER (WHERE jsonb_array_length(i.images) > 0) AS images,
       count(*) FILTER (WHERE i.attributes <> '{}'::jsonb) AS attributes
FROM staged_positions p JOIN staged_items i ON i.external_id = p.external_id
GROUP BY p.search_id;

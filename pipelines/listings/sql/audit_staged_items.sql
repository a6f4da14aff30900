-- The staged partition as the audits see it, before anything is published: its listings, how
-- often each field that may be empty was found, price problems and currencies.
SELECT count(*) AS listings,
       count(url) AS url, count(condition) AS condition, count(location) AS location,
       count(seller) AS seller, count(product_code) AS product_code,
       count(*) FILTER (WHERE jsonb_array_length(images) > 0) AS images,
       count(*) FILTER (WHERE attributes <> '{}'::jsonb) AS attributes,
       count(*) FILTER (WHERE price_kind = 'priced') AS priced,
       count(*) FILTER (WHERE price_kind = 'priced' AND price IS NULL) AS priced_without_price,
       count(*) FILTER (WHERE price < 0) AS negative,
       (array_agg(external_id ORDER BY external_id)
            FILTER (WHERE (price_kind = 'priced' AND price IS NULL) OR price < 0))[1:10] AS examples,
       coalesce((SELECT jsonb_object_agg(c.currency, c.n ORDER BY c.currency)
                 FROM (SELECT currency, count(*) AS n FROM staged_items GROUP BY currency) c),
                '{}'::jsonb) AS currencies
FROM staged_items;

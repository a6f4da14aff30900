-- For the rest of the partition's transaction: index probes cost what they cost on a cached or SSD
-- warehouse. With the default (4, spinning disk) the audits' reads joined the vendor's recent
-- sightings to listings by hashing the whole listings table, whose size grows with every listing
-- ever seen; at 1.1 they look those listings up by key.
SET LOCAL random_page_cost = 1.1;

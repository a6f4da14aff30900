-- Serialise writes to one vendor's archive partitions (transaction-scoped advisory lock on
-- (namespace, vendor id)): a scheduled fetch and an on-demand search of the same day must not both
-- find no search of a query and both add one.
SELECT pg_advisory_xact_lock(:namespace, :vendor_id);

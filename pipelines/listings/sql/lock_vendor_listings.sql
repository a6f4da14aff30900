-- Serialise the listings partitions of one vendor (transaction-scoped advisory lock on
-- (namespace, vendor id)): each derives state over all of the vendor's listings.
SELECT pg_advisory_xact_lock(:namespace, :vendor_id);

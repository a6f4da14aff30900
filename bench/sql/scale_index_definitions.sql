-- The indexes of the tables bench/scale.py fills in bulk, and how to drop and rebuild each: a
-- primary key or unique constraint by ALTER TABLE, any other index by DROP / CREATE INDEX (on a
-- partitioned table both act on every partition). Constraint-backed indexes of tables that other
-- tables' foreign keys point at are left alone (:keep_constraints).
SELECT c.relname AS table_name, i.relname AS index_name,
       CASE WHEN con.oid IS NOT NULL
            THEN format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.relname, con.conname, pg_get_constraintdef(con.oid))
            -- a partitioned index's definition reads ON ONLY (the parent alone): build it on every partition
            ELSE replace(pg_get_indexdef(i.oid), ' ON ONLY ', ' ON ') END AS create_sql,
       CASE WHEN con.oid IS NOT NULL THEN format('ALTER TABLE %I DROP CONSTRAINT %I', c.relname, con.conname)
            ELSE format('DROP INDEX %I', i.relname) END AS drop_sql
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
LEFT JOIN pg_constraint con ON con.conindid = i.oid AND con.conrelid = c.oid AND con.contype IN ('p', 'u')
WHERE c.relname = ANY(:tables)
  AND NOT (con.oid IS NOT NULL AND c.relname = ANY(:keep_constraints))
ORDER BY c.relname, i.relname;

-- What our rollup SQL sets: sorts of ~1M rows stay in memory.
SET LOCAL work_mem = '128MB';

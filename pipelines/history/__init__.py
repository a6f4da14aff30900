"""The tables that grow with time, partitioned by month: partitions made ahead, whole months dropped."""

"""On-demand search: some vendors searched for one query now, through the scheduled scrape's own code.

The front door (``POST /api/v1/searches``) and ``market-pulse search`` record a request
(`store.create_request`) and hand its id to `search.run_search`, which for each vendor fetches the
query with the vendor's politeness rules, archives the pages into the day's ``raw_captures``
partition, publishes the day's ``listings`` partition with the same write-audit-publish step, and
reports both materialisations to Dagster; its timeline (`search_request_events`) is what the event
stream replays.
"""

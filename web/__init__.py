"""The front door: logins, roles, same-origin checks and API keys in front of the Dagster UI (and,
later, the HTTP API). Imports domain logic, stores and ``infra``; never the downloader."""

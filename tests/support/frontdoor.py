"""Logging in to the front door the way a browser does (form POST, session cookie), with httpx."""

from __future__ import annotations

import re
import secrets

import httpx

ONE_TIME_PASSWORD = re.compile(r"with the one-time password\s*\n\s*\n\s+(\S+)")


def one_time_password(log_text: str) -> str:
    """The first admin's one-time password as `market-pulse dev` prints it on first start."""
    match = ONE_TIME_PASSWORD.search(log_text)
    assert match, f"no one-time password in the log:\n{log_text[-3000:]}"
    return match.group(1)


def session_client(base_url: str) -> httpx.Client:
    """A client that says it comes from the front door's own pages (as a browser would)."""
    return httpx.Client(base_url=base_url, headers={"Origin": base_url}, timeout=60, follow_redirects=False)


def log_in(base_url: str, username: str, password: str) -> httpx.Client:
    client = session_client(base_url)
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 303, f"login as {username}: {response.status_code} {response.text[:300]}"
    return client


def first_login(base_url: str, username: str, one_time: str) -> tuple[httpx.Client, str]:
    """Log in with a one-time password and choose a new one, as the login page makes a newcomer do."""
    client = log_in(base_url, username, one_time)
    assert client.get("/server_info").status_code == 403, "a one-time password must be changed first"
    new = secrets.token_urlsafe(18)
    response = client.post("/account/password", data={"current": one_time, "new": new, "confirm": new})
    assert response.status_code == 303, f"password change: {response.status_code} {response.text[:300]}"
    return client, new

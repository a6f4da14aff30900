"""Vendor sessions: cookie exports, encryption at rest (Fernet / MultiFernet), storage, the CLI.

The end-to-end behaviour (cookies sent by both fetchers, a login wall failing the vendor, no
secret in logs, metadata or the archive) is in ``tests/test_sessions_pipeline.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import yaml
from sqlalchemy import text
from typer.testing import CliRunner

from cli.main import app
from infra.secrets import SECRET_KEY_ENV, SecretBox, SecretKeyError, generate_key
from infra.settings import PROJECT_ROOT
from pipelines.scraping.sessions import (
    Cookie,
    CookieImportError,
    import_session,
    list_sessions,
    load_valid_session,
    mark_session_invalid,
    parse_cookie_export,
    rotate_session_keys,
    to_httpx_cookies,
    to_playwright_cookies,
)
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.config.vendor import VendorConfig, parse_vendor

SECRET = "s3cr3t-c00kie-VALUE-42"
FUTURE = time.time() + 30 * 86400
SOON = time.time() + 86400

EDIT_THIS_COOKIE = json.dumps([
    {"domain": ".shop.example", "expirationDate": FUTURE, "hostOnly": False, "httpOnly": True,
     "name": "SPC_EC", "path": "/", "sameSite": "no_restriction", "secure": True, "session": False,
     "storeId": "0", "value": SECRET, "id": 1},
    {"domain": "shop.example", "hostOnly": True, "httpOnly": False, "name": "csrftoken", "path": "/",
     "sameSite": "lax", "secure": False, "session": True, "storeId": "0", "value": "tok", "id": 2},
    {"domain": ".shop.example", "expirationDate": SOON, "name": "SPC_U", "path": "/", "value": "12345"},
])
PLAYWRIGHT_STATE = json.dumps({"cookies": [
    {"name": "sid", "value": SECRET, "domain": "127.0.0.1", "path": "/", "expires": -1, "httpOnly": True,
     "secure": False, "sameSite": "Lax"}], "origins": []})
NETSCAPE = f"""# Netscape HTTP Cookie File
# This is a generated file!  Do not edit.

.shop.example\tTRUE\t/\tTRUE\t{int(FUTURE)}\tSPC_EC\t{SECRET}
#HttpOnly_shop.example\tFALSE\t/account\tFALSE\t0\tsession_id\tabc
"""


def test_reads_extension_json_playwright_state_and_netscape() -> None:
    cookies, fmt = parse_cookie_export(EDIT_THIS_COOKIE)
    assert fmt == "json" and [c.name for c in cookies] == ["SPC_EC", "csrftoken", "SPC_U"]
    spc = cookies[0]
    assert (spc.domain, spc.secure, spc.http_only, spc.same_site) == (".shop.example", True, True, "None")
    assert spc.expires == pytest.approx(FUTURE) and cookies[1].expires is None and cookies[1].same_site == "Lax"

    (sid,), fmt = parse_cookie_export(PLAYWRIGHT_STATE)
    assert fmt == "json" and sid.expires is None and sid.value == SECRET

    cookies, fmt = parse_cookie_export(NETSCAPE)
    assert fmt == "netscape" and [c.name for c in cookies] == ["SPC_EC", "session_id"]
    assert cookies[0].secure and cookies[0].expires == int(FUTURE)
    assert cookies[1].http_only and cookies[1].path == "/account" and cookies[1].expires is None


@pytest.mark.parametrize(("content", "message"), [
    ("", "the file is empty"),
    ("[{\"name\": \"a\", \"value\": \"" + SECRET + "\"}]", "cookie #1 (a): missing \"domain\""),
    ("{\"nope\": 1}", "expected a JSON list of cookies"),
    ("[1, 2", "invalid JSON at line 1"),
    (".x\tTRUE\t/\tFALSE\tsoon\tname\t" + SECRET, "line 1 (name): expiry 'soon' is not a number"),
    (".x\tTRUE\t" + SECRET, "line 1: expected 7 tab-separated fields"),
])
def test_unreadable_exports_say_where_without_the_value(content: str, message: str) -> None:
    with pytest.raises(CookieImportError) as excinfo:
        parse_cookie_export(content)
    assert message in str(excinfo.value)
    assert SECRET not in str(excinfo.value)


def test_cookie_repr_hides_value_and_fetcher_forms() -> None:
    cookies, _ = parse_cookie_export(EDIT_THIS_COOKIE)
    assert SECRET not in repr(cookies) and "SPC_EC" in repr(cookies)
    jar = to_httpx_cookies(cookies)
    assert jar.get("SPC_EC", domain=".shop.example") == SECRET
    pw = to_playwright_cookies(cookies)
    assert pw[0]["sameSite"] == "None" and pw[1]["expires"] == -1 and pw[0]["httpOnly"] is True


def test_cookies_outside_the_vendors_hosts_are_refused_at_import() -> None:
    from pipelines.scraping.sessions import check_cookie_domains

    def cookie(name: str, domain: str) -> Cookie:
        return Cookie(name=name, value=SECRET, domain=domain)

    www = shop_vendor("https://www.shop.example", allowed_hosts=["*.img.shop.example", "api.shop.example:8443",
                                                                   "10.0.0.0/8"])
    check_cookie_domains([cookie("a", "www.shop.example"), cookie("b", ".shop.example"),
                          cookie("c", "cdn.img.shop.example"), cookie("d", ".img.shop.example"),
                          cookie("e", "api.shop.example"), cookie("f", "10.1.2.3")], www)
    with pytest.raises(CookieImportError) as refused:
        check_cookie_domains([cookie("ok", ".shop.example"), cookie("tracker", ".ads.example"),
                              cookie("sibling", "accounts.shop.example"), cookie("tld", ".example")], www)
    message = str(refused.value)
    assert message.startswith("3 cookie(s) are for domains outside shop's hosts (www.shop.example, "
                              "*.img.shop.example, api.shop.example, 10.0.0.0/8): tracker (.ads.example), "
                              "sibling (accounts.shop.example), tld (.example)")
    assert "allowed_hosts" in message and SECRET not in message and "ok (" not in message


def test_domain_flags_of_exports_are_kept() -> None:
    exported = json.dumps([
        {"domain": "shop.example", "hostOnly": False, "name": "wide", "value": "1", "secure": True},
        {"domain": "www.shop.example", "hostOnly": True, "name": "narrow", "value": "2", "path": "/cart"}])
    wide, narrow = parse_cookie_export(exported)[0]
    assert (wide.domain, wide.secure) == (".shop.example", True), "a domain cookie keeps reaching subdomains"
    assert (narrow.domain, narrow.path) == ("www.shop.example", "/cart")
    netscape = parse_cookie_export("shop.example\tTRUE\t/\tFALSE\t0\tn\tv\n")[0][0]
    assert netscape.domain == ".shop.example"
    jar = {c.name: c for c in to_httpx_cookies([wide, narrow]).jar}
    assert jar["wide"].domain_initial_dot and jar["wide"].secure
    assert not jar["narrow"].domain_specified and jar["narrow"].path == "/cart"


def test_secret_box_encrypts_and_rotates_keys() -> None:
    old, new = generate_key(), generate_key()
    token = SecretBox(secret_key=old).encrypt(SECRET.encode())
    assert SECRET.encode() not in token
    both = SecretBox(secret_key=f"{new}, {old}")
    assert both.decrypt(token) == SECRET.encode(), "old keys still decrypt"
    rotated = both.rotate(token)
    assert SecretBox(secret_key=new).decrypt(rotated) == SECRET.encode(), "rotated to the first key"
    with pytest.raises(SecretKeyError, match="cannot decrypt with any key"):
        SecretBox(secret_key=new).decrypt(token)
    assert new not in repr(both) and old not in repr(both)


def test_secret_box_errors_name_the_variable_not_the_key() -> None:
    with pytest.raises(SecretKeyError, match=f"{SECRET_KEY_ENV} is not set"):
        SecretBox().encrypt(b"x")
    bad = "not-a-fernet-key-" + SECRET
    with pytest.raises(SecretKeyError) as excinfo:
        SecretBox(secret_key=f"{generate_key()},{bad}").check()
    assert "key #2 of 2 is not a Fernet key" in str(excinfo.value) and bad not in str(excinfo.value)


def shop_vendor(base_url: str = "https://shop.example", **options: object) -> VendorConfig:
    """The toko vendor file as a shop named "shop" on ``base_url`` (the exports' domain)."""
    data = yaml.safe_load((PROJECT_ROOT / "vendors" / "toko.yaml").read_text(encoding="utf-8"))
    return parse_vendor({**data, "name": "shop", "base_url": base_url, **options}, source="shop")


SHOP = shop_vendor()
LOCAL = shop_vendor("http://127.0.0.1:8765")  # the Playwright state's cookie is for 127.0.0.1


@pytest.fixture(scope="module")
def vendor_id(warehouse: Warehouse) -> int:
    with warehouse.begin() as conn:
        return conn.execute(text("""
            INSERT INTO vendors (name, display_name, base_url, currency)
            VALUES ('shop', 'Shop', 'http://127.0.0.1', 'USD') RETURNING id""")).scalar_one()


def test_store_encrypts_tracks_expiry_and_validity(warehouse: Warehouse, vendor_id: int) -> None:
    box = SecretBox(secret_key=generate_key())
    cookies, _ = parse_cookie_export(EDIT_THIS_COOKIE)
    with warehouse.begin() as conn:
        store = {"vendor": SHOP, "vendor_id": vendor_id, "cookies": cookies}
        first = import_session(conn, box, **store, source="json:a.json")
        second = import_session(conn, box, **store, source="json:b.json", label="me")
        stored = conn.execute(text("SELECT cookies_encrypted, expires_at FROM vendor_sessions WHERE id = :id"),
                              {"id": second}).one()
        assert SECRET.encode() not in bytes(stored.cookies_encrypted)
        assert stored.expires_at.timestamp() == pytest.approx(SOON, abs=1), "earliest persistent expiry"
        loaded = load_valid_session(conn, box, vendor_id)
        assert loaded is not None and loaded.id == second
        assert {c.name: c.value for c in loaded.cookies}["SPC_EC"] == SECRET
        infos = {i.id: i for i in list_sessions(conn, "shop")}
        assert not infos[first].is_valid and infos[first].invalid_reason == "replaced by a newer import"
        assert infos[second].is_valid and infos[second].cookie_count == 3 and SECRET not in repr(infos)
        assert infos[second].last_used_at is not None
        # past its expiry: not used, and marked invalid on the way
        later = dt.datetime.fromtimestamp(SOON + 60, dt.UTC)
        assert load_valid_session(conn, box, vendor_id, now=later) is None
        reason = conn.execute(text("SELECT invalid_reason FROM vendor_sessions WHERE id = :id"),
                              {"id": second}).scalar_one()
        assert reason.startswith("expired at ")
        third = import_session(conn, box, **store, source="json:c.json")
        mark_session_invalid(conn, third, "session expired: import a fresh one")
        assert load_valid_session(conn, box, vendor_id) is None
        with pytest.raises(CookieImportError, match="already expired"):
            import_session(conn, box, vendor=SHOP, vendor_id=vendor_id, source="x",
                           cookies=[Cookie(name="a", value="b", domain="shop.example", expires=time.time() - 10)])


def test_rotation_re_encrypts_every_row(warehouse: Warehouse, vendor_id: int) -> None:
    old, new = generate_key(), generate_key()
    cookies, _ = parse_cookie_export(PLAYWRIGHT_STATE)
    with warehouse.begin() as conn:
        conn.execute(text("DELETE FROM vendor_sessions"))
        store = {"vendor": LOCAL, "vendor_id": vendor_id, "cookies": cookies}
        import_session(conn, SecretBox(secret_key=old), **store, source="x")
        import_session(conn, SecretBox(secret_key=generate_key()), **store, source="y")
        conn.execute(text("UPDATE vendor_sessions SET is_valid = true"))
        rotated, unreadable = rotate_session_keys(conn, SecretBox(secret_key=f"{new},{old}"))
        assert rotated == 1 and len(unreadable) == 1, "a row of a lost key is reported, not fatal"
        conn.execute(text("DELETE FROM vendor_sessions WHERE id = ANY(:ids)"), {"ids": unreadable})
        loaded = load_valid_session(conn, SecretBox(secret_key=new), vendor_id)
        assert loaded is not None and loaded.cookies[0].value == SECRET


def test_cli_import_list_rotate_never_prints_values(warehouse: Warehouse, vendor_id: int, tmp_path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    with warehouse.begin() as conn:
        conn.execute(text("DELETE FROM vendor_sessions"))
    monkeypatch.setenv("MARKET_PULSE_DATABASE_URL", warehouse.database_url)
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    vendors = tmp_path / "vendors"
    vendors.mkdir()
    (vendors / "shop.yaml").write_text(yaml.safe_dump(SHOP.model_dump(mode="json", by_alias=True, exclude_unset=True)))
    monkeypatch.setenv("MARKET_PULSE_VENDORS_DIR", str(vendors))
    export = tmp_path / "cookies.txt"
    export.write_text(NETSCAPE)
    missing = runner.invoke(app, ["sessions", "import", "shop", str(export)])
    assert missing.exit_code == 1 and f"{SECRET_KEY_ENV} is not set" in missing.output

    key = runner.invoke(app, ["sessions", "generate-key"]).output.strip()
    monkeypatch.setenv(SECRET_KEY_ENV, key)
    foreign = tmp_path / "foreign.txt"
    foreign.write_text(NETSCAPE + f".ads.example\tTRUE\t/\tFALSE\t0\ttrack\t{SECRET}\n")
    refused = runner.invoke(app, ["sessions", "import", "shop", str(foreign)])
    assert refused.exit_code == 1 and "outside shop's hosts" in refused.output
    assert "track (.ads.example)" in refused.output and SECRET not in refused.output
    imported = runner.invoke(app, ["sessions", "import", "shop", str(export), "--label", "alice"])
    assert imported.exit_code == 0, imported.output
    assert "2 cookie(s) from netscape export, encrypted" in imported.output
    unknown = runner.invoke(app, ["sessions", "import", "nosuchshop", str(export)])
    assert unknown.exit_code == 1 and "materialize vendor_catalog first" in unknown.output

    listed = runner.invoke(app, ["sessions", "list"])
    assert listed.exit_code == 0 and "shop" in listed.output and "valid" in listed.output
    assert "alice" in listed.output

    new = generate_key()
    monkeypatch.setenv(SECRET_KEY_ENV, f"{new},{key}")
    rotated = runner.invoke(app, ["sessions", "rotate-key"])
    assert rotated.exit_code == 0 and "re-encrypted" in rotated.output, rotated.output
    with warehouse.connect() as conn:
        assert load_valid_session(conn, SecretBox(secret_key=new), vendor_id) is not None
    invalidated = runner.invoke(app, ["sessions", "invalidate", "shop"])
    assert invalidated.exit_code == 0 and "1 session(s) of shop invalidated" in invalidated.output
    for result in (imported, listed, rotated, invalidated):
        assert SECRET not in result.output and key not in result.output and new not in result.output

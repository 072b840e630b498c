"""Fixtures for the browser UI: signed-in test clients, a live server, Playwright + chromium."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from core.config import PROJECT_ROOT, Settings
from crm_domain.access import actor_for
from crm_domain.org import create_org_unit
from crm_domain.record_service import create_record
from crm_domain.users import create_user
from engine.definitions import UploadedFile, deploy_files
from engine.instances import start_instance
from tests.conftest import PROCESSES, TEST_SECRET
from web.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
PASSWORD = "correct-horse-1"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


class Browserless:
    """The Flask test client signed in through the real login form."""

    def __init__(self, client):
        self.client = client
        self.token = ""

    def get(self, url: str, **kw):
        response = self.client.get(url, **kw)
        if response.mimetype == "text/html" and 'name="csrf_token"' in response.text:
            self.token = csrf_of(response.text)
        return response

    def post(self, url: str, data: dict | None = None, **kw):
        if not self.token:
            self.get("/login")
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kw)


@pytest.fixture
def web_client(app):
    return Browserless(app.test_client())


@pytest.fixture
def signed_in(app, make_user):
    """signed_in('salesperson', username=..., lang='zh_CN') -> a Browserless for a new user."""

    def _sign_in(*roles: str, user=None, lang: str | None = None, **user_options) -> Browserless:
        user = user or make_user(*roles, password=PASSWORD, **user_options)
        web = Browserless(app.test_client())
        if lang:
            web.post("/language", {"lang": lang})
        response = web.post("/login", {"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.text
        web.user = user
        web.get("/inbox")
        return web

    return _sign_in


def deploy_approval(session: Session) -> None:
    folder = PROCESSES / "approval"
    names = ("quote_discount_approval.bpmn", "prepare_quote.json", "discount_approval.json")
    files = [UploadedFile(name, (folder / name).read_bytes()) for name in names]
    deploy_files(session, files, None, 5 * 1024 * 1024)


@pytest.fixture
def quote_process(session):
    """The shipped quote discount approval process, deployed; returns a starter."""
    deploy_approval(session)
    session.commit()

    def _start(starter, customer_id: int | None = None):
        subject = {"type": "customer", "id": customer_id} if customer_id else None
        instance = start_instance(session, starter, "quote_discount_approval", subject=subject)
        session.commit()
        return instance

    return _start


# --- the live server and the browser -------------------------------------------------------


@pytest.fixture
def live_app(committed_factory: sessionmaker[Session], database_url: str, tmp_path: Path):
    settings = Settings(database_url=database_url, secret_key=TEST_SECRET, var_dir=tmp_path)
    return create_app(settings, session_factory=committed_factory)


@pytest.fixture
def live_server(live_app) -> Iterator[str]:
    """The app served over real HTTP on a free localhost port, from a thread."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run `make browser`"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _shot(page, name: str, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return _shot


@pytest.fixture
def company_world(committed_factory):
    """Committed data for browser tests: an org, a salesperson, a manager, a customer."""
    with committed_factory() as session:
        group = create_org_unit(session, "锦华纺织集团", "group")
        branch = create_org_unit(session, "华东分公司", "branch", group.id)
        office = create_org_unit(session, "苏州办事处", "office", branch.id)
        sales = create_user(
            session, "wang.fang", PASSWORD, ["salesperson"], "王芳", org_unit_id=office.id
        )
        peer = create_user(
            session, "liu.yang", PASSWORD, ["salesperson"], "刘洋", org_unit_id=office.id
        )
        manager = create_user(
            session, "li.qiang", PASSWORD, ["sales_manager"], "李强", org_unit_id=branch.id
        )
        customer = create_record(
            session,
            actor_for(session, sales),
            "customers",
            {
                "name": "苏州锦程服饰有限公司",
                "grade": "A",
                "region": "江苏 苏州",
                "phone": "0512-65550123",
            },
        )
        deploy_approval(session)
        session.commit()
        ids = {"sales": sales.id, "peer": peer.id, "manager": manager.id, "customer": customer.id}
    return ids


def ui_login(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-submit]")

"""The local inspector (/inspector/) in a real browser: headless Chromium driven by Selenium through
Debian's chromedriver, against `switchboard run` on free ports, with webhooks sent by the CLI.

Needs `chromium` and `chromedriver` on PATH (`make browser` installs Debian's packages as root).
Without them these tests skip, saying so; under CI=true they fail instead, so CI cannot pass
without running them. The API's cross-site checks are tested over plain HTTP as well.
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import LocalStack, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 20
INSTALL_HINT = "install Debian's chromium and chromium-driver (`make browser` does it as root)"
HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"
HOSTILE_PATH = "/vonage/<svg/onload=alert(3)><img/src=x/onerror=alert(4)>"


def _chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    missing = " and ".join(n for n, p in (("chromium", browser), ("chromedriver", driver)) if not p)
    message = f"the inspector's browser tests need {missing} on PATH: {INSTALL_HINT}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI=true: not skipping)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    binary, chromedriver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    # --no-sandbox: Chromium's sandbox refuses to run as root, which CI is
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument("--window-size=1400,1100")
    driver = webdriver.Chrome(options=options, service=Service(chromedriver))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser: WebDriver, local_stack: LocalStack) -> WebDriver:
    browser.get(f"{local_stack.base_url}/inspector/")
    _until(browser, lambda d: "live" in d.find_element(By.ID, "live").text)
    return browser


def _until(driver: WebDriver, condition: Callable[[WebDriver], Any], timeout: float = WAIT_S) -> Any:
    def safe(d: WebDriver) -> Any:
        try:
            return condition(d)
        except StaleElementReferenceException:  # the page re-rendered under us: look again
            return False

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(safe)


def _event_id(output: str) -> str:
    found = re.search(r"evt_[0-9a-f]{32}", output)
    assert found, output
    return found.group()


def _request_row(driver: WebDriver, event_id: str) -> WebElement | None:
    for row in driver.find_elements(By.CSS_SELECTOR, "#request-rows tr.req"):
        if event_id in [e.text for e in row.find_elements(By.CSS_SELECTOR, ".event-id")]:
            return row
    return None


def _point(driver: WebDriver, event_id: str) -> WebElement | None:
    found = driver.find_elements(By.CSS_SELECTOR, f'#timeline svg g.point[data-event-id="{event_id}"]')
    return found[0] if found else None


def _images(driver: WebDriver) -> list[WebElement]:
    return driver.find_elements(By.TAG_NAME, "img")


def _classes(element: WebElement) -> set[str]:
    return set((element.get_attribute("class") or "").split())


def _open_subject_from_list(driver: WebDriver, subject_id: str) -> None:
    def button(d: WebDriver) -> WebElement | None:
        for b in d.find_elements(By.CSS_SELECTOR, "#subject-list .subject-link"):
            if b.text == subject_id:
                return b
        return None

    _until(driver, button).click()
    _until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#subject-head .subject-id").text == subject_id)
    # the picked subject is highlighted at once, not at the list's next read
    selected = driver.find_elements(By.CSS_SELECTOR, "#subject-list li.selected .subject-link")
    assert [b.text for b in selected] == [subject_id]


def _wrong_secrets(tmp_path: Path) -> Path:
    doc = json.loads((ROOT / "switchboard" / "dev_secrets.json").read_text())
    for key in doc["vonage"]["signature_secrets"]:
        doc["vonage"]["signature_secrets"][key] = ["not-the-secret-the-stack-knows-000000000000"]
    path = tmp_path / "wrong-secrets.json"
    path.write_text(json.dumps(doc))
    return path


def _send_late_and_duplicate(stack: LocalStack, message_uuid: str) -> tuple[str, str, str]:
    """delivered (twice), then a submitted that occurred earlier, then read: (ids of the three)."""

    def send(status: str, at: str, *extra: str) -> str:
        out = stack.cli(
            "send",
            "messages/status-submitted",
            "--status",
            status,
            "--set",
            f"message_uuid={message_uuid}",
            "--set",
            f"timestamp=2025-06-12T09:00:{at}.000Z",
            *extra,
        ).stdout
        return _event_id(out)

    return send("delivered", "05", "--repeat", "2"), send("submitted", "01"), send("read", "09")


# --- in the browser ---------------------------------------------------------------------------------


def test_a_webhook_sent_with_the_cli_appears_and_opens_its_subjects_timeline(page: WebDriver, local_stack):
    request_id = str(uuid.uuid4())
    event_id = _event_id(
        local_stack.cli("send", "verify/event-completed", "--set", f"request_id={request_id}").stdout
    )
    row = _until(page, lambda d: _request_row(d, event_id))
    assert row.find_element(By.CSS_SELECTOR, ".verdict .badge").text == "accepted 200"
    assert row.find_element(By.CSS_SELECTOR, ".request .path").text == "/vonage/verify"
    row.find_element(By.CSS_SELECTOR, ".subject-link").click()
    point = _until(page, lambda d: _point(d, event_id))
    assert {"point", "current", "terminal"} <= _classes(point)
    assert point.find_element(By.CSS_SELECTOR, "rect.dot")  # a terminal status is drawn as a square
    head = page.find_element(By.ID, "subject-head").text
    assert request_id in head and "completed (terminal)" in head
    assert "#subject/vonage/verify/" + request_id in page.current_url


def test_a_rejected_request_shows_its_code_and_the_handlers_diagnostic(
    page: WebDriver, local_stack, tmp_path
):
    done = local_stack.cli(
        "send", "messages/status-submitted", "--secrets", str(_wrong_secrets(tmp_path)), check=False
    )
    assert done.returncode == 1 and "HTTP 401" in done.stdout

    def rejected(d: WebDriver) -> WebElement | None:
        rows = d.find_elements(By.CSS_SELECTOR, "#request-rows tr.req.verdict-rejected")
        return rows[0] if rows else None

    row = _until(page, rejected)
    assert row.find_element(By.CSS_SELECTOR, ".badge").text == "rejected 401"
    assert row.find_element(By.CSS_SELECTOR, ".code").text == "signature_invalid"
    assert row.find_element(By.CSS_SELECTOR, ".message").text == "signature verification failed"
    diagnostic = json.loads(row.find_element(By.CSS_SELECTOR, ".diagnostic").text)
    assert "matches none of the api key's secrets" in diagnostic["rule"]
    assert row.find_elements(By.CSS_SELECTOR, ".event-id") == []


def test_a_duplicate_and_a_late_event_are_marked_on_the_timeline(page: WebDriver, local_stack):
    message_uuid = "late-" + uuid.uuid4().hex[:12]
    delivered, submitted, read = _send_late_and_duplicate(local_stack, message_uuid)
    _open_subject_from_list(page, message_uuid)
    _until(page, lambda d: all(_point(d, e) for e in (delivered, submitted, read)))
    points = {
        e: page.find_element(By.CSS_SELECTOR, f'#timeline g.point[data-event-id="{e}"]')
        for e in (delivered, submitted, read)
    }
    assert {"current", "duplicate"} <= _classes(points[delivered])
    assert "late" not in _classes(points[delivered])
    assert "×2" in [t.text for t in points[delivered].find_elements(By.CSS_SELECTOR, "text.tag")]
    late = _classes(points[submitted])
    assert {"late", "superseded"} <= late and "current" not in late
    assert points[submitted].find_elements(By.CSS_SELECTOR, "circle.ring")
    assert {"current", "terminal"} <= _classes(points[read])
    assert "late" not in _classes(points[read])
    marks = {
        r.get_attribute("data-event-id"): r.find_element(By.CSS_SELECTOR, ".marks").text
        for r in page.find_elements(By.CSS_SELECTOR, "#points tbody tr")
    }
    assert marks == {delivered: "×2", submitted: "late · superseded", read: "terminal"}


def test_hostile_text_in_a_subject_id_and_a_path_shows_as_text_and_runs_nothing(page: WebDriver, local_stack):
    event_id = _event_id(
        local_stack.cli("send", "messages/status-submitted", "--set", f"message_uuid={HOSTILE}").stdout
    )
    connection = http.client.HTTPConnection("127.0.0.1", local_stack.port, timeout=10)
    connection.request("GET", HOSTILE_PATH)
    assert connection.getresponse().status == 404
    connection.close()
    row = _until(page, lambda d: _request_row(d, event_id))
    _until(page, lambda d: d.find_elements(By.CSS_SELECTOR, "#request-rows tr.verdict-not_found"))
    # the subject list shows it, or (were the page to parse it) an <img> appeared: stop waiting either way
    listed = "#subject-list .subject-link"
    _until(
        page, lambda d: HOSTILE in [s.text for s in d.find_elements(By.CSS_SELECTOR, listed)] or _images(d)
    )

    def no_injection() -> None:
        assert _images(page) == []
        scripts = [s.get_attribute("src") for s in page.find_elements(By.TAG_NAME, "script")]
        assert scripts == [f"{local_stack.base_url}/inspector/app.js"]
        assert page.find_elements(By.CSS_SELECTOR, "svg svg") == []  # no SVG but the ones the page draws
        with pytest.raises(NoAlertPresentException):
            page.switch_to.alert.text  # noqa: B018 - reading it is the check

    no_injection()
    assert row.find_element(By.CSS_SELECTOR, ".subject-link").text == HOSTILE
    paths = [p.text for p in page.find_elements(By.CSS_SELECTOR, "#request-rows .path")]
    assert HOSTILE_PATH in paths
    _open_subject_from_list(page, HOSTILE)
    _until(page, lambda d: d.find_elements(By.CSS_SELECTOR, "#timeline svg g.point"))
    no_injection()


def test_the_queues_panel_shows_depths_and_redrive_empties_the_ingest_dlq(page: WebDriver, local_stack):
    subject = str(uuid.uuid4())
    local_stack.sqs().send_message(
        QueueUrl=local_stack.state["ingest_dlq_url"], MessageBody=json.dumps(_dead_letter(subject))
    )
    depth = page.find_element(By.CSS_SELECTOR, "#queue-ingest_dlq .depth")
    _until(page, lambda d: depth.text == "1")
    assert page.find_element(By.CSS_SELECTOR, "#queue-events .depth").text.isdigit()
    assert page.find_element(By.CSS_SELECTOR, "#queue-events_dlq .depth").text == "0"
    page.find_element(By.ID, "redrive-ingest").click()
    _until(
        page,
        lambda d: "moved 1 message(s)" in d.find_element(By.CSS_SELECTOR, "#queue-ingest_dlq .note").text,
    )
    _until(page, lambda d: depth.text == "0")
    _open_subject_from_list(page, subject)  # the recorder took it: it is a subject now


def test_another_site_in_the_same_browser_cannot_redrive(page: WebDriver, local_stack):
    """A page on another origin posts a form (no custom header) and a fetch with the header (needs a
    CORS preflight, never granted) to the redrive URL: the DLQ keeps its message."""
    sqs = local_stack.sqs()
    url = local_stack.state["events_dlq_url"]
    sqs.send_message(
        QueueUrl=url, MessageBody="{}", MessageGroupId="g", MessageDeduplicationId=uuid.uuid4().hex
    )
    target = f"{local_stack.base_url}/inspector/api/redrive"
    with _attacker_site(_attacker_page(target)) as origin:
        page.get(origin)
        _until(page, lambda d: d.execute_script("return window.fetchResult") is not None)
        assert page.execute_script("return window.fetchResult").startswith("blocked")
        page.find_element(By.ID, "go").click()  # the form
        _until(page, lambda d: "redrive" in d.current_url)
        assert '"forbidden"' in page.page_source
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "1"
    sqs.purge_queue(QueueUrl=url)  # the message is no event: do not redrive it


def test_screenshot_of_a_real_run(page: WebDriver, local_stack, tmp_path):
    """The README's picture (docs/inspector.png): `make inspector-screenshot` sets the path."""
    message_uuid = "e7b0a3c2-5d1f-4b8e-9c6a-" + uuid.uuid4().hex[:12]
    _send_late_and_duplicate(local_stack, message_uuid)
    local_stack.cli(
        "send", "messages/status-submitted", "--secrets", str(_wrong_secrets(tmp_path)), check=False
    )
    _open_subject_from_list(page, message_uuid)
    _until(page, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#timeline g.point")) == 3)
    newest = "#request-rows tr.req:first-child"
    _until(page, lambda d: "verdict-rejected" in _classes(d.find_element(By.CSS_SELECTOR, newest)))
    page.set_window_size(1400, 1300)  # down to the newest requests, the rejected one first
    page.execute_script("window.scrollTo(0, 0)")
    out = Path(os.environ.get("SWITCHBOARD_INSPECTOR_SCREENSHOT") or tmp_path / "inspector.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    assert page.save_screenshot(str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- over plain HTTP --------------------------------------------------------------------------------


def _call(
    stack: LocalStack, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    connection.request(method, path, body=body, headers={"Host": f"127.0.0.1:{stack.port}", **headers})
    response = connection.getresponse()
    out = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    connection.close()
    return out


def test_the_page_is_served_with_a_strict_content_security_policy(local_stack):
    for path in ("/inspector/", "/inspector/app.js", "/inspector/api/queues"):
        status, headers, _ = _call(local_stack, "GET", path, {})
        assert status == 200, path
        assert headers["content-security-policy"].startswith("default-src 'self'")
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"


def test_the_redrive_api_wants_the_inspector_header_its_own_origin_and_host(local_stack):
    body = b'{"queue": "ingest"}'
    own = {"X-Switchboard-Inspector": "1", "Content-Type": "application/json"}
    assert (
        _call(local_stack, "POST", "/inspector/api/redrive", {"Content-Type": "application/json"}, body)[0]
        == 403
    )
    evil_origin = {**own, "Origin": "http://evil.example"}
    assert _call(local_stack, "POST", "/inspector/api/redrive", evil_origin, body)[0] == 403
    rebound = {**own, "Host": f"evil.example:{local_stack.port}"}
    assert _call(local_stack, "POST", "/inspector/api/redrive", rebound, body)[0] == 403
    assert (
        _call(local_stack, "GET", "/inspector/api/requests", {"Host": f"evil.example:{local_stack.port}"})[0]
        == 403
    )
    status, _, answer = _call(
        local_stack, "POST", "/inspector/api/redrive", {**own, "Origin": local_stack.base_url}, body
    )
    assert status == 200 and json.loads(answer) == {"queue": "ingest", "moved": 0}
    assert _call(local_stack, "POST", "/inspector/api/redrive", own, b'{"queue": "nope"}')[0] == 400


def test_the_inspectors_own_requests_stay_out_of_the_request_log(local_stack):
    _call(local_stack, "GET", "/inspector/api/queues", {})
    _, _, answer = _call(local_stack, "GET", "/inspector/api/requests?after=0", {})
    assert not [r for r in json.loads(answer)["requests"] if r["path"].startswith("/inspector")]
    logged = Path(local_stack.state["request_log"]).read_text().splitlines()
    assert not [line for line in logged if '"/inspector' in line]


# --- helpers for the browser tests -------------------------------------------------------------------


def _dead_letter(subject: str) -> dict[str, Any]:
    return {
        "schema_version": "1",
        "event_id": "evt_" + uuid.uuid4().hex,
        "provider": "vonage",
        "product": "verify",
        "type": "verify.event",
        "subject_id": subject,
        "status": "expired",
        "occurred_at": "2026-01-01T00:00:00.000Z",
        "received_at": "2026-01-01T00:00:01.000Z",
        "account_id": "devkey01",
        "channel": "sms",
        "client_ref": None,
        "data": {},
    }


def _attacker_page(target: str) -> bytes:
    return f"""<!doctype html><html><body>
<form id="f" method="POST" action="{target}" enctype="text/plain">
<input type="hidden" name='{{"queue": "events", "x": "' value='"}}'>
<button id="go" type="submit">win a prize</button></form>
<script>
window.fetchResult = null;
fetch("{target}", {{method: "POST", headers: {{"x-switchboard-inspector": "1", "content-type": "application/json"}},
  body: JSON.stringify({{queue: "events"}})}})
  .then(r => {{ window.fetchResult = "answered " + r.status; }})
  .catch(e => {{ window.fetchResult = "blocked: " + e; }});
</script></body></html>""".encode()


class _AttackerSite:
    def __init__(self, html: bytes) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = 5  # Chrome opens sockets it may never use

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(html)))
                self.end_headers()
                self.wfile.write(html)

            def log_message(self, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True

    def __enter__(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}/"

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def _attacker_site(html: bytes) -> _AttackerSite:
    return _AttackerSite(html)

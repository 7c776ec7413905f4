"""End to end: the console in a real headless chromium, against a real server on SQLite files.

A user creates a flow from the page (and sees the validator's message beside the offending
line), starts it, watches it finish without reloading, opens the failed state of another
execution to read its error, and pages through a history of 10,000+ events. Screenshots of
the main pages are kept in ``test-artifacts/console/``.

Skipped only when Debian's chromium or the playwright package is missing (a fresh clone);
``tests/console/install_browser.sh`` installs both.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.plan import ExecutionMode
from tests.console.stack import BATCH, COUNTER, DECLINED_CAUSE, SHOP, Stack, ThreadedStack
from tests.console.test_layout import generated_flow

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: run tests/console/install_browser.sh for the browser tests",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the playwright package is missing: run tests/console/install_browser.sh",
)
expect = sync_api.expect

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 900}

WAITER = """\
Type: StateMachine
SpecVersion: v1
Name: waiter
StartAt: Sleep
States:
  - Type: Wait
    Name: Sleep
    Seconds: 2
    Next: Greet
  - Type: Pass
    Name: Greet
    OutputConstructor:
      greeting.$: format("Hello, {}!", $Input.who)
    End: true
"""

SLEEPER = """\
Type: StateMachine
SpecVersion: v1
StartAt: Sleep
States:
  - Type: Wait
    Name: Sleep
    Seconds: 600
    End: true
"""

WITH_PROBLEMS = """\
Type: StateMachine
SpecVersion: v1
Name: waiter
StartAt: Sleep
States:
  - Type: Wait
    Name: Sleep
    Seconds: -2
    Next: Greeet
  - Type: Pass
    Name: Greet
    End: true
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadedStack, Stack]]:
    threaded = ThreadedStack(tmp_path_factory.mktemp("console-e2e"))
    with threaded as stack:
        yield threaded, stack


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        context.set_default_timeout(10_000)
        expect.set_options(timeout=10_000)
        yield context
        context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab; the test fails if the page's scripts raised anything."""
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    tab.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    yield tab
    tab.close()
    assert errors == []


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_create_a_flow_from_the_page_with_the_validators_messages_beside_their_lines(
    server: tuple[ThreadedStack, Stack], page: Any
) -> None:
    _, stack = server
    page.goto(stack.url + "#/new")
    page.fill("#flow-name", "greeter")
    page.locator("textarea.editor-input").fill(WITH_PROBLEMS)

    status = page.locator(".validation-status")
    expect(status).to_have_text("2 problems found")
    # Each message is on its line: line 8 (Seconds: -2) and line 9 (Next: Greeet).
    seconds_line = page.locator('.editor-backdrop .line[data-line="8"]')
    next_line = page.locator('.editor-backdrop .line[data-line="9"]')
    expect(seconds_line.locator(".problem-msg")).to_contain_text("Seconds: must be a number >= 0")
    expect(next_line.locator(".problem-msg")).to_contain_text("no state named 'Greeet'")
    expect(page.locator(".editor-gutter .has-problem")).to_have_text(["8", "9"])
    row, message = next_line.bounding_box(), next_line.locator(".problem-msg").bounding_box()
    assert (
        row["y"] - 1 <= message["y"]
        and message["y"] + message["height"] <= row["y"] + row["height"] + 1
    )
    # The server refuses it too, and the page marks the same lines.
    page.get_by_role("button", name="Create flow").click()
    expect(page.locator(".form-error")).to_contain_text("marked beside their lines")
    expect(page.locator(".problem-list li")).to_have_count(2)
    shot(page, "editor-with-problems")

    page.locator("textarea.editor-input").fill(WAITER)
    expect(status).to_have_text("No problems found")
    expect(page.locator(".editor-backdrop .problem-msg")).to_have_count(0)
    page.get_by_role("button", name="Create flow").click()
    page.wait_for_url(re.compile(r"#/flows/greeter$"))
    expect(page.locator(".graph [data-state]")).to_have_count(2)
    expect(page.locator(".graph [data-state='Sleep'] .node-type")).to_have_text("Wait")
    shot(page, "flow-graph")


def test_start_an_execution_and_watch_it_finish_without_a_reload(
    server: tuple[ThreadedStack, Stack], page: Any
) -> None:
    threaded, stack = server
    threaded.call(stack.create_flow("waiter", WAITER))
    page.goto(stack.url + "#/flows/waiter/start")
    page.fill("#execution-name", "run-1")
    page.fill("#execution-input", '{"who": "Ada"}')
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_url(re.compile(r"#/flows/waiter/executions/run-1$"))

    badge = page.locator(".exec-head h1 .badge")
    expect(badge).to_have_text("Running")
    expect(page.locator(".graph [data-state='Sleep']")).to_have_class(re.compile(r"\bst-running\b"))
    expect(page.locator(".graph [data-state='Greet']")).to_have_class(
        re.compile(r"\bst-not_reached\b")
    )
    page.evaluate("window.__notReloaded = true")
    shot(page, "execution-running")

    expect(badge).to_have_text("Succeeded", timeout=15_000)
    assert page.evaluate("window.__notReloaded") is True
    expect(page.locator(".graph [data-state='Greet']")).to_have_class(
        re.compile(r"\bst-succeeded\b")
    )
    expect(page.locator(".graph [data-state='Sleep']")).to_have_class(
        re.compile(r"\bst-succeeded\b")
    )
    page.get_by_role("tab", name="Input and output").click()
    expect(page.locator(".io-panel")).to_contain_text('"greeting": "Hello, Ada!"')
    page.get_by_role("tab", name="Graph").click()
    page.locator(".graph [data-state='Greet']").click()
    expect(page.locator(".state-panel")).to_contain_text("Hello, Ada!")
    shot(page, "execution-succeeded")
    # It is listed among the flow's executions, with its status.
    page.goto(stack.url + "#/flows/waiter/executions")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list tbody tr").first).to_contain_text("Succeeded")


def test_open_the_failed_state_and_read_its_error(
    server: tuple[ThreadedStack, Stack], page: Any
) -> None:
    threaded, stack = server
    threaded.call(stack.create_flow("shop", SHOP))
    threaded.call(stack.run("shop", "order-9", {"card": "4242"}))
    page.goto(stack.url + "#/flows/shop/executions/order-9")
    summary = page.locator(".failure-summary")
    expect(summary).to_contain_text("Failed at state Charge")
    expect(summary).to_contain_text("Payment.Declined")
    expect(page.locator(".graph [data-state='Charge']")).to_have_class(re.compile(r"\bst-failed\b"))
    expect(page.locator(".graph [data-state='Ship']")).to_have_class(
        re.compile(r"\bst-not_reached\b")
    )

    # Keyboard: Tab to a state and press Enter to open it.
    page.locator(".graph [data-state='Validate']").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#state-title")).to_have_text("Validate")
    # Click the failed one.
    page.locator(".graph [data-state='Charge']").click()
    expect(page.locator("#state-title")).to_have_text("Charge")
    expect(page.locator(".state-error .error-code")).to_have_text("Payment.Declined")
    expect(page.locator(".state-error .error-cause")).to_have_text(DECLINED_CAUSE)
    expect(page.locator(".attempts tbody tr")).to_have_count(2)
    expect(page.locator(".attempts tbody tr").first).to_contain_text("retried")
    shot(page, "failed-state")

    # A Map: counts per status and the failed iteration.
    threaded.call(stack.create_flow("batch", BATCH))
    threaded.call(stack.run("batch", "b1", {"items": list(range(20))}))
    page.goto(stack.url + "#/flows/batch/executions/b1")
    page.locator(".graph [data-state='Inspect'] .node-name").click()
    expect(page.locator("#state-title")).to_have_text("Inspect")
    expect(page.locator(".failed-children tbody tr")).to_have_count(1)
    expect(page.locator(".failed-children tbody tr")).to_contain_text("Item.Invalid")
    expect(page.locator(".graph [data-state='Check item']")).to_have_class(
        re.compile(r"\bst-failed\b")
    )
    shot(page, "map-iterations")


def test_page_through_a_history_of_ten_thousand_events(
    server: tuple[ThreadedStack, Stack], page: Any
) -> None:
    threaded, stack = server
    threaded.call(stack.create_flow("counter", COUNTER))
    info = threaded.call(stack.run("counter", "long", {"n": 0, "limit": 2600}))
    assert info.status.value == "Succeeded"
    started = time.perf_counter()
    page.goto(stack.url + "#/flows/counter/executions/long")
    expect(page.locator(".exec-head h1 .badge")).to_have_text("Succeeded")
    expect(page.locator(".exec-head")).to_contain_text("10,404 events")
    assert time.perf_counter() - started < 5

    page.get_by_role("tab", name="History").click()
    rows = page.locator(".events tbody tr")
    summary = page.locator(".history-panel .pager > span")
    expect(summary).to_have_text("Events 1–100 of 10,404")
    expect(rows).to_have_count(100)
    for number in range(2, 5):
        clicked = time.perf_counter()
        page.get_by_role("button", name="Next").click()
        expect(summary).to_have_text(f"Events {(number - 1) * 100 + 1}–{number * 100} of 10,404")
        assert time.perf_counter() - clicked < 3, "a page of history must come quickly"
    page.get_by_role("button", name="Previous").click()
    expect(summary).to_have_text("Events 201–300 of 10,404")
    # The page holds one page of events, never the whole history.
    assert rows.count() == 100
    # The main thread stays free: a timer scheduled now runs almost at once.
    delay = page.evaluate(
        "() => new Promise(r => { const t = performance.now(); setTimeout(() => r(performance.now() - t), 0); })"
    )
    assert delay < 200
    shot(page, "history")

    # Filters run on the server.
    page.select_option("#history-state", "Check")
    expect(summary).to_have_text("Page 1 of matching events")
    expect(rows).to_have_count(100)
    assert set(page.locator(".events tbody tr td:nth-child(4)").all_inner_texts()) == {"Check"}
    page.select_option("#history-type", "failures")
    expect(rows).to_have_text(["No events match."])
    page.get_by_role("tab", name="Timeline").click()
    expect(page.locator(".timeline-row")).to_have_count(3)
    expect(page.locator(".timeline-row").first).to_contain_text("2600×")


def test_a_flow_of_sixty_states_is_drawn_readably(
    server: tuple[ThreadedStack, Stack], page: Any
) -> None:
    threaded, stack = server
    threaded.call(stack.create_flow("big", generated_flow(60)))
    page.goto(stack.url + "#/flows/big")
    nodes = page.locator(".graph [data-state]")
    expect(nodes).to_have_count(66)
    # Drawn at a readable size (names at 75% or more), starting at the top.
    first = page.locator(".graph [data-state='S0'] rect").bounding_box()
    assert first["width"] >= 0.75 * 132 - 1
    shot(page, "flow-graph-60-states")
    page.get_by_role("button", name="Fit", exact=True).click()
    last = page.locator(".graph [data-state='S59'] rect").bounding_box()
    assert last["y"] + last["height"] <= VIEWPORT["height"]
    shot(page, "flow-graph-60-states-whole")


def test_stop_a_running_execution_from_its_page(
    server: tuple[ThreadedStack, Stack], page: Any
) -> None:
    threaded, stack = server
    threaded.call(stack.create_flow("sleeper", SLEEPER))
    current = threaded.call(stack.flows.get("sleeper"))
    threaded.call(stack.engine.start_execution("sleeper", current.revision, SLEEPER, "nap", "{}"))
    page.goto(stack.url + "#/flows/sleeper/executions/nap")
    expect(page.locator(".graph [data-state='Sleep']")).to_have_class(re.compile(r"\bst-running\b"))
    stop = page.get_by_role("button", name="Stop")
    stop.click()
    # A second click confirms: one stray click does not stop an execution. The page polls
    # every second meanwhile; that must not undo the first click.
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Confirm stop").click()
    expect(page.locator(".exec-head h1 .badge")).to_have_text("Stopped")
    expect(page.locator(".graph [data-state='Sleep']")).to_have_class(
        re.compile(r"\bst-cancelled\b")
    )
    expect(page.locator(".failure-summary")).to_contain_text("stopped from the console")


def test_an_express_flow_shows_its_result_when_started(
    server: tuple[ThreadedStack, Stack], page: Any
) -> None:
    threaded, stack = server
    quick = WAITER.replace("Seconds: 2", "Seconds: 0")
    threaded.call(stack.create_flow("quick", quick, ExecutionMode.EXPRESS))
    page.goto(stack.url + "#/flows/quick")
    # Express executions keep no history: there is no Executions tab to list them.
    expect(page.get_by_role("tab")).to_have_text(["Graph", "Definition", "Start execution"])
    page.get_by_role("tab", name="Start execution").click()
    page.fill("#execution-input", '{"who": "Grace"}')
    page.get_by_role("button", name="Start", exact=True).click()
    result = page.locator(".start-result")
    expect(result.locator(".badge")).to_have_text("Succeeded")
    expect(result).to_contain_text('"greeting": "Hello, Grace!"')
    page.fill("#execution-input", "[1, 2]")
    page.get_by_role("button", name="Start", exact=True).click()
    expect(result).to_contain_text("InvalidArgument")


def test_the_page_asks_for_the_token_once(tmp_path: Path, browser: Any) -> None:
    with ThreadedStack(tmp_path, token="open-sesame") as stack:
        tab = browser.new_page()
        try:
            tab.goto(stack.url)
            dialog = tab.locator("#token-dialog")
            expect(dialog).to_be_visible()
            tab.fill("#token-input", "wrong")
            tab.get_by_role("button", name="Sign in").click()
            expect(dialog).to_contain_text("not valid")
            tab.fill("#token-input", "open-sesame")
            tab.get_by_role("button", name="Sign in").click()
            expect(tab.locator("h1")).to_have_text("Flows")
            # Kept for the session: the next page does not ask again.
            tab.goto(stack.url + "#/new")
            expect(tab.locator("h1")).to_have_text("New flow")
            expect(dialog).not_to_be_visible()
        finally:
            tab.close()

"""Playwright (sync API) helpers shared by tests/test_browser.py, tests/test_advisers_browser.py and
scripts/screenshots.py.

Chromium is Debian's (`which chromium`): browser downloads are impossible here, so Playwright is pointed at
it with `executable_path`.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
AXE_PATH = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def chromium_executable() -> str | None:
    return shutil.which("chromium")


def launch(playwright):
    return playwright.chromium.launch(executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS)


@contextlib.contextmanager
def open_browser() -> Iterator:
    """Headless Chromium for the tests; skips (fails under BUD_REQUIRE_ALL=1) without Chromium or axe-core."""
    from conftest import skip_or_fail

    if chromium_executable() is None:
        skip_or_fail("chromium not found (scripts/system-deps installs Debian's chromium)")
    if not AXE_PATH.exists():
        skip_or_fail(f"{AXE_PATH} missing (scripts/vendor-axe vendors it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def watched_page(browser, timeout: int = 10_000, **context_options) -> Iterator:
    """A page in a fresh French browser context (1280×900) that fails the test on any console error (a CSP
    violation, a 404, ...) once it is closed."""
    context = browser.new_context(**{"locale": "fr-FR", "viewport": {"width": 1280, "height": 900}, **context_options})
    context.set_default_timeout(timeout)
    page = context.new_page()
    errors: list[str] = []
    # A form sent back with errors answers 422, which Chromium logs as a failed resource: that one is expected.
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "status of 422" not in message.text else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], errors


def pick_commune(page, typed: str, choice: str) -> None:
    """Type in the commune field like a person, then click the suggestion whose text starts with `choice`."""
    field = page.locator("#commune")
    field.click()
    field.press_sequentially(typed, delay=40)
    option = page.get_by_role("option", name=re.compile("^" + re.escape(choice)))
    option.first.wait_for(state="visible", timeout=5000)
    option.first.click()


def answer(page, answers: dict[str, str | None]) -> None:
    """Answer the questions of the current step: radio values, numbers, or None for «Je ne sais pas»."""
    for key, value in answers.items():
        radios = page.locator(f'input[type="radio"][name="{key}"]')
        if radios.count():
            page.locator(f'input[type="radio"][name="{key}"][value="{value or "nsp"}"]').check()
        elif value is None:
            page.locator(f"#{key}_nsp").check()
        else:
            page.locator(f"#{key}").fill(value)


def next_step(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Continuer").click()


def see_result(page, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
    page.wait_for_url(re.compile(r"/verifications/[A-Za-z0-9_-]{22,}$"))


def first_step(page, base_url: str, commune_typed: str, commune_choice: str, date: str = "2019-05-14") -> None:
    page.goto(base_url + "/")
    page.locator("#date_creation").fill(date)
    pick_commune(page, commune_typed, commune_choice)
    next_step(page)


def answer_commerce_steps(page, *, effectif: str, chiffre_affaires: str) -> None:
    """The activity, place and size steps of the usual example: a commerce created from scratch, its seat and its
    means in the zone, owned by individuals; on to the hiring step."""
    answer(page, {"activite": "commerciale", "origine": "creation_pure"})
    next_step(page)
    answer(page, {"non_sedentaire": "non", "siege_dans_zone": "oui", "activite_et_moyens_dans_zone": "oui"})
    next_step(page)
    answer(page, {"effectif": effectif, "chiffre_affaires": chiffre_affaires, "capital_detenu_par_societes_pct": "0"})
    next_step(page)


def douai_flow(page, base_url: str, *, hiring_unknown: bool = False) -> None:
    """A commerce created on 2019-05-14 in Douai, from the home page to the saved verdict."""
    first_step(page, base_url, "Doua", "Douai (59)")
    answer_commerce_steps(page, effectif="3", chiffre_affaires="180000")
    if hiring_unknown:
        answer(page, {"salaries_eligibles": None, "salaries_eligibles_residents_bud": None})
        next_step(page)
        answer(page, {"embauches_eligibles": None})  # resident hires are not asked without a number of hires
    else:
        answer(page, {"salaries_eligibles": "2", "salaries_eligibles_residents_bud": "2"})
    next_step(page)
    # The verdict is decided: the remaining questions only refine the schedule.
    answer(page, {"deliberation_exoneration_cfe": "non",
                  "deliberation_exoneration_tfpb": None, "proprietaire_immeuble": "non"})
    next_step(page)
    # The optional last step, «Estimer vos économies»: skipped.
    see_result(page, "Passer et voir le résultat")


def lille_flow(page, base_url: str) -> None:
    """The same commerce in Lille: the commune alone decides."""
    first_step(page, base_url, "Lill", "Lille (59)")
    see_result(page, "Voir le résultat détaillé")


def run_axe(page) -> list[dict]:
    """Inject the vendored axe-core and return its violations (WCAG 2.x A and AA rules, best practices)."""
    # Evaluated through the DevTools protocol rather than added as a <script>: the site's
    # Content-Security-Policy forbids inline scripts, and stays on during the check.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_PATH.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }""")
    return result


def assert_accessible(page, where: str) -> None:
    """No serious or critical axe-core violation on the page as it stands."""
    violations = [v for v in run_axe(page) if v["impact"] in ("serious", "critical")]
    assert violations == [], f"{where}: {violations}"


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


# Fixtures for the browser tests of the creator's pages (imported by those modules).

@pytest.fixture(scope="module")
def browser():
    with open_browser() as browser:
        yield browser


@pytest.fixture
def phone(browser):
    """A fresh page as on a phone (390 × 844), failing the test on any console error."""
    with watched_page(browser, **PHONE) as page:
        yield page


@pytest.fixture
def desktop(browser):
    """A fresh page on a desktop (1280 × 900), failing the test on any console error."""
    with watched_page(browser) as page:
        yield page


def fill_douai_check(page) -> None:
    """The advisers' one-page check form: a commerce created on 2019-05-14 in Douai, then «Lancer la vérification»."""
    page.locator("#date_creation").fill("2019-05-14")
    pick_commune(page, "Doua", "Douai (59)")
    page.locator('input[name="activite"][value="commerciale"]').check()
    page.locator('input[name="origine"][value="creation_pure"]').check()
    page.locator('input[name="siege_dans_zone"][value="oui"]').check()
    page.locator('input[name="activite_et_moyens_dans_zone"][value="oui"]').check()
    page.locator("#effectif").fill("3")
    page.locator("#chiffre_affaires").fill("180000")
    page.locator("#capital_detenu_par_societes_pct").fill("0")
    page.locator("#salaries_eligibles").fill("2")
    page.locator("#salaries_eligibles_residents_bud").fill("2")
    with page.expect_navigation():
        page.get_by_role("button", name="Lancer la vérification").click()

# The smallest text on screen, in CSS pixels as rendered: for text inside an SVG, its font size times the
# SVG's scale. Elements not rendered (display: none, closed <details>) are left out.
_SMALLEST_TEXT = """() => {
  let smallest = Infinity, where = '';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const element = node.parentElement;
    if (!element || !element.checkVisibility({visibilityProperty: true})) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    if (!range.getClientRects().length) continue;
    if (element.closest('.visually-hidden')) continue;
    let size = parseFloat(getComputedStyle(element).fontSize);
    if (element.closest('svg') && element.getScreenCTM) {
      const m = element.getScreenCTM();
      if (m) size *= Math.hypot(m.a, m.b);
    }
    if (size < smallest) { smallest = size; where = element.tagName + ': ' + node.textContent.trim().slice(0, 50); }
  }
  return {size: smallest, where: where};
}"""


def smallest_text(page) -> dict:
    """{"size": the smallest rendered font size in CSS px, "where": its element and text}."""
    return page.evaluate(_SMALLEST_TEXT)


def sideways_overflow(page) -> int:
    """How many CSS px the page scrolls sideways (0: none), and no element wider than the viewport may scroll
    inside either: a table in a scrolling box counts."""
    return page.evaluate("""() => {
      let worst = document.documentElement.scrollWidth - document.documentElement.clientWidth;
      for (const el of document.querySelectorAll('.table-wrap, pre, .code')) {
        if (el.checkVisibility()) worst = Math.max(worst, el.scrollWidth - el.clientWidth);
      }
      return worst;
    }""")

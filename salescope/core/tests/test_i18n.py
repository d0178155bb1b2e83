"""German translation (S6): the catalogue is complete and compiled, and pages render in German
with German number, money and date formats."""

from __future__ import annotations

import datetime as dt
import gettext
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from salescope.core.money import parse_amount
from salescope.testing.factories import AccountFactory, ActivityFactory, make_opportunity

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "de" / "LC_MESSAGES"
PO = LOCALE_DIR / "django.po"
MO = LOCALE_DIR / "django.mo"
TEMPLATES = Path(settings.BASE_DIR) / "templates"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|\{\w+\}")


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    """A German request leaves German active in this thread (LocaleMiddleware activates the
    language and nothing resets it); later tests expect the default language."""
    yield
    translation.deactivate()


# --- a minimal .po reader ------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> str:
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unquote(text: str) -> str:
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text[1:-1])


def read_po(path: Path) -> list[Entry]:
    """Entries of a .po file (obsolete ``#~`` entries skipped; the header is the first)."""
    entries: list[Entry] = []
    current = Entry()
    target: tuple[str, int] | None = None
    keyword = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$')

    def finish() -> None:
        nonlocal current, target
        if target is not None:
            entries.append(current)
        current, target = Entry(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#~"):
            continue
        elif line.startswith("#,"):
            current.flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
        elif line.startswith("#"):
            continue
        elif match := keyword.match(line):
            name, index, value = match.group(1), match.group(2), _unquote(match.group(3))
            if name == "msgctxt":
                current.msgctxt, target = value, ("msgctxt", 0)
            elif name == "msgid":
                current.msgid, current.line, target = value, number, ("msgid", 0)
            elif name == "msgid_plural":
                current.plural, target = value, ("plural", 0)
            else:
                slot = int(index) if index else 0
                current.msgstr[slot], target = value, ("msgstr", slot)
        elif line.startswith('"') and target is not None:
            value = _unquote(line)
            if target[0] == "msgstr":
                current.msgstr[target[1]] += value
            elif target[0] == "msgctxt":
                current.msgctxt = (current.msgctxt or "") + value
            elif target[0] == "msgid":
                current.msgid += value
            else:
                current.plural = (current.plural or "") + value
        else:
            raise AssertionError(f"{path}:{number}: cannot parse {raw!r}")
    finish()
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    entries = read_po(PO)
    assert entries and entries[0].msgid == "", "the .po file must start with its header"
    return entries


# --- the catalogue ---------------------------------------------------------------------------


def test_header_declares_german_and_its_plural_rule(po_entries: list[Entry]) -> None:
    header = po_entries[0]
    assert "fuzzy" not in header.flags
    assert "Language: de\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]


def test_every_entry_is_translated_and_none_is_fuzzy(po_entries: list[Entry]) -> None:
    entries = po_entries[1:]
    assert len(entries) > 500
    problems = []
    for e in entries:
        if "fuzzy" in e.flags:
            problems.append(f"line {e.line}: fuzzy: {e.msgid!r}")
        expected_forms = {0, 1} if e.plural is not None else {0}
        if set(e.msgstr) != expected_forms:
            problems.append(f"line {e.line}: forms {sorted(e.msgstr)}: {e.msgid!r}")
        for index, text in e.msgstr.items():
            if not text.strip():
                problems.append(f"line {e.line}: msgstr[{index}] empty: {e.msgid!r}")
    assert not problems, "\n".join(problems)


def test_no_entry_is_left_in_english_by_accident(po_entries: list[Entry]) -> None:
    """A msgstr equal to its msgid is only fine for words German shares with English."""
    same_in_german = {
        "API", "CSV", "Commit", "Deal", "Deals", "Details", "Domain", "Excel (XLSX)", "Export",
        "Import", "Inbound", "Marketing", "Name", "Organisation", "Partner", "Pipeline",
        "Pipelines", "Region", "Status", "System", "Team", "Text", "Web", "Website",
        "Administrator", "%(field)s: %(old)s → %(new)s", "Deal %(outcome)s", "status",
        "Dashboards", "Dimension", "Position", "Widgets", "Team %(team)s",
    }  # fmt: skip
    suspicious = [
        e.msgid
        for e in po_entries[1:]
        if e.msgstr.get(0) == e.msgid
        and e.msgid not in same_in_german
        and e.msgctxt != "field name in messages"
        and re.search(r"[a-z]{3}", e.msgid)
    ]
    assert not suspicious, suspicious


def test_placeholders_survive_translation(po_entries: list[Entry]) -> None:
    problems = []
    for e in po_entries[1:]:
        for index, text in e.msgstr.items():
            source = e.plural if index > 0 and e.plural is not None else e.msgid
            wanted, got = (
                sorted(set(PLACEHOLDER.findall(source))),
                sorted(set(PLACEHOLDER.findall(text))),
            )
            if wanted != got:
                problems.append(f"line {e.line}: {source!r} has {wanted}, msgstr[{index}] {got}")
    assert not problems, "\n".join(problems)


def test_compiled_catalogue_matches_the_po_file(po_entries: list[Entry]) -> None:
    """The committed .mo holds exactly the .po's translations (recompile after editing)."""
    assert MO.is_file(), "run: cd salescope && ../manage.py compilemessages -l de"
    with MO.open("rb") as fh:
        catalogue = gettext.GNUTranslations(fh)
    stale = []
    for e in po_entries[1:]:
        if e.plural is None:
            got = (
                catalogue.pgettext(e.msgctxt, e.msgid) if e.msgctxt else catalogue.gettext(e.msgid)
            )
            if got != e.msgstr[0]:
                stale.append(e.msgid)
        else:
            for n, index in ((1, 0), (2, 1)):
                if catalogue.ngettext(e.msgid, e.plural, n) != e.msgstr[index]:
                    stale.append(e.msgid)
    assert not stale, f"django.mo is out of date for: {stale[:10]}"


_TRANSLATE_TAG = re.compile(r"""{%\s*(?:translate|trans)\s+(?:"([^"]*)"|'([^']*)')""")


def test_every_template_string_is_in_the_catalogue(po_entries: list[Entry]) -> None:
    """Strings marked in templates since the last ``makemessages`` fail here, not in German."""
    known = {e.msgid for e in po_entries}
    missing = set()
    for template in TEMPLATES.rglob("*.html"):
        for match in _TRANSLATE_TAG.finditer(template.read_text(encoding="utf-8")):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            if text not in known:
                missing.add(f"{template.relative_to(TEMPLATES)}: {text!r}")
    assert not missing, "run makemessages and translate:\n" + "\n".join(sorted(missing))


# --- messages from the services ------------------------------------------------------------


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def test_service_messages_keep_their_english_and_have_german() -> None:
    with translation.override("en"), pytest.raises(ValidationError) as english:
        parse_amount("-5")
    assert _message(english.value) == "amount cannot be negative (got -5)."
    with translation.override("de"), pytest.raises(ValidationError) as german:
        parse_amount("-5")
    assert _message(german.value) == "Betrag darf nicht negativ sein (erhalten: -5)."


def test_pipeline_messages_in_german(org_setup: Any, frozen_now: Any) -> None:
    from salescope.pipeline.services import mark_lost, move_to_stage

    opp = make_opportunity(owner=org_setup.rep, stage=org_setup.stages["Qualification"])
    with translation.override("de"):
        with pytest.raises(ValidationError) as lost:
            mark_lost(opportunity=opp, actor=org_setup.rep, reason=None)
        assert "Ein Verlustgrund ist Pflicht" in _message(lost.value)
        with pytest.raises(ValidationError) as same:
            move_to_stage(opportunity=opp, actor=org_setup.rep, stage=opp.stage)
        assert _message(same.value) == "Der Deal ist bereits in „Qualification“."


# --- pages in German -------------------------------------------------------------------------


def _text(response: Any) -> str:
    """Page text with non-breaking spaces as plain spaces (Babel puts one before €)."""
    assert response.status_code == 200, response.status_code
    return response.content.decode().replace("\u00a0", " ").replace("\u202f", " ")


@pytest.fixture
def german(client: Client, org_setup: Any) -> Client:
    client.force_login(org_setup.rep)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    return client


@pytest.fixture
def deal(org_setup: Any, frozen_now: Any) -> Any:
    account: Any = AccountFactory(name="Müller Maschinenbau GmbH", owner=org_setup.rep)
    return make_opportunity(
        owner=org_setup.rep,
        stage=org_setup.stages["Proposal"],
        account=account,
        name="Fräsmaschine FZ-200",
        amount="1234.56",
        expected_close=dt.date(2026, 3, 31),
    )


def test_language_switch_sets_the_cookie_and_the_page_follows(
    client: Client, org_setup: Any
) -> None:
    client.force_login(org_setup.rep)
    response = client.post(reverse("set_language"), {"language": "de", "next": "/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    html = _text(client.get(reverse("home")))
    assert '<html lang="de">' in html
    for label in ("Start", "Pipeline", "Deals", "Firmen", "Kalender", "Abmelden"):
        assert f">{label}<" in html


def test_home_in_german(german: Client, deal: Any) -> None:
    html = _text(german.get(reverse("home")))
    assert "Guten Tag" in html
    assert "Gewonnene Deals" in html  # a flash figure
    assert "Good day" not in html


def test_board_in_german(german: Client, deal: Any) -> None:
    html = _text(german.get(reverse("pipeline:board")))
    assert "Gewichtet" in html or "gewichtet" in html
    assert "Verschieben nach" in html
    assert "1.235 €" in html  # cards and column totals show whole amounts
    assert "€1,235" not in html


def test_deal_page_in_german(german: Client, deal: Any) -> None:
    html = _text(german.get(reverse("pipeline:detail", args=[deal.pk])))
    assert "1.234,56 €" in html
    assert "Betrag" in html and "Wahrscheinlichkeit" in html
    assert "Erwarteter Abschluss" in html
    assert "31.03.2026" in html or "31. März 2026" in html
    assert "Zeitleiste" in html or "Änderungen" in html
    assert "Expected close" not in html


def test_deal_page_in_english_keeps_english_formats(
    client: Client, org_setup: Any, deal: Any
) -> None:
    client.force_login(org_setup.rep)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = _text(client.get(reverse("pipeline:detail", args=[deal.pk])))
    assert "€1,234.56" in html
    assert "1.234,56" not in html


def test_account_page_in_german(german: Client, deal: Any) -> None:
    html = _text(german.get(reverse("accounts:detail", args=[deal.account_id])))
    assert "Kennzahlen" in html
    assert "Kontakt hinzufügen" in html
    assert "1.235 €" in html
    assert "Key figures" not in html


def test_agenda_in_german(german: Client, org_setup: Any, frozen_now: Any) -> None:
    from salescope.core import clock

    ActivityFactory(owner=org_setup.rep, subject="Kundentermin", due_on=clock.today())
    html = _text(german.get(reverse("activities:agenda")))
    assert "Woche" in html and "Heute" in html
    assert "Kundentermin" in html
    assert "Week" not in html


def test_formatting_filters_follow_the_language() -> None:
    from salescope.core import formatting

    with translation.override("de"):
        assert formatting.money(Decimal("1234.56"), "EUR").replace("\u00a0", " ") == "1.234,56 €"
        assert formatting.number(Decimal("1234.5"), digits=1) == "1.234,5"
        assert formatting.date(dt.date(2026, 3, 31), style="short") == "31.03.26"
    with translation.override("en"):
        assert formatting.money(Decimal("1234.56"), "EUR") == "€1,234.56"

"""Every write to the customer base (D1-D4): accounts, contacts, their links, tags and sharing.

Each use case is one transaction with keyword-only arguments. Input is checked completely
before anything is written: every malformed value is reported at once in a
``ValidationError`` keyed by field name (``custom.<key>`` for custom fields), and nothing is
saved. Updates take the expected version the caller loaded and raise ``ConflictError`` when
someone saved in between. ``actor=None`` means the system (imports, automation, demo) and
skips the permission checks; otherwise :mod:`salescope.visibility` decides.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import models, transaction
from django.utils.translation import gettext as _

from salescope.accounts.models import (
    Account,
    AccountContact,
    AccountStatus,
    AccountType,
    Contact,
    ContactRole,
    Industry,
    Region,
    Tag,
    Tier,
)
from salescope.core import clock
from salescope.core.concurrency import check_version
from salescope.core.errors import PermissionDenied, check_date_in_range, field_error, field_label
from salescope.core.money import parse_amount
from salescope.core.services import clean_external_ids, external_ids_of, set_external_ids
from salescope.customfields.models import Target
from salescope.customfields.services import clean_custom_values, definitions
from salescope.org.models import Role, User
from salescope.visibility import can_change, can_view, owner_ids, require_change, require_writer

MAX_NAME = 200
MAX_PERSON_NAME = 100
MAX_JOB_TITLE = 120
MAX_URL = 200
MAX_DOMAIN = 200
MAX_PHONE = 40
MAX_STREET = 200
MAX_POSTAL_CODE = 20
MAX_CITY = 100
MAX_EMAIL = 254
MAX_LONG_TEXT = 50_000
MAX_EMPLOYEES = 10_000_000
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)


# --- collecting errors ---------------------------------------------------------------------


class FieldErrors:
    """Collects field errors so that one call reports every bad value at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def merge(self, exc: ValidationError, default_field: str = "__all__") -> None:
        if hasattr(exc, "error_dict"):
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add(field, message)
        else:
            for message in exc.messages:
                self.add(default_field, message)

    def check(self, field: str, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``; a ``ValidationError`` is recorded (under ``field``
        unless it names its own) and ``None`` returned."""
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            self.merge(exc, field)
            return None

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


# --- normalisation -------------------------------------------------------------------------

# Legal forms dropped from the end of a company name (after casefolding, stripping accents
# and removing dots, so "B.V." is "bv" and "S.à r.l." is "sa rl"). Only the unambiguous
# French ones are also dropped from the start ("SARL Dupont"): "As Good As New" stays.
_LEGAL_FORMS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {
            tuple(form.split())
            for form in [
                # German-speaking countries
                "gmbh",
                "mbh",
                "gesmbh",
                "ag",
                "kg",
                "kgaa",
                "ohg",
                "gbr",
                "ug",
                "ek",
                "haftungsbeschrankt",
                "se",
                "co",
                "cie",
                "und co",
                "u co",
                # France, Belgium, Luxembourg, Switzerland
                "sa",
                "sas",
                "sasu",
                "sarl",
                "eurl",
                "snc",
                "sca",
                "sprl",
                "srl",
                "sa rl",
                "s a r l",
                "s a",
                "s a s",
                "scs",
                "asbl",
                # Netherlands, Belgium
                "bv",
                "nv",
                "b v",
                "n v",
                "bvba",
                "vof",
                "cv",
                "cvba",
                # English-speaking countries
                "ltd",
                "limited",
                "llc",
                "llp",
                "lp",
                "inc",
                "incorporated",
                "corp",
                "corporation",
                "plc",
                "pty",
                "pte",
                "company",
                # Other European forms
                "spa",
                "s p a",
                "sl",
                "slu",
                "oy",
                "oyj",
                "ab",
                "as",
                "asa",
                "aps",
                "a s",
                "kft",
                "sro",
                "s r o",
                "sp z oo",
                "sp zoo",
                "doo",
                "d o o",
            ]
        },
        key=len,
        reverse=True,
    )
)
_LEADING_FORMS = frozenset({("sarl",), ("sas",), ("sasu",), ("eurl",), ("snc",), ("sprl",)})
_DROPPED = re.compile(r"[.'’ʼ`´]")
_SEPARATORS = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    """Casefold and strip accents until stable (some characters decompose in several steps)."""
    for _round in range(5):
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        folded = "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Me"))
        if folded == text:
            break
        text = folded
    return text


def _strip_legal_forms(tokens: list[str]) -> list[str]:
    """Drop legal forms from the end, then from the start; at least one token stays.

    The end goes first so that "SAS GmbH" keeps "sas" like "SAS" does (and the result is
    idempotent: stripping the start never makes a new form appear at the end).
    """

    def strip(tokens: list[str], forms: Iterable[tuple[str, ...]], at_end: bool) -> list[str]:
        changed = True
        while changed:
            changed = False
            for form in forms:
                n = len(form)
                if len(tokens) > n and tuple(tokens[-n:] if at_end else tokens[:n]) == form:
                    tokens = tokens[:-n] if at_end else tokens[n:]
                    changed = True
                    break
        return tokens

    tokens = strip(tokens, _LEGAL_FORMS, at_end=True)
    return strip(tokens, _LEADING_FORMS, at_end=False)


def normalize_name(name: str) -> str:
    """A company name reduced for matching duplicates (D6).

    Casefolded, accents stripped, punctuation and extra spaces removed, and legal forms at
    the end (and "SARL", "SAS"... at the start) dropped: "Müller GmbH & Co. KG" and
    "MULLER" both give "muller". A name made only of legal forms is kept (without
    punctuation). Idempotent.
    """
    if not name:
        return ""
    text = _fold(str(name))
    text = _DROPPED.sub("", text)
    tokens = _SEPARATORS.sub(" ", text).split()
    return " ".join(_strip_legal_forms(tokens))


def domain_from(website_or_email: str | None) -> str:
    """The domain of a website address or an e-mail address, lowercase, without "www."

    "https://www.Example.com/contact" and "Jane.Doe@example.com" both give "example.com";
    anything unusable gives "".
    """
    if not website_or_email or not isinstance(website_or_email, str):
        return ""
    text = website_or_email.strip()
    if "@" in text and "://" not in text:
        host = text.rsplit("@", 1)[1]
        host = re.split(r"[/?#>\s]", host, maxsplit=1)[0]
    else:
        if "://" not in text:
            text = "//" + text.lstrip("/")
        try:
            host = urlsplit(text).hostname or ""
        except ValueError:
            return ""
    host = host.strip().strip(".").lower()
    if host.startswith("www."):
        host = host[4:]
    return host


# --- field checks (pure, each raises a ValidationError keyed by the field) -----------------


def check_text(
    field: str, value: Any, max_length: int | None = None, *, required: bool = False
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise field_error(
            field,
            _("%(field)s must be text (got %(value)r).")
            % {"field": field_label(field), "value": value},
        )
    if "\x00" in value:
        raise field_error(
            field,
            _("%(field)s contains a NUL character, which cannot be stored.")
            % {"field": field_label(field)},
        )
    text = value.strip()
    if required and not text:
        raise field_error(
            field, _("%(field)s cannot be empty.") % {"field": field_label(field)}, code="required"
        )
    if max_length is not None and len(text) > max_length:
        raise field_error(
            field,
            _("%(field)s is longer than %(max)s characters (%(length)s).")
            % {"field": field_label(field), "max": max_length, "length": len(text)},
            "max_length",
        )
    return text


_URL_VALIDATOR = URLValidator(schemes=["http", "https"])


def check_website(value: Any, field: str = "website") -> str:
    text = check_text(field, value, MAX_URL)
    if not text:
        return ""
    if "://" not in text:
        text = f"https://{text}"
    try:
        _URL_VALIDATOR(text)
    except ValidationError:
        raise field_error(
            field,
            _("%(field)s: %(value)r is not a web address such as https://example.com.")
            % {"field": field_label(field), "value": value},
        ) from None
    if len(text) > MAX_URL:
        raise field_error(
            field,
            _("%(field)s is longer than %(max)s characters.")
            % {"field": field_label(field), "max": MAX_URL},
            "max_length",
        )
    return text


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def check_domain(value: Any, field: str = "domain") -> str:
    text = check_text(field, value, MAX_DOMAIN)
    if not text:
        return ""
    host = domain_from(text)
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    labels = ascii_host.split(".")
    tld = labels[-1] if labels else ""
    valid = (
        len(labels) >= 2
        and len(ascii_host) <= 253
        and all(_LABEL.match(label) for label in labels)
        and ((tld.isalpha() and len(tld) >= 2) or tld.startswith("xn--"))
    )
    if not valid:
        raise field_error(
            field,
            _("%(field)s: %(value)r is not a domain name such as example.com.")
            % {"field": field_label(field), "value": value},
        )
    return host


_PHONE = re.compile(r"^\+?[0-9 ().\-/]+(?:\s*(?:x|ext\.?|#)\s*[0-9]{1,6})?$", re.IGNORECASE)


def check_phone(value: Any, field: str = "phone") -> str:
    text = check_text(field, value, MAX_PHONE)
    if not text:
        return ""
    digits = sum(c.isdigit() for c in text)
    if not _PHONE.match(text) or digits < 3:
        raise field_error(
            field,
            _(
                "%(field)s: %(value)r is not a phone number; use digits, spaces, + ( ) - / . "
                "and an optional extension such as ext. 12."
            )
            % {"field": field_label(field), "value": value},
        )
    return text


def check_email(value: Any, field: str = "email") -> str:
    text = check_text(field, value, MAX_EMAIL)
    if not text:
        return ""
    try:
        validate_email(text)
    except ValidationError:
        raise field_error(
            field,
            _("%(field)s: %(value)r is not a valid e-mail address.")
            % {"field": field_label(field), "value": value},
        ) from None
    local, _at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


# ISO 3166-1 alpha-2 codes, plus XK (Kosovo, in common use).
COUNTRY_CODES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO
    DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU
    GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW
    KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU
    MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT
    ZA ZM ZW""".split()  # noqa: SIM905
)
_COUNTRY_HINTS = {"UK": "GB", "EL": "GR"}


def check_country(value: Any, field: str = "country") -> str:
    text = check_text(field, value)
    if not text:
        return ""
    code = text.upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise field_error(
            field,
            _("%(field)s must be a 2-letter ISO 3166 code such as DE (got %(value)r).")
            % {"field": field_label(field), "value": value},
        )
    if code not in COUNTRY_CODES:
        if code in _COUNTRY_HINTS:
            message = _(
                "%(field)s: %(code)s is not an ISO 3166 country code; did you mean %(hint)s?"
            )
        else:
            message = _("%(field)s: %(code)s is not an ISO 3166 country code.")
        raise field_error(
            field,
            message % {"field": field_label(field), "code": code, "hint": _COUNTRY_HINTS.get(code)},
        )
    return code


def check_employees(value: Any, field: str = "employees") -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool | float):
        raise field_error(
            field,
            _("%(field)s must be a whole number (got %(value)r).")
            % {"field": field_label(field), "value": value},
        )
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if not re.fullmatch(r"-?[0-9]+", text):
            raise field_error(
                field,
                _("%(field)s must be a whole number (got %(value)r).")
                % {"field": field_label(field), "value": value},
            )
        value = int(text)
    if not isinstance(value, int):
        raise field_error(
            field,
            _("%(field)s must be a whole number (got %(value)r).")
            % {"field": field_label(field), "value": value},
        )
    if value < 0:
        raise field_error(
            field,
            _("%(field)s cannot be negative (got %(value)s).")
            % {"field": field_label(field), "value": value},
        )
    if value > MAX_EMPLOYEES:
        raise field_error(
            field,
            _("%(field)s is too large (maximum %(max)s).")
            % {"field": field_label(field), "max": f"{MAX_EMPLOYEES:,}"},
        )
    return value


def check_amount(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    return parse_amount(value, field=field)


def check_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise field_error(
            field,
            _("%(field)s must be true or false (got %(value)r).")
            % {"field": field_label(field), "value": value},
        )
    return value


def check_date(value: Any, field: str) -> dt.date | None:
    if value is None:
        return None
    return check_date_in_range(field, value, earliest=MIN_DATE, latest=MAX_DATE)


_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[-_][a-z0-9]{2,8})?$")


def check_language(value: Any, field: str = "language") -> str:
    text = check_text(field, value, 8).lower()
    if text and not _LANGUAGE.match(text):
        raise field_error(
            field,
            _("%(field)s: %(value)r is not a language code such as de or en.")
            % {"field": field_label(field), "value": value},
        )
    return text


def check_option(
    field: str,
    value: Any,
    model: type[models.Model],
    *,
    current_id: int | None = None,
    required: bool = False,
) -> Any:
    """An entry of an admin-configured list; it must be active unless already in use."""
    if value is None:
        if required:
            raise field_error(
                field, _("%(field)s is required.") % {"field": field_label(field)}, code="required"
            )
        return None
    name = model._meta.verbose_name
    if not isinstance(value, model) or value.pk is None:
        raise field_error(
            field,
            _("%(field)s must be a saved %(name)s (got %(value)r).")
            % {"field": field_label(field), "name": name, "value": value},
        )
    active = model._default_manager.filter(pk=value.pk).values_list("active", flat=True).first()
    if active is None:
        raise field_error(
            field,
            _("%(field)s: %(name)s “%(value)s” no longer exists.")
            % {"field": field_label(field), "name": name, "value": value},
        )
    if not active and value.pk != current_id:
        raise field_error(
            field,
            _("%(field)s: %(name)s “%(value)s” is no longer in use.")
            % {"field": field_label(field), "name": name, "value": value},
            "inactive",
        )
    return value


def check_owner(owner: Any, *, field: str = "owner", current_id: int | None = None) -> User:
    """An owner must be an active user who may change records (not read-only)."""
    if owner is None:
        raise field_error(
            field, _("%(field)s is required.") % {"field": field_label(field)}, code="required"
        )
    if not isinstance(owner, User) or owner.pk is None:
        raise field_error(
            field,
            _("%(field)s must be a user (got %(value)r).")
            % {"field": field_label(field), "value": owner},
        )
    if owner.pk == current_id:
        return owner
    row = User.objects.filter(pk=owner.pk).values("is_active", "role").first()
    if row is None:
        raise field_error(
            field,
            _("%(field)s: user %(user)s no longer exists.")
            % {"field": field_label(field), "user": owner},
        )
    if not row["is_active"]:
        raise field_error(
            field,
            _("%(field)s: %(user)s is deactivated.") % {"field": field_label(field), "user": owner},
            "inactive",
        )
    if row["role"] == Role.READ_ONLY:
        raise field_error(
            field,
            _("%(field)s: %(user)s has a read-only role and cannot own records.")
            % {"field": field_label(field), "user": owner},
            "read_only",
        )
    return owner


def check_tags(tags: Any, *, current_ids: Iterable[int] = (), field: str = "tags") -> list[Tag]:
    """A list of saved tags; tags newly added must belong to an active category."""
    if tags is None:
        return []
    if isinstance(tags, str | bytes | Mapping) or not isinstance(tags, Iterable):
        raise field_error(
            field,
            _("%(field)s must be a list of tags (got %(value)r).")
            % {"field": field_label(field), "value": tags},
        )
    items = list(tags)
    bad = [t for t in items if not isinstance(t, Tag) or t.pk is None]
    if bad:
        raise field_error(
            field,
            _("%(field)s: %(values)s are not saved tags.")
            % {"field": field_label(field), "values": ", ".join(map(repr, bad))},
        )
    ids = {t.pk for t in items}
    rows = dict(Tag.objects.filter(pk__in=ids).values_list("pk", "category__active"))
    missing = ids - set(rows)
    if missing:
        raise field_error(
            field,
            _("%(field)s: tags %(values)s no longer exist.")
            % {"field": field_label(field), "values": sorted(missing)},
        )
    inactive = [t for t in items if not rows[t.pk] and t.pk not in set(current_ids)]
    if inactive:
        raise field_error(
            field,
            _("%(field)s: the category of %(values)s is no longer in use.")
            % {"field": field_label(field), "values": ", ".join(map(str, inactive))},
        )
    unique: dict[int, Tag] = {t.pk: t for t in items}
    return list(unique.values())


def check_users(users: Any, *, field: str) -> list[User]:
    if users is None:
        return []
    if isinstance(users, str | bytes | Mapping) or not isinstance(users, Iterable):
        raise field_error(
            field,
            _("%(field)s must be a list of users (got %(value)r).")
            % {"field": field_label(field), "value": users},
        )
    items = list(users)
    bad = [u for u in items if not isinstance(u, User) or u.pk is None]
    if bad:
        raise field_error(
            field,
            _("%(field)s: %(values)s are not users.")
            % {"field": field_label(field), "values": ", ".join(map(repr, bad))},
        )
    ids = {u.pk for u in items}
    active = set(User.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
    inactive = [u for u in items if u.pk not in active]
    if inactive:
        raise field_error(
            field,
            _("%(field)s: %(values)s are deactivated or unknown.")
            % {"field": field_label(field), "values": ", ".join(map(str, inactive))},
        )
    return list({u.pk: u for u in items}.values())


def _check_assignable_owner(actor: User | None, owner: User, what: str) -> None:
    """Reps and marketing create records for themselves; managers also for their teams."""
    if actor is None or owner.pk == actor.pk or actor.is_superuser or actor.role == Role.ADMIN:
        return
    if actor.role == Role.MANAGER:
        if owner_ids(actor).filter(pk=owner.pk).exists():
            return
        raise field_error(
            "owner",
            _("%(field)s: you can create %(what)s for yourself or your team, not for %(user)s.")
            % {"field": field_label("owner"), "what": what, "user": owner},
        )
    raise field_error(
        "owner",
        _("%(field)s: you can only create %(what)s that you own, not for %(user)s.")
        % {"field": field_label("owner"), "what": what, "user": owner},
    )


def _custom(
    errors: FieldErrors,
    *,
    target: str,
    values: Any,
    previous: Mapping[str, Any] | None,
    creating: bool,
) -> dict[str, Any] | None:
    """Merge and validate custom values; on update a mandatory field cannot be cleared."""
    defs = definitions(target)
    try:
        merged = clean_custom_values(
            target=target, values=values, previous=previous, creating=creating, defs=defs
        )
    except ValidationError as exc:
        errors.merge(exc, "custom")
        return None
    if not creating and isinstance(values, Mapping):
        for d in defs:
            if d.required_on_create and d.key in values and d.key not in merged:
                errors.add(
                    f"custom.{d.key}",
                    _("%(label)s is mandatory and cannot be cleared.") % {"label": d.label},
                )
    return merged


def _unknown_fields(changes: Mapping[str, Any], known: Iterable[str], what: str) -> None:
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise ValidationError(
            {
                k: _("%(field)s is not a field of %(what)s that can be changed here.")
                % {"field": field_label(k), "what": what}
                for k in unknown
            }
        )


def _touch(record: Any, actor: User | None) -> None:
    record.version += 1
    record.updated_at = clock.now()
    record.updated_by = actor


# --- accounts ------------------------------------------------------------------------------

_ACCOUNT_OPTIONS: dict[str, type[models.Model]] = {
    "status": AccountStatus,
    "tier": Tier,
    "account_type": AccountType,
    "industry": Industry,
    "region": Region,
}
_ACCOUNT_TEXT = {
    "street": MAX_STREET,
    "postal_code": MAX_POSTAL_CODE,
    "city": MAX_CITY,
    "description": MAX_LONG_TEXT,
}
ACCOUNT_FIELDS = frozenset(
    {
        "name", "owner", "status", "tier", "account_type", "industry", "region", "parent",
        "website", "domain", "phone", "street", "postal_code", "city", "country", "employees",
        "annual_revenue", "description", "tags", "custom", "external_ids",
    }
)  # fmt: skip


def default_status() -> AccountStatus | None:
    """The status new accounts get: the active default one, else the first active one."""
    active = AccountStatus.objects.filter(active=True)
    return active.filter(is_default=True).first() or active.first()


def _check_parent(parent: Any, *, account: Account | None, actor: User | None) -> Account | None:
    if parent is None:
        return None
    if not isinstance(parent, Account) or parent.pk is None:
        raise field_error(
            "parent",
            _("%(field)s must be a saved account (got %(value)r).")
            % {"field": field_label("parent"), "value": parent},
        )
    if account is not None and parent.pk == account.pk:
        raise field_error(
            "parent",
            _("%(field)s: an account cannot be its own parent company.")
            % {"field": field_label("parent")},
        )
    if not Account.objects.filter(pk=parent.pk).exists():
        raise field_error(
            "parent",
            _("%(field)s: account “%(account)s” no longer exists.")
            % {"field": field_label("parent"), "account": parent},
        )
    if account is not None and account.parent_id == parent.pk:
        return parent  # unchanged
    if actor is not None and not can_view(actor, parent):
        raise field_error(
            "parent",
            _("%(field)s: you cannot see account “%(account)s”.")
            % {"field": field_label("parent"), "account": parent},
        )
    if account is not None:
        seen: set[int] = set()
        cursor: int | None = parent.pk
        while cursor is not None and cursor not in seen:
            if cursor == account.pk:
                raise field_error(
                    "parent",
                    _("%(field)s: “%(parent)s” is a subsidiary of “%(account)s” (a cycle).")
                    % {"field": field_label("parent"), "parent": parent, "account": account},
                )
            seen.add(cursor)
            cursor = Account.objects.filter(pk=cursor).values_list("parent_id", flat=True).first()
    return parent


def _clean_account(
    data: Mapping[str, Any], *, actor: User | None, current: Account | None, errors: FieldErrors
) -> dict[str, Any]:
    """Validated values for the fields in ``data`` (custom, tags, ids handled by the caller)."""
    out: dict[str, Any] = {}
    for field, value in data.items():
        if field == "name":
            out[field] = errors.check(field, check_text, field, value, MAX_NAME, required=True)
        elif field == "owner":
            current_id = current.owner_id if current else None
            owner = errors.check(field, check_owner, value, current_id=current_id)
            if owner is not None and current is None:
                errors.check(field, _check_assignable_owner, actor, owner, _("accounts"))
            out[field] = owner
        elif field in _ACCOUNT_OPTIONS:
            current_id = getattr(current, f"{field}_id", None) if current else None
            out[field] = errors.check(
                field, check_option, field, value, _ACCOUNT_OPTIONS[field],
                current_id=current_id, required=field == "status",
            )  # fmt: skip
        elif field == "parent":
            out[field] = errors.check(field, _check_parent, value, account=current, actor=actor)
        elif field == "website":
            out[field] = errors.check(field, check_website, value)
        elif field == "domain":
            out[field] = errors.check(field, check_domain, value)
        elif field == "phone":
            out[field] = errors.check(field, check_phone, value)
        elif field == "country":
            out[field] = errors.check(field, check_country, value)
        elif field == "employees":
            out[field] = errors.check(field, check_employees, value)
        elif field == "annual_revenue":
            out[field] = errors.check(field, check_amount, value, "annual_revenue")
        elif field in _ACCOUNT_TEXT:
            out[field] = errors.check(field, check_text, field, value, _ACCOUNT_TEXT[field])
    return out


def _account_domain(values: Mapping[str, Any], current: Account | None) -> str | None:
    """The domain to store, or None to leave it: given, else derived from the website."""
    if values.get("domain"):
        return values["domain"]
    website = values.get("website", current.website if current else "")
    if "domain" in values or current is None:
        return domain_from(website)
    if "website" in values and current.domain in ("", domain_from(current.website)):
        return domain_from(website)
    return None


@transaction.atomic
def create_account(
    *,
    actor: User | None,
    name: str,
    owner: User | None = None,
    status: AccountStatus | None = None,
    tier: Tier | None = None,
    account_type: AccountType | None = None,
    industry: Industry | None = None,
    region: Region | None = None,
    parent: Account | None = None,
    website: str = "",
    domain: str = "",
    phone: str = "",
    street: str = "",
    postal_code: str = "",
    city: str = "",
    country: str = "",
    employees: int | None = None,
    annual_revenue: Any = None,
    description: str = "",
    tags: Iterable[Tag] = (),
    custom: Mapping[str, Any] | None = None,
    external_ids: Mapping[str, str] | None = None,
) -> Account:
    """Create an account (D1). The owner defaults to the actor, the status to the default one.

    The domain is derived from the website when not given; the normalised name is set.
    """
    require_writer(actor, _("create accounts"))
    errors = FieldErrors()
    if status is None:
        status = default_status()
        if status is None:
            errors.add("status", "status: no account status is defined; an admin must add one.")
    data = {
        "name": name, "owner": owner or actor, "tier": tier, "account_type": account_type,
        "industry": industry, "region": region, "parent": parent, "website": website,
        "domain": domain, "phone": phone, "street": street, "postal_code": postal_code,
        "city": city, "country": country, "employees": employees,
        "annual_revenue": annual_revenue, "description": description,
    }  # fmt: skip
    if status is not None:
        data["status"] = status
    values = _clean_account(data, actor=actor, current=None, errors=errors)
    tag_list = errors.check("tags", check_tags, tags)
    custom_values = _custom(errors, target=Target.ACCOUNT, values=custom, previous=None,
                            creating=True)  # fmt: skip
    ids = errors.check("external_ids", clean_external_ids, Account, external_ids)
    errors.raise_if_any()

    now = clock.now()
    account = Account(created_at=now, updated_at=now, created_by=actor, updated_by=actor)
    for field, value in values.items():
        setattr(account, field, value)
    account.domain = _account_domain(values, None) or ""
    account.normalized_name = normalize_name(account.name)[:MAX_NAME]
    account.custom = custom_values or {}
    account.save()
    if tag_list:
        account.tags.set(tag_list)
    if ids:
        set_external_ids(record=account, ids=ids)
    return account


def _lock(model: type[Any], pk: Any) -> Any:
    return model.objects.select_for_update(of=("self",)).select_related("updated_by").get(pk=pk)


@transaction.atomic
def update_account(
    *, account: Account, actor: User | None, expected_version: int | None = None, **changes: Any
) -> Account:
    """Change the given fields of an account; unknown fields are refused by name.

    ``custom`` is merged into the stored values (None or "" clears one); ``tags`` replaces
    the tags; ``external_ids`` sets the given systems. The version is bumped only when
    something changed.
    """
    _unknown_fields(changes, ACCOUNT_FIELDS, _("an account"))
    acc = _lock(Account, account.pk)
    if actor is not None:
        require_writer(actor, _("change accounts"))
        require_change(actor, acc)
    check_version(acc, expected_version)

    errors = FieldErrors()
    scalar = {k: v for k, v in changes.items() if k not in ("tags", "custom", "external_ids")}
    values = _clean_account(scalar, actor=actor, current=acc, errors=errors)
    tag_ids = set(acc.tags.values_list("pk", flat=True))
    tag_list = None
    if "tags" in changes:
        tag_list = errors.check("tags", check_tags, changes["tags"], current_ids=tag_ids)
    custom_values = None
    if "custom" in changes:
        custom_values = _custom(errors, target=Target.ACCOUNT, values=changes["custom"],
                                previous=acc.custom, creating=False)  # fmt: skip
    ids = None
    if "external_ids" in changes:
        ids = errors.check("external_ids", clean_external_ids, Account, changes["external_ids"],
                           record_pk=acc.pk)  # fmt: skip
    errors.raise_if_any()

    changed = False
    derived_domain = _account_domain(values, acc)
    if derived_domain is not None:
        values["domain"] = derived_domain
    if "name" in values:
        values["normalized_name"] = normalize_name(values["name"])[:MAX_NAME]
    for field, value in values.items():
        attr = f"{field}_id" if field in _ACCOUNT_OPTIONS or field in ("owner", "parent") else field
        new = value.pk if attr.endswith("_id") and value is not None else value
        if getattr(acc, attr) != new:
            setattr(acc, field, value)
            changed = True
    if custom_values is not None and custom_values != acc.custom:
        acc.custom = custom_values
        changed = True
    if tag_list is not None and {t.pk for t in tag_list} != tag_ids:
        acc.tags.set(tag_list)
        changed = True
    if ids:
        before = external_ids_of(acc)
        changed = set_external_ids(record=acc, ids=ids) != before or changed
    if changed:
        _touch(acc, actor)
        acc.save()
    return acc


@transaction.atomic
def set_account_tags(
    *, account: Account, tags: Iterable[Tag], actor: User | None,
    expected_version: int | None = None,
) -> Account:  # fmt: skip
    """Replace the account's tags (D2)."""
    return update_account(account=account, actor=actor, expected_version=expected_version,
                          tags=tags)  # fmt: skip


@transaction.atomic
def share_account(*, account: Account, users: Iterable[User], actor: User | None) -> Account:
    """Share the account with exactly ``users`` (they see and may change it)."""
    acc = _lock(Account, account.pk)
    if actor is not None:
        require_writer(actor, _("share accounts"))
        require_change(actor, acc)
    user_list = check_users(users, field="users")
    acc.shared_with.set(user_list)
    return acc


# --- contacts ------------------------------------------------------------------------------

CONTACT_FIELDS = frozenset(
    {
        "first_name", "last_name", "email", "phone", "mobile", "job_title", "language",
        "notes", "owner", "tags", "custom", "external_ids",
    }
)  # fmt: skip


def _clean_contact(
    data: Mapping[str, Any], *, actor: User | None, current: Contact | None, errors: FieldErrors
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, value in data.items():
        if field == "last_name":
            out[field] = errors.check(
                field, check_text, field, value, MAX_PERSON_NAME, required=True
            )
        elif field == "first_name":
            out[field] = errors.check(field, check_text, field, value, MAX_PERSON_NAME)
        elif field == "job_title":
            out[field] = errors.check(field, check_text, field, value, MAX_JOB_TITLE)
        elif field == "notes":
            out[field] = errors.check(field, check_text, field, value, MAX_LONG_TEXT)
        elif field == "email":
            out[field] = errors.check(field, check_email, value)
        elif field in ("phone", "mobile"):
            out[field] = errors.check(field, check_phone, value, field)
        elif field == "language":
            out[field] = errors.check(field, check_language, value)
        elif field == "owner":
            current_id = current.owner_id if current else None
            owner = errors.check(field, check_owner, value, current_id=current_id)
            if owner is not None and current is None:
                errors.check(field, _check_assignable_owner, actor, owner, _("contacts"))
            out[field] = owner
    return out


def _check_roles(roles: Any, *, current_ids: Iterable[int] = ()) -> list[ContactRole]:
    """Saved contact roles; roles newly given must be active."""
    if roles is None:
        return []
    if isinstance(roles, ContactRole):
        roles = [roles]
    if isinstance(roles, str | bytes | Mapping) or not isinstance(roles, Iterable):
        raise field_error(
            "roles",
            _("%(field)s must be a list of contact roles (got %(value)r).")
            % {"field": field_label("roles"), "value": roles},
        )
    items = list(roles)
    current = set(current_ids)
    for role in items:
        pk = getattr(role, "pk", None)
        check_option("roles", role, ContactRole, current_id=pk if pk in current else None)
    return list({r.pk: r for r in items}.values())


def _check_link_target(account: Any, actor: User | None, field: str = "accounts") -> Account:
    if not isinstance(account, Account) or account.pk is None:
        raise field_error(
            field,
            _("%(field)s: %(value)r is not a saved account.")
            % {"field": field_label(field), "value": account},
        )
    if not Account.objects.filter(pk=account.pk).exists():
        raise field_error(
            field,
            _("%(field)s: account “%(account)s” no longer exists.")
            % {"field": field_label(field), "account": account},
        )
    if actor is not None and not can_view(actor, account):
        raise field_error(
            field,
            _("%(field)s: you cannot see account “%(account)s”.")
            % {"field": field_label(field), "account": account},
        )
    return account


def _clean_links(
    accounts: Any, account: Any, roles: Any, actor: User | None, errors: FieldErrors
) -> list[tuple[Account, list[ContactRole], bool]]:
    """``accounts`` items are (account, roles) or (account, roles, is_primary)."""
    specs: list[Any] = []
    if accounts is not None:
        if isinstance(accounts, str | bytes | Mapping) or not isinstance(accounts, Iterable):
            errors.add("accounts", "accounts must be a list of (account, roles, is_primary).")
            return []
        specs.extend(accounts)
    if account is not None:
        specs.append((account, roles or (), False))
    elif roles:
        errors.add("roles", "roles: give the account the roles apply to.")
    links: list[tuple[Account, list[ContactRole], bool]] = []
    seen: set[int] = set()
    for index, spec in enumerate(specs, start=1):
        field = "account" if account is not None and index == len(specs) else "accounts"
        if not isinstance(spec, tuple | list) or len(spec) not in (2, 3):
            errors.add(
                field,
                _("%(field)s: item %(index)s must be (account, roles, is_primary).")
                % {"field": field_label(field), "index": index},
            )
            continue
        target = errors.check(field, _check_link_target, spec[0], actor, field)
        role_list = errors.check("roles", _check_roles, spec[1])
        primary = errors.check(
            field, check_bool, spec[2] if len(spec) == 3 else False, "is_primary"
        )
        if target is None or role_list is None or primary is None:
            continue
        if target.pk in seen:
            errors.add(
                field,
                _("%(field)s: account “%(account)s” is given twice.")
                % {"field": field_label(field), "account": target},
            )
            continue
        seen.add(target.pk)
        links.append((target, role_list, primary))
    return links


def _make_primary(membership: AccountContact) -> None:
    AccountContact.objects.filter(account_id=membership.account_id, is_primary=True).exclude(
        pk=membership.pk
    ).update(is_primary=False)


@transaction.atomic
def create_contact(
    *,
    actor: User | None,
    last_name: str,
    first_name: str = "",
    email: str = "",
    phone: str = "",
    mobile: str = "",
    job_title: str = "",
    language: str = "",
    notes: str = "",
    owner: User | None = None,
    accounts: Iterable[tuple[Any, ...]] | None = None,
    account: Account | None = None,
    roles: Iterable[ContactRole] = (),
    tags: Iterable[Tag] = (),
    custom: Mapping[str, Any] | None = None,
    external_ids: Mapping[str, str] | None = None,
) -> Contact:
    """Create a contact, optionally at accounts with roles (D1, D4).

    Either ``accounts=[(account, roles, is_primary), ...]`` or ``account=..., roles=...``
    (or both). The owner defaults to the actor; the actor must see each account.
    """
    require_writer(actor, _("create contacts"))
    errors = FieldErrors()
    data = {
        "first_name": first_name, "last_name": last_name, "email": email, "phone": phone,
        "mobile": mobile, "job_title": job_title, "language": language, "notes": notes,
        "owner": owner or actor,
    }  # fmt: skip
    values = _clean_contact(data, actor=actor, current=None, errors=errors)
    links = _clean_links(accounts, account, roles, actor, errors)
    tag_list = errors.check("tags", check_tags, tags)
    custom_values = _custom(errors, target=Target.CONTACT, values=custom, previous=None,
                            creating=True)  # fmt: skip
    ids = errors.check("external_ids", clean_external_ids, Contact, external_ids)
    errors.raise_if_any()

    now = clock.now()
    contact = Contact(created_at=now, updated_at=now, created_by=actor, updated_by=actor)
    for field, value in values.items():
        setattr(contact, field, value)
    contact.custom = custom_values or {}
    contact.save()
    for target, role_list, primary in links:
        membership = AccountContact.objects.create(
            account=target, contact=contact, is_primary=primary
        )
        if role_list:
            membership.roles.set(role_list)
        if primary:
            _make_primary(membership)
    if tag_list:
        contact.tags.set(tag_list)
    if ids:
        set_external_ids(record=contact, ids=ids)
    return contact


@transaction.atomic
def update_contact(
    *, contact: Contact, actor: User | None, expected_version: int | None = None, **changes: Any
) -> Contact:
    """Change the given fields of a contact; unknown fields are refused by name.

    Links to accounts change through :func:`link_contact` and :func:`unlink_contact`.
    """
    _unknown_fields(changes, CONTACT_FIELDS, _("a contact"))
    con = _lock(Contact, contact.pk)
    if actor is not None:
        require_writer(actor, _("change contacts"))
        require_change(actor, con)
    check_version(con, expected_version)

    errors = FieldErrors()
    scalar = {k: v for k, v in changes.items() if k not in ("tags", "custom", "external_ids")}
    values = _clean_contact(scalar, actor=actor, current=con, errors=errors)
    tag_ids = set(con.tags.values_list("pk", flat=True))
    tag_list = None
    if "tags" in changes:
        tag_list = errors.check("tags", check_tags, changes["tags"], current_ids=tag_ids)
    custom_values = None
    if "custom" in changes:
        custom_values = _custom(errors, target=Target.CONTACT, values=changes["custom"],
                                previous=con.custom, creating=False)  # fmt: skip
    ids = None
    if "external_ids" in changes:
        ids = errors.check("external_ids", clean_external_ids, Contact, changes["external_ids"],
                           record_pk=con.pk)  # fmt: skip
    errors.raise_if_any()

    changed = False
    for field, value in values.items():
        attr = "owner_id" if field == "owner" else field
        new = value.pk if field == "owner" else value
        if getattr(con, attr) != new:
            setattr(con, field, value)
            changed = True
    if custom_values is not None and custom_values != con.custom:
        con.custom = custom_values
        changed = True
    if tag_list is not None and {t.pk for t in tag_list} != tag_ids:
        con.tags.set(tag_list)
        changed = True
    if ids:
        before = external_ids_of(con)
        changed = set_external_ids(record=con, ids=ids) != before or changed
    if changed:
        _touch(con, actor)
        con.save()
    return con


@transaction.atomic
def set_contact_tags(
    *, contact: Contact, tags: Iterable[Tag], actor: User | None,
    expected_version: int | None = None,
) -> Contact:  # fmt: skip
    return update_contact(contact=contact, actor=actor, expected_version=expected_version,
                          tags=tags)  # fmt: skip


def _require_link_rights(actor: User | None, contact: Contact, account: Account) -> None:
    """Linking needs both records visible and the right to change one of them."""
    if actor is None:
        return
    require_writer(actor, _("link contacts to accounts"))
    if not can_view(actor, contact):
        raise PermissionDenied(
            _("%(user)s cannot see contact “%(contact)s”.") % {"user": actor, "contact": contact}
        )
    if not can_view(actor, account):
        raise PermissionDenied(
            _("%(user)s cannot see account “%(account)s”.") % {"user": actor, "account": account}
        )
    if not (can_change(actor, contact) or can_change(actor, account)):
        raise PermissionDenied(
            _("%(user)s may change neither contact “%(contact)s” nor account “%(account)s”.")
            % {"user": actor, "contact": contact, "account": account}
        )


@transaction.atomic
def link_contact(
    *,
    contact: Contact,
    account: Account,
    actor: User | None,
    roles: Iterable[ContactRole] | None = None,
    is_primary: bool | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> AccountContact:
    """Place a contact at an account with roles (D4), or change an existing link.

    ``roles`` replaces the link's roles and ``is_primary`` its flag; None keeps them (a new
    link: no roles, not primary). One primary contact per account: making a contact primary
    clears the flag of the previous one.
    """
    errors = FieldErrors()
    if not isinstance(contact, Contact) or contact.pk is None:
        raise field_error(
            "contact",
            _("%(field)s must be a saved contact (got %(value)r).")
            % {"field": field_label("contact"), "value": contact},
        )
    con = Contact.objects.select_for_update(of=("self",)).filter(pk=contact.pk).first()
    if con is None:
        raise field_error(
            "contact",
            _("%(field)s “%(contact)s” no longer exists.")
            % {"field": field_label("contact"), "contact": contact},
        )
    target = errors.check("account", _check_link_target, account, None, "account")
    errors.raise_if_any()
    _require_link_rights(actor, con, target)
    existing = AccountContact.objects.filter(account=target, contact=con).first()
    current_roles = set(existing.roles.values_list("pk", flat=True)) if existing else set()
    role_list = None
    if roles is not None:
        role_list = errors.check("roles", _check_roles, roles, current_ids=current_roles)
    if is_primary is not None:
        errors.check("is_primary", check_bool, is_primary, "is_primary")
    since = errors.check("since", check_date, since, "since")
    until = errors.check("until", check_date, until, "until")
    first = since or (existing.since if existing else None)
    last = until or (existing.until if existing else None)
    if first and last and last < first:
        errors.add(
            "until",
            _("%(until)s %(last)s is before %(since)s %(first)s.")
            % {
                "until": field_label("until"),
                "last": last.isoformat(),
                "since": field_label("since"),
                "first": first.isoformat(),
            },
        )
    errors.raise_if_any()

    membership = existing or AccountContact(account=target, contact=con)
    if is_primary is not None:
        membership.is_primary = is_primary
    if since is not None:
        membership.since = since
    if until is not None:
        membership.until = until
    membership.save()
    if role_list is not None:
        membership.roles.set(role_list)
    if membership.is_primary:
        _make_primary(membership)
    return membership


@transaction.atomic
def unlink_contact(*, contact: Contact, account: Account, actor: User | None) -> None:
    """Remove a contact from an account (to record that they left, set ``until`` instead)."""
    if not isinstance(account, Account) or account.pk is None:
        raise field_error(
            "account",
            _("%(field)s must be a saved account (got %(value)r).")
            % {"field": field_label("account"), "value": account},
        )
    membership = (
        AccountContact.objects.select_for_update(of=("self",))
        .select_related("account", "contact")
        .filter(contact_id=contact.pk, account_id=account.pk)
        .first()
    )
    if membership is None:
        raise field_error(
            "account",
            _("%(field)s: “%(contact)s” is not linked to “%(account)s”.")
            % {"field": field_label("account"), "contact": contact, "account": account},
        )
    _require_link_rights(actor, membership.contact, membership.account)
    membership.delete()


# --- filling gaps and merging duplicates (D6) ----------------------------------------------

#: Account fields a merge (or "merge into" on create) copies when ``keep`` has no value.
ACCOUNT_FILLABLE = (
    "tier", "account_type", "industry", "region", "parent", "website", "domain", "phone",
    "street", "postal_code", "city", "country", "employees", "annual_revenue", "description",
)  # fmt: skip
#: Contact fields a merge (or "merge into" on create) copies when ``keep`` has no value.
CONTACT_FILLABLE = ("first_name", "email", "phone", "mobile", "job_title", "language", "notes")


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _gaps(record: Any, values: Mapping[str, Any], fillable: Iterable[str]) -> dict[str, Any]:
    """The entries of ``values`` for fields that are empty on ``record``."""
    out: dict[str, Any] = {}
    for field in fillable:
        if field not in values or _blank(values[field]):
            continue
        attr = (
            f"{field}_id" if isinstance(record._meta.get_field(field), models.ForeignKey) else field
        )
        if _blank(getattr(record, attr)):
            out[field] = values[field]
    return out


def _custom_gaps(current: Mapping[str, Any], other: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (other or {}).items() if _blank(current.get(k)) and not _blank(v)}


@transaction.atomic
def fill_account_gaps(
    *, account: Account, values: Mapping[str, Any], actor: User | None,
    expected_version: int | None = None,
) -> Account:  # fmt: skip
    """Copy ``values`` into the fields of ``account`` that are empty; filled fields stay.

    ``values`` uses the names of :func:`update_account` (``tags`` are added, ``custom`` fills
    empty custom fields). Used by "merge into" when a new entry turns out to be a duplicate.
    """
    acc = _lock(Account, account.pk)
    if actor is not None:
        require_writer(actor, _("change accounts"))
        require_change(actor, acc)
    check_version(acc, expected_version)
    changes = _gaps(acc, values, ACCOUNT_FILLABLE)
    if "domain" in changes and "website" not in changes and acc.website:
        changes.pop("domain")  # the stored domain follows the stored website
    custom = _custom_gaps(acc.custom, values.get("custom"))
    if custom:
        changes["custom"] = custom
    new_tags = [t for t in values.get("tags") or () if isinstance(t, Tag)]
    if new_tags:
        changes["tags"] = [*acc.tags.all(), *new_tags]
    if not changes:
        return acc
    return update_account(account=acc, actor=actor, **changes)


@transaction.atomic
def fill_contact_gaps(
    *, contact: Contact, values: Mapping[str, Any], actor: User | None,
    expected_version: int | None = None,
) -> Contact:  # fmt: skip
    """Copy ``values`` into the empty fields of ``contact`` (see :func:`fill_account_gaps`)."""
    con = _lock(Contact, contact.pk)
    if actor is not None:
        require_writer(actor, _("change contacts"))
        require_change(actor, con)
    check_version(con, expected_version)
    changes = _gaps(con, values, CONTACT_FILLABLE)
    custom = _custom_gaps(con.custom, values.get("custom"))
    if custom:
        changes["custom"] = custom
    new_tags = [t for t in values.get("tags") or () if isinstance(t, Tag)]
    if new_tags:
        changes["tags"] = [*con.tags.all(), *new_tags]
    if not changes:
        return con
    return update_contact(contact=con, actor=actor, **changes)


def _check_merge_pair(
    model: type[Any], keep: Any, merge: Any, actor: User | None
) -> tuple[Any, Any]:
    """Both saved, different, locked; the actor may change both."""
    name = model._meta.verbose_name
    for field, record in (("keep", keep), ("merge", merge)):
        if not isinstance(record, model) or record.pk is None:
            raise field_error(
                field,
                _("%(field)s must be a saved %(name)s (got %(value)r).")
                % {"field": field_label(field), "name": name, "value": record},
            )
    if keep.pk == merge.pk:
        raise field_error(
            "merge",
            _("%(field)s: a %(name)s cannot be merged into itself.")
            % {"field": field_label("merge"), "name": name},
        )
    locked = {
        r.pk: r
        for r in model.objects.select_for_update(of=("self",))
        .select_related("updated_by")
        .filter(pk__in=[keep.pk, merge.pk])
        .order_by("pk")
    }
    if keep.pk not in locked:
        raise field_error(
            "keep",
            _("%(field)s: %(name)s “%(value)s” no longer exists.")
            % {"field": field_label("keep"), "name": name, "value": keep},
        )
    if merge.pk not in locked:
        raise field_error(
            "merge",
            _("%(field)s: %(name)s “%(value)s” no longer exists.")
            % {"field": field_label("merge"), "name": name, "value": merge},
        )
    if actor is not None:
        require_writer(actor, _("merge %(names)s") % {"names": model._meta.verbose_name_plural})
        require_change(actor, locked[keep.pk])
        require_change(actor, locked[merge.pk])
    return locked[keep.pk], locked[merge.pk]


def _move_external_ids(model: type[Any], keep: Any, merge: Any) -> None:
    """External ids of ``merge`` move to ``keep``, except for systems ``keep`` already has."""
    from django.contrib.contenttypes.models import ContentType

    from salescope.core.models import ExternalId

    content_type = ContentType.objects.get_for_model(model)
    rows = ExternalId.objects.filter(content_type=content_type)
    taken = set(rows.filter(object_id=keep.pk).values_list("system", flat=True))
    rows.filter(object_id=merge.pk).exclude(system__in=taken).update(object_id=keep.pk)
    rows.filter(object_id=merge.pk).delete()


def _merge_membership(target: AccountContact, other: AccountContact) -> None:
    """Fold ``other`` (same account or same contact) into ``target``: roles are united,
    the earliest start and the latest end (or none) kept."""
    target.roles.add(*other.roles.all())
    if other.since and (target.since is None or other.since < target.since):
        target.since = other.since
    if target.until is not None and (other.until is None or other.until > target.until):
        target.until = other.until
    target.save()
    other.delete()


@transaction.atomic
def merge_accounts(*, keep: Account, merge: Account, actor: User | None) -> Account:
    """Merge the duplicate ``merge`` into ``keep`` and delete it (D6). Nothing is lost.

    Its deals move to ``keep`` through ``pipeline.services.update_details`` (their history
    stays untouched; the move is recorded as an account event), and so do its contacts
    (roles united where a contact is at both), activities, comments, attachments, tags,
    shares, subsidiaries and external ids. Empty fields of ``keep`` are filled from
    ``merge``. The owner of ``merge``, if another person, gets ``keep`` shared so they keep
    seeing their customer. The actor must be allowed to change both accounts and every deal
    that moves.
    """
    from salescope.activities.models import Activity, Attachment, Comment
    from salescope.pipeline.models import Opportunity
    from salescope.pipeline.services import update_details

    keep, merge = _check_merge_pair(Account, keep, merge, actor)
    deals = list(Opportunity.objects.filter(account_id=merge.pk).order_by("pk"))
    if actor is not None:
        blocked = [d for d in deals if not can_change(actor, d)]
        if blocked:
            names = ", ".join(f"“{d}”" for d in blocked[:5])
            raise PermissionDenied(
                _(
                    "%(user)s may not move the deals %(names)s of “%(account)s”; "
                    "ask their owner or a manager."
                )
                % {"user": actor, "names": names, "account": merge}
            )
    for deal in deals:
        update_details(opportunity=deal, account=keep, actor=actor)

    at_keep = {m.contact_id: m for m in AccountContact.objects.filter(account_id=keep.pk)}
    keep_has_primary = any(m.is_primary for m in at_keep.values())
    for membership in AccountContact.objects.filter(account_id=merge.pk).order_by("pk"):
        existing = at_keep.get(membership.contact_id)
        if existing is not None:
            if membership.is_primary and not keep_has_primary:
                existing.is_primary = keep_has_primary = True
            _merge_membership(existing, membership)
        else:
            if membership.is_primary and keep_has_primary:
                membership.is_primary = False
            keep_has_primary = keep_has_primary or membership.is_primary
            membership.account_id = keep.pk
            membership.save()

    Activity.objects.filter(account_id=merge.pk).update(
        account_id=keep.pk, version=models.F("version") + 1
    )
    Comment.objects.filter(account_id=merge.pk).update(account_id=keep.pk)
    Attachment.objects.filter(account_id=merge.pk).update(account_id=keep.pk)
    Account.objects.filter(parent_id=merge.pk).exclude(pk=keep.pk).update(parent_id=keep.pk)
    keep.tags.add(*merge.tags.all())
    shares = [u for u in merge.shared_with.all() if u.pk != keep.owner_id]
    if merge.owner_id != keep.owner_id:
        shares.append(merge.owner)
    keep.shared_with.add(*shares)
    _move_external_ids(Account, keep, merge)

    values = {f: getattr(merge, f) for f in ACCOUNT_FILLABLE}
    if values["parent"] is not None and values["parent"].pk == keep.pk:
        values["parent"] = None
    if keep.parent_id == merge.pk:
        keep.parent = None
        Account.objects.filter(pk=keep.pk).update(parent=None)
    gaps = _gaps(keep, values, ACCOUNT_FILLABLE)
    for field, value in gaps.items():
        setattr(keep, field, value)
    keep.custom = {**keep.custom, **_custom_gaps(keep.custom, merge.custom)}
    _touch(keep, actor)
    keep.save()
    merge.delete()
    return keep


@transaction.atomic
def merge_contacts(*, keep: Contact, merge: Contact, actor: User | None) -> Contact:
    """Merge the duplicate contact ``merge`` into ``keep`` and delete it (D6).

    Its places at accounts (roles united), activities, deals, agreements, tags and external
    ids move to ``keep``; empty fields of ``keep`` are filled from ``merge``. The actor must
    be allowed to change both contacts.
    """
    from salescope.activities.models import Activity, Agreement
    from salescope.pipeline.models import Opportunity
    from salescope.pipeline.services import set_contacts

    keep, merge = _check_merge_pair(Contact, keep, merge, actor)

    at_accounts = {m.account_id: m for m in AccountContact.objects.filter(contact_id=keep.pk)}
    for membership in AccountContact.objects.filter(contact_id=merge.pk).order_by("pk"):
        existing = at_accounts.get(membership.account_id)
        if existing is not None:
            existing.is_primary = existing.is_primary or membership.is_primary
            _merge_membership(existing, membership)
        else:
            membership.contact_id = keep.pk
            membership.save()

    through = Activity.contacts.through
    both = through.objects.filter(contact_id=keep.pk).values("activity_id")
    through.objects.filter(contact_id=merge.pk, activity_id__in=both).delete()
    through.objects.filter(contact_id=merge.pk).update(contact_id=keep.pk)
    Agreement.objects.filter(owner_contact_id=merge.pk).update(owner_contact_id=keep.pk)

    for deal in Opportunity.objects.filter(contacts=merge).prefetch_related("contacts"):
        people = [c for c in deal.contacts.all() if c.pk != merge.pk]
        if all(c.pk != keep.pk for c in people):
            people.append(keep)
        who = actor if actor is not None and can_change(actor, deal) else None
        set_contacts(opportunity=deal, contacts=people, actor=who)

    keep.tags.add(*merge.tags.all())
    _move_external_ids(Contact, keep, merge)
    values = {f: getattr(merge, f) for f in CONTACT_FILLABLE}
    for field, value in _gaps(keep, values, CONTACT_FILLABLE).items():
        setattr(keep, field, value)
    keep.custom = {**keep.custom, **_custom_gaps(keep.custom, merge.custom)}
    _touch(keep, actor)
    keep.save()
    merge.delete()
    return keep

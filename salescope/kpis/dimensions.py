"""Dimensions a KPI can be grouped and filtered by.

Each dimension says, per *subject* (the table a KPI counts: ``opportunity``, ``event`` for
the opportunity history, ``activity``), which column holds its value, and how to name a
value. Values are ids (or codes for ``outcome``); ``none`` selects records without a value.

Two dimensions are multi-valued: ``product`` (a deal's product lines) and ``tag_category``
(the tags of the deal's account, named ``category: tag``). A record counts once under each
of its values, so their groups may add up to more than the total; filters on them keep
every record once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SUBJECTS = ("opportunity", "event", "activity")
NONE_VALUE = "none"


@dataclass(frozen=True)
class Dimension:
    key: str
    label: Promise
    #: column path per subject (subjects missing here do not support the dimension)
    paths: dict[str, str]
    labels: Callable[[Iterable[Any]], dict[Any, str]]
    multi: bool = False
    integer: bool = True
    choices: tuple[str, ...] = field(default_factory=tuple)

    def path(self, subject: str) -> str:
        return self.paths[subject]

    def parse(self, raw: Iterable[Any]) -> list[Any]:
        """Filter values from user input (ids, codes or ``none``), or a ValidationError."""
        values: list[Any] = []
        for item in raw:
            text = str(item).strip()
            if text == "":
                continue
            if text == NONE_VALUE:
                values.append(None)
            elif self.integer:
                if not (text.isascii() and text.isdigit()) or len(text) > 18:
                    raise ValidationError(
                        {
                            f"filter.{self.key}": [
                                _("%(dimension)s: %(value)r is not an id.")
                                % {"dimension": self.key, "value": text}
                            ]
                        }
                    )
                values.append(int(text))
            else:
                if self.choices and text not in self.choices:
                    raise ValidationError(
                        {
                            f"filter.{self.key}": [
                                _("%(dimension)s: %(value)r is not one of %(allowed)s.")
                                % {
                                    "dimension": self.key,
                                    "value": text,
                                    "allowed": ", ".join(self.choices),
                                }
                            ]
                        }
                    )
                values.append(text)
        if not values:
            raise ValidationError(
                {
                    f"filter.{self.key}": [
                        _("%(dimension)s: no value given.") % {"dimension": self.key}
                    ]
                }
            )
        return values

    def filter(self, qs: QuerySet[Any], subject: str, values: list[Any]) -> QuerySet[Any]:
        path = self.path(subject)
        cond = Q()
        ids = [v for v in values if v is not None]
        if ids:
            cond |= Q(**{f"{path}__in": ids})
        if len(ids) != len(values):
            cond |= Q(**{f"{path}__isnull": True})
        if self.multi:
            # Through a subquery, so a record with two matching values is still counted once.
            model = qs.model
            return qs.filter(pk__in=model._default_manager.filter(cond).values("pk"))
        return qs.filter(cond)


def _names(
    model_path: str, label: Callable[[Any], str] = str
) -> Callable[[Iterable[Any]], dict[Any, str]]:
    def lookup(keys: Iterable[Any]) -> dict[Any, str]:
        from django.apps import apps

        model: type[Model] = apps.get_model(model_path)
        wanted = [k for k in keys if k is not None]
        qs = model._default_manager.filter(pk__in=wanted)
        if model_path == "pipeline.Stage":
            qs = qs.select_related("pipeline")
        if model_path == "accounts.Tag":
            qs = qs.select_related("category")
        return {obj.pk: label(obj) for obj in qs}

    return lookup


def _user_name(user: Any) -> str:
    return str(user.get_full_name() or user.username)


def _tag_name(tag: Any) -> str:
    return f"{tag.category.name}: {tag.name}"


def _outcomes(keys: Iterable[Any]) -> dict[Any, str]:
    from salescope.pipeline.models import Outcome

    return {k: str(Outcome(k).label) for k in keys if k in Outcome.values}


def _opp(path: str, *, activity: str | None = None, event: str | None = None) -> dict[str, str]:
    """Paths of a deal attribute: on the deal, through an event, through an activity."""
    return {
        "opportunity": path,
        "event": event or f"opportunity__{path}",
        "activity": activity or f"opportunity__{path}",
    }


def _build() -> dict[str, Dimension]:
    from salescope.pipeline.models import Outcome

    dims = [
        Dimension(
            "rep",
            gettext_lazy("Rep"),
            _opp("owner_id", activity="owner_id"),
            _names("org.User", _user_name),
        ),
        Dimension(
            "team",
            gettext_lazy("Team"),
            _opp("owner__team_id", activity="owner__team_id"),
            _names("org.Team"),
        ),
        Dimension(
            "pipeline", gettext_lazy("Pipeline"), _opp("pipeline_id"), _names("pipeline.Pipeline")
        ),
        Dimension(
            "stage",
            gettext_lazy("Stage"),
            _opp("stage_id", event="to_stage_id"),
            _names("pipeline.Stage"),
        ),
        Dimension(
            "tier",
            gettext_lazy("Tier"),
            _opp("account__tier_id", activity="account__tier_id"),
            _names("accounts.Tier"),
        ),
        Dimension(
            "tag_category",
            gettext_lazy("Tag (by category)"),
            _opp("account__tags", activity="account__tags"),
            _names("accounts.Tag", _tag_name),
            multi=True,
        ),
        Dimension("source", gettext_lazy("Source"), _opp("source_id"), _names("pipeline.Source")),
        Dimension(
            "product",
            gettext_lazy("Product line"),
            _opp("products"),
            _names("pipeline.ProductLine"),
            multi=True,
        ),
        Dimension(
            "region",
            gettext_lazy("Region"),
            _opp("account__region_id", activity="account__region_id"),
            _names("accounts.Region"),
        ),
        Dimension(
            "account_type",
            gettext_lazy("Account type"),
            _opp("account__account_type_id", activity="account__account_type_id"),
            _names("accounts.AccountType"),
        ),
        Dimension(
            "activity_type",
            gettext_lazy("Activity type"),
            {"activity": "activity_type_id"},
            _names("activities.ActivityType"),
        ),
        Dimension(
            "lost_reason",
            gettext_lazy("Lost reason"),
            _opp("lost_reason_id"),
            _names("pipeline.LostReason"),
        ),
        Dimension(
            "outcome",
            gettext_lazy("Outcome"),
            _opp("outcome"),
            _outcomes,
            integer=False,
            choices=tuple(Outcome.values),
        ),
    ]
    return {d.key: d for d in dims}


_DIMENSIONS: dict[str, Dimension] | None = None


def dimensions() -> dict[str, Dimension]:
    global _DIMENSIONS
    if _DIMENSIONS is None:
        _DIMENSIONS = _build()
    return _DIMENSIONS


DIMENSION_KEYS: tuple[str, ...] = (
    "rep",
    "team",
    "pipeline",
    "stage",
    "tier",
    "tag_category",
    "source",
    "product",
    "region",
    "account_type",
    "activity_type",
    "lost_reason",
    "outcome",
)


def get(key: str) -> Dimension:
    try:
        return dimensions()[key]
    except KeyError:
        raise ValidationError(
            {"by": [_("Unknown dimension %(value)r; use one of %(allowed)s.") % {
                "value": key, "allowed": ", ".join(DIMENSION_KEYS)}]}
        ) from None  # fmt: skip


def group_labels(dimension: Dimension | None, keys: Iterable[Any]) -> dict[Any, str]:
    if dimension is None:
        return {}
    keys = list(keys)
    found = dimension.labels(keys)
    found[None] = _("(none)")
    return found

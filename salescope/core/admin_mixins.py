"""Shared building blocks of the back office (Django admin).

The back office writes through the same services as the product UI, the API and the
importer, so history, rules and optimistic locking are the same everywhere:

* :class:`ServiceModelForm` carries a hidden ``version`` (the record's optimistic-lock
  counter as loaded) and calls a service from its validation, so every ``ValidationError``
  the service raises is shown on the offending field and a :class:`ConflictError` is shown
  as a form error ("changed by X at T, reload") instead of a 500 or a silent overwrite.
* :class:`ServiceAdminMixin` hands the acting user to the form, never saves the instance
  itself (the service did), and rolls back everything the service wrote when the page is
  shown again with errors (for example when an inline row is invalid).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    FieldDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db import models, router, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from salescope.core import clock
from salescope.core.concurrency import check_version
from salescope.core.errors import ConflictError
from salescope.org.models import User

#: Read-only bookkeeping of every ``TrackedModel``.
TRACKED_READONLY = ("created_at", "created_by", "updated_at", "updated_by")

#: Where :class:`ServiceAdminMixin` records that the service-backed save went through.
_SAVED_FLAG = "_salescope_admin_saved"


def add_service_errors(
    form: forms.BaseForm, exc: ValidationError, field_map: dict[str, str] | None = None
) -> None:
    """Show a service's ``ValidationError`` on ``form``: on the field it names when the form
    has that field (``custom.<key>`` goes to ``custom``), otherwise above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    field_map = field_map or {}
    for key, errors in exc.error_dict.items():
        name = field_map.get(key, key)
        if name.startswith("custom.") and "custom" in form.fields:
            name = "custom"
        if name in form.fields:
            form.add_error(name, errors)
        elif name == NON_FIELD_ERRORS:
            form.add_error(None, errors)
        else:
            label = _field_label(form, name)
            form.add_error(None, [f"{label}: {m}" for e in errors for m in e.messages])


def _field_label(form: forms.BaseForm, name: str) -> str:
    model = getattr(getattr(form, "_meta", None), "model", None)
    if model is not None:
        try:
            return str(model._meta.get_field(name).verbose_name).capitalize()
        except FieldDoesNotExist:
            pass
    return name


class ServiceModelForm(forms.ModelForm):
    """A ModelForm whose save happens in a service call made during validation.

    Subclasses implement :meth:`save_through_services` and return the saved instance.
    The default implementation is a plain save with the optimistic version check, for
    models that have no service of their own.
    """

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        required=False,
        min_value=1,
        error_messages={"required": _("This form is outdated: reload the page and try again.")},
    )

    #: The acting user; :class:`ServiceAdminMixin` sets it per request.
    actor: Any = None
    #: Run ``Model.full_clean`` on the constructed instance before the service call.
    model_validation = True
    #: Service error keys that belong to a differently named form field.
    service_field_map: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.adding:
            return
        if hasattr(self.instance, "version"):
            self.fields["version"].initial = self.instance.version
            self.fields["version"].required = True

    @property
    def adding(self) -> bool:
        return self.instance._state.adding

    @property
    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")

    def _post_clean(self) -> None:
        if self.model_validation:
            super()._post_clean()  # type: ignore[misc]
        if self._errors:  # type: ignore[attr-defined]
            return
        try:
            with transaction.atomic(using=router.db_for_write(self._meta.model)):
                saved = self.save_through_services()
        except ConflictError as exc:
            self.add_error(None, ValidationError(str(exc), code="conflict"))
        except ValidationError as exc:
            add_service_errors(self, exc, self.service_field_map)
        except PermissionDenied as exc:
            self.add_error(None, str(exc) or _("You may not change this record."))
        else:
            self.instance = saved

    def save_through_services(self) -> models.Model:
        """Plain save with the optimistic version check and the bookkeeping fields."""
        obj = self.instance
        now = clock.now()
        tracked = hasattr(obj, "version")
        if self.adding:
            if tracked:
                obj.created_at = obj.updated_at = now
                obj.created_by = obj.updated_by = self.actor
        elif tracked:
            current = (
                type(obj)
                ._default_manager.select_for_update()
                .select_related("updated_by")
                .get(pk=obj.pk)
            )
            check_version(current, self.expected_version)
            obj.version = current.version + 1
            obj.updated_at = now
            obj.updated_by = self.actor
        obj.save()
        self._save_m2m()  # type: ignore[attr-defined]
        return obj

    def changed(self, name: str) -> bool:
        return name in self.fields and name in self.changed_data


class ServiceAdminMixin:
    """For ModelAdmins whose form is a :class:`ServiceModelForm`."""

    save_as = False

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # ``version`` is a non-editable model field: the form declares it instead.
        exclude = list(super().get_exclude(request, obj) or [])  # type: ignore[misc]
        return [*exclude, "version"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        return type(form.__name__, (form,), {"actor": request.user})

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method != "POST":
            return super().changeform_view(  # type: ignore[misc]
                request, object_id, form_url, extra_context
            )
        using = router.db_for_write(self.model)  # type: ignore[attr-defined]
        try:
            with transaction.atomic(using=using):
                response = super().changeform_view(  # type: ignore[misc]
                    request, object_id, form_url, extra_context
                )
                if not getattr(request, _SAVED_FLAG, False):
                    # The form is shown again with errors: undo what the service wrote.
                    transaction.set_rollback(True, using=using)
        except (ValidationError, ConflictError) as exc:
            # A service refused a write after the form was validated (inline rows): all of
            # it was rolled back; say why and show the page again.
            text = str(exc) if isinstance(exc, ConflictError) else " ".join(exc.messages)
            messages.error(request, _("Nothing was saved. %(reason)s") % {"reason": text})
            return HttpResponseRedirect(request.get_full_path())
        return response

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The form's service call saved the record already.
        setattr(request, _SAVED_FLAG, True)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Many-to-many fields went through the service; inline rows follow the saved record.
        for formset in formsets:
            formset.instance = form.instance
            self.save_formset(request, form, formset, change=change)  # type: ignore[attr-defined]


class ReadOnlyAdminMixin:
    """Nothing can be added, changed or deleted; every field is shown read-only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


class SingletonAdminMixin:
    """A model with exactly one row: it can be added only while none exists, never deleted."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return (
            super().has_add_permission(request)  # type: ignore[misc]
            and not self.model._default_manager.exists()  # type: ignore[attr-defined]
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def record_formset_changes(
    formset: Any, *, new: Any = (), changed: Any = (), deleted: Any = ()
) -> None:
    """What ``formset.save()`` would have noted, for the admin's change message, when the
    rows were written by a service instead."""
    formset.new_objects = list(new)
    formset.changed_objects = [(obj, form.changed_data) for obj, form in changed]
    formset.deleted_objects = list(deleted)


def custom_changes(old: Any, new: Any) -> Any:
    """What to send a service for a ``custom`` JSON edited as a whole: the services merge
    values into the stored ones, so a key removed in the form is sent as ``None`` (clear)."""
    if new is None or new == "":
        new = {}
    if not isinstance(new, dict) or not isinstance(old, dict):
        return new  # the service explains what it expects
    changes = {k: v for k, v in new.items() if old.get(k) != v}
    changes.update({k: None for k in old if k not in new})
    return changes


def acting_user(request: HttpRequest) -> User:
    """The signed-in user of a back-office request (the admin lets no one else in)."""
    return cast(User, request.user)


def days_since(moment: dt.datetime | None) -> int | None:
    if moment is None:
        return None
    return (clock.now() - moment).days


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A back-office view that only shows records managed elsewhere (screens, services)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

"""Back office for users, teams, company settings and currencies."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from salescope.core.admin_mixins import ReadOnlyInline, SingletonAdminMixin
from salescope.org.models import CompanySettings, Currency, ExchangeRate, Role, Team, User

ROLE_HELP = _("Administrators get the back office; every other role works in the product only.")


class SalescopeUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username",)


class SalescopeUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = SalescopeUserChangeForm
    add_form = SalescopeUserCreationForm
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (
            _("Sales organisation"),
            {
                "fields": ("role", "team", "hourly_cost", "hired_on", "language"),
                "description": ROLE_HELP,
            },
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        (
            _("Sales organisation"),
            {
                "classes": ("wide",),
                "fields": ("first_name", "last_name", "email", "role", "team"),
                "description": ROLE_HELP,
            },
        ),
    )
    list_display = (
        "username",
        "full_name",
        "email",
        "role",
        "team",
        "is_active",
        "is_staff",
        "last_login",
    )
    list_filter = ("role", "team", "is_active", "is_staff", "is_superuser")
    list_select_related = ("team",)
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)

    @admin.display(description=_("name"), ordering="last_name")
    def full_name(self, obj: User) -> str:
        return obj.get_full_name()

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # The role decides access to the back office, as ``org.services.set_role`` does.
        if not change or "role" in form.changed_data:
            obj.is_staff = obj.is_superuser = obj.role == Role.ADMIN
        super().save_model(request, obj, form, change)


class MemberInline(ReadOnlyInline):
    model = User
    fk_name = "team"
    fields = ("username", "first_name", "last_name", "email", "role", "is_active")
    readonly_fields = fields
    verbose_name = _("member")
    verbose_name_plural = _("members")
    ordering = ("first_name", "last_name", "username")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager", "member_count")
    list_select_related = ("manager",)
    search_fields = ("name", "manager__username", "manager__last_name")
    autocomplete_fields = ("manager",)
    inlines = (MemberInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(_members=Count("members"))

    @admin.display(description=_("members"), ordering="_members")
    def member_count(self, obj: Team) -> int:
        return getattr(obj, "_members", 0)


class CompanySettingsForm(forms.ModelForm):
    class Meta:
        model = CompanySettings
        fields = ("name", "currency", "locale", "fiscal_year_start_month", "stale_after_days")

    def clean_currency(self) -> Currency:
        currency = self.cleaned_data["currency"]
        if not currency.active:
            raise forms.ValidationError(
                _("Activate the currency %(code)s first."), params={"code": currency.code}
            )
        return currency

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Company name cannot be empty."))
        return name


@admin.register(CompanySettings)
class CompanySettingsAdmin(SingletonAdminMixin, admin.ModelAdmin):
    form = CompanySettingsForm
    list_display = ("name", "currency", "locale", "fiscal_year_start_month", "stale_after_days")
    list_select_related = ("currency",)


class ExchangeRateInline(admin.TabularInline):
    model = ExchangeRate
    extra = 0
    fields = ("valid_from", "rate")
    ordering = ("-valid_from",)


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "symbol", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")
    inlines = (ExchangeRateInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # The code is the key every amount refers to: fixed once created.
        return ("code",) if obj is not None else ()


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ("currency", "valid_from", "rate")
    list_filter = ("currency",)
    list_select_related = ("currency",)
    date_hierarchy = "valid_from"
    ordering = ("currency", "-valid_from")

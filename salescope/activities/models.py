"""Activities, meeting minutes, comments and attachments (A1, A3, A4)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from salescope.core.models import TrackedModel


class ActivityType(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    code = models.SlugField(_("code"), max_length=30, unique=True)
    colour = models.CharField(_("colour"), max_length=7, default="#4e79a7")
    icon = models.CharField(_("icon"), max_length=30, blank=True)
    is_milestone = models.BooleanField(_("counts as milestone action"), default=False)
    is_meeting = models.BooleanField(
        _("has minutes"),
        default=False,
        help_text=_("Meetings, visits and demos can carry minutes."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("activity type")
        verbose_name_plural = _("activity types")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Activity(TrackedModel):
    activity_type = models.ForeignKey(
        ActivityType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="activities"
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    contacts = models.ManyToManyField(
        "accounts.Contact", verbose_name=_("contacts"), blank=True, related_name="activities"
    )
    owner = models.ForeignKey(
        "org.User",
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    assigned_by = models.ForeignKey(
        "org.User",
        verbose_name=_("assigned by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_activities",
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(_("time spent (minutes)"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    # Meeting minutes (A3)
    discussion = models.TextField(_("what was discussed"), blank=True)
    participant_users = models.ManyToManyField(
        "org.User", verbose_name=_("internal participants"), blank=True, related_name="meetings"
    )
    minutes_sent_at = models.DateTimeField(_("minutes sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-starts_at", "-due_on", "-id"]
        indexes = [
            models.Index(fields=["owner", "done_at"]),
            models.Index(fields=["owner", "starts_at"]),
            models.Index(fields=["owner", "due_on"]),
            models.Index(fields=["activity_type", "done_at"]),
            # KPIs: the activities done in a period, with what their figures read (covering)
            models.Index(fields=["done_at", "owner", "activity_type", "duration_minutes"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True)
                | models.Q(starts_at__isnull=True)
                | models.Q(ends_at__gte=models.F("starts_at")),
                name="activity_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class Agreement(models.Model):
    """What was agreed in a meeting: who does what by when."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="agreements")
    text = models.CharField(_("agreement"), max_length=300)
    owner = models.ForeignKey(
        "org.User",
        verbose_name=_("responsible"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owner_contact = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("responsible (customer side)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.text


def attachment_path(instance: Attachment, filename: str) -> str:
    """Files are filed by the product clock's month (imports and tests move that clock)."""
    from salescope.core import clock

    return clock.now().strftime("attachments/%Y/%m/") + filename


def _attached_to_something() -> models.Q:
    return models.Q(account__isnull=False) | models.Q(opportunity__isnull=False)


class Comment(models.Model):
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="comments",
    )
    author = models.ForeignKey(
        "org.User", verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=_attached_to_something(), name="comment_has_target")
        ]

    def __str__(self) -> str:
        return self.body[:60]


class Attachment(models.Model):
    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        "org.User", verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-uploaded_at"]
        constraints = [
            models.CheckConstraint(condition=_attached_to_something(), name="attachment_has_target")
        ]

    def __str__(self) -> str:
        return self.filename

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Role


class User(AbstractUser):
    """A person who logs in. Residents' personal information lives in the residents app,
    not here: an account holds only what logging in and addressing the person need."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def display_name(self) -> str:
        full = f"{self.last_name}{self.first_name}".strip()
        return full or self.username


class RoleAssignment(models.Model):
    """A role held over a region subtree, or, for provider staff, an organization.

    The region is the top of what the role reaches: a community worker holds
    their role over one community, a street official over one street. Provider
    staff are held over their organization and reach where it works: its own
    region and its facilities' communities. Only a system administrator may
    hold a role with neither, which reaches everything.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
    )
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
        help_text=_("Provider staff are held over their organization instead of a region."),
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["user_id", "role", "region_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "region", "organization"], name="role_assignment_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(region__isnull=False)
                | models.Q(role=Role.SYSTEM_ADMIN)
                | models.Q(role=Role.PROVIDER_STAFF, organization__isnull=False),
                name="role_assignment_region_required",
            ),
            models.CheckConstraint(
                condition=models.Q(organization__isnull=True) | models.Q(role=Role.PROVIDER_STAFF),
                name="role_assignment_organization_only_for_provider_staff",
            ),
        ]

    def __str__(self) -> str:
        if self.organization_id:
            where = str(self.organization)
        else:
            where = self.region.display_name if self.region else str(_("everywhere"))
        return f"{self.get_role_display()} @ {where}"

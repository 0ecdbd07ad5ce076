from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli.core.errors import ValidationFailed
from linli.directory.models import Organization
from linli.regions.choices import RegionLevel
from linli.regions.models import Region

from .choices import Role
from .models import RoleAssignment, User
from .roles import EDITOR_ROLES, role_guide


def user_create(
    *, username: str, password: str, first_name: str = "", last_name: str = "", email: str = ""
) -> User:
    """Create an account; the password must pass the deployment's validators."""
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(fields={"username": [_("This username is taken.")]})
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationFailed(fields={"password": list(error.messages)}) from error
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def role_grant(
    *,
    user: User,
    role: str,
    region: Region | None,
    organization: Organization | None = None,
    granted_by: User | None = None,
) -> RoleAssignment:
    """Give `user` a role over `region`'s subtree, or, for provider staff, over an organization.

    A system administrator may hold the role over nothing, which reaches everything.
    """
    if role not in Role.values:
        raise ValidationFailed(fields={"role": [_("Unknown role %(role)s.") % {"role": role}]})
    if organization is not None and role != Role.PROVIDER_STAFF:
        raise ValidationFailed(
            fields={"organization": [_("Only provider staff are held over an organization.")]}
        )
    if region is None and organization is None and role != Role.SYSTEM_ADMIN:
        raise ValidationFailed(fields={"region": [_("This role is held over a region.")]})
    level = role_guide(role).level
    if region is not None and level is not None and region.level != level:
        raise ValidationFailed(
            fields={
                "region": [
                    _("A %(role)s holds a region of level “%(level)s”.")
                    % {"role": Role(role).label, "level": RegionLevel(level).label}
                ]
            }
        )
    assignment, _created = RoleAssignment.objects.get_or_create(
        user=user,
        role=role,
        region=region,
        organization=organization,
        defaults={"granted_by": granted_by},
    )
    if role in EDITOR_ROLES and not user.is_staff:
        # Editors keep their area's records in the admin, which asks for staff status.
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return assignment

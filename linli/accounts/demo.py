"""One demo account per role, `demo_<role>` with the password `linli-demo`.

Each is scoped as such a person would be: the community worker to one
community, the street official to its street, and so on up to the city.
The password is checked by the deployment's validators like any other, so
production settings refuse to create these accounts.
"""

from __future__ import annotations

from django.db.models import Count

from linli.core.registry import DemoContext, demo_step
from linli.directory.choices import OrganizationKind
from linli.directory.models import Organization
from linli.regions.choices import RegionKind
from linli.regions.demo import CITY, DISTRICT
from linli.regions.models import Region

from .choices import Role
from .models import RoleAssignment
from .services import role_grant, user_create

DEMO_PASSWORD = "linli-demo"  # noqa: S105 - documented demo credential, demo data only

# (family name, given name) of each demo person: common names, nobody in particular.
_PEOPLE = {
    Role.RESIDENT: ("王", "秀英"),
    Role.VOLUNTEER: ("李", "志强"),
    Role.SOCIAL_WORKER: ("张", "丽"),
    Role.PROVIDER_STAFF: ("刘", "伟"),
    Role.COMMUNITY_WORKER: ("陈", "静"),
    Role.STREET_OFFICIAL: ("杨", "军"),
    Role.DISTRICT_OFFICIAL: ("赵", "敏"),
    Role.CITY_OFFICIAL: ("黄", "勇"),
    Role.AUDITOR: ("周", "洁"),
    Role.SYSTEM_ADMIN: ("吴", "涛"),
}


def demo_username(role: str) -> str:
    return f"demo_{role}"


def _demo_provider() -> Organization:
    """The enterprise that runs the most demo facilities: where provider staff work."""
    provider = (
        Organization.objects.filter(kind=OrganizationKind.ENTERPRISE, locations__isnull=False)
        .annotate(facilities=Count("locations"))
        .order_by("-facilities", "name")
        .first()
    )
    if provider is None:
        raise RuntimeError("The demo directory must be built before the demo accounts.")
    return provider


def _demo_scopes() -> dict[str, Region | None]:
    community = (
        Region.objects.filter(code__startswith=DISTRICT[:6], kind=RegionKind.URBAN)
        .order_by("code")
        .first()
    )
    if community is None:
        raise RuntimeError("The demo regions must be built before the demo accounts.")
    street = community.parent
    district = Region.objects.get(code=DISTRICT)
    city = Region.objects.get(code=CITY)
    return {
        Role.RESIDENT: community,
        Role.VOLUNTEER: community,
        Role.SOCIAL_WORKER: street,
        Role.PROVIDER_STAFF: None,  # held over an organization instead
        Role.COMMUNITY_WORKER: community,
        Role.STREET_OFFICIAL: street,
        Role.DISTRICT_OFFICIAL: district,
        Role.CITY_OFFICIAL: city,
        Role.AUDITOR: district,
        Role.SYSTEM_ADMIN: None,
    }


# After the directory: provider staff are held over one of its organizations.
@demo_step(name="accounts", order=40)
def build_demo_accounts(context: DemoContext) -> None:
    """One account per role, scoped sensibly."""
    scopes = _demo_scopes()
    for role in Role:
        last_name, first_name = _PEOPLE[role]
        user = user_create(
            username=demo_username(role),
            password=DEMO_PASSWORD,
            first_name=first_name,
            last_name=last_name,
        )
        if role == Role.SYSTEM_ADMIN:
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        organization = _demo_provider() if role == Role.PROVIDER_STAFF else None
        role_grant(user=user, role=role, region=scopes[role], organization=organization)
    context.echo(f"  {len(Role)} demo accounts")


def demo_accounts() -> list[RoleAssignment]:
    """The demo accounts' role assignments, for printing after a build."""
    return list(
        RoleAssignment.objects.filter(user__username__startswith="demo_")
        .select_related("user", "region", "organization")
        .order_by("user__username")
    )

"""The register workbook's layout: one sheet of residents, one column per field.

Headers are English msgids translated into the headers of the registers
community workers already keep (姓名, 公民身份号码, …). Those Chinese headers,
and the variants registers commonly use (身份证号, 手机号, …), are also written
out here as aliases, so an existing register imports whatever the catalogue
says and whichever language the user reads; the directory's header rules
(either language, spaces, asterisks, full-width brackets) apply to all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.directory.spreadsheets.columns import Column, SheetLayout, header_index, normalise_header


@dataclass(frozen=True)
class RegisterColumn(Column):
    # Headers of existing registers, recognised in any language; the first is the usual one.
    aliases: tuple[str, ...] = ()


REGISTER = SheetLayout(
    "residents",
    _("Residents"),
    (
        RegisterColumn(
            "name",
            pgettext_lazy("register column", "Name"),
            _("The name as on the identity card."),
            required=True,
            width=12,
            aliases=("姓名",),
        ),
        RegisterColumn(
            "identity_number",
            pgettext_lazy("register column", "Identity number"),
            _(
                "18 characters, the last a digit or X; birth date and sex are read from it. "
                "Each person only once."
            ),
            width=22,
            text=True,
            aliases=("公民身份号码", "身份证号", "身份证号码", "身份证", "证件号码"),
        ),
        RegisterColumn(
            "sex",
            pgettext_lazy("register column", "Sex"),
            _("Needed only without an identity number."),
            width=8,
            aliases=("性别",),
        ),
        RegisterColumn(
            "birth_date",
            pgettext_lazy("register column", "Birth date"),
            _("A date, e.g. 1950-03-21; needed only without an identity number."),
            width=12,
            aliases=("出生日期", "出生年月日", "生日"),
        ),
        RegisterColumn(
            "phone",
            pgettext_lazy("register column", "Phone"),
            _("A mainland mobile number, 11 digits."),
            width=14,
            text=True,
            aliases=("联系电话", "手机号", "手机号码", "手机", "电话"),
        ),
        RegisterColumn(
            "community",
            pgettext_lazy("register column", "Community or village"),
            _(
                "Pick one from the list, or write its 12-digit code or its exact name. "
                "May stay empty if you keep a single community."
            ),
            width=30,
            text=True,
            aliases=("社区/村", "社区（村）", "社区或村", "所属社区", "社区", "村"),
        ),
        RegisterColumn(
            "household",
            pgettext_lazy("register column", "Household"),
            _(
                "The household's address. Rows with the same community and household address "
                "are one household; an existing household at that address is reused."
            ),
            width=24,
            aliases=("户", "户地址", "家庭地址", "户址"),
        ),
        RegisterColumn(
            "address",
            pgettext_lazy("register column", "Address"),
            _("Where the person lives; the household's address when empty."),
            width=24,
            aliases=("住址", "居住地址", "现住址", "地址"),
        ),
        RegisterColumn(
            "living_alone",
            pgettext_lazy("register column", "Living alone"),
            _("Yes or no; empty means no."),
            width=8,
            aliases=("独居", "是否独居"),
        ),
        RegisterColumn(
            "left_behind",
            pgettext_lazy("register column", "Left behind"),
            _("Yes or no, for a left-behind elder or child of a village; empty means no."),
            width=8,
            aliases=("留守", "是否留守"),
        ),
        RegisterColumn(
            "disability_category",
            pgettext_lazy("register column", "Disability category"),
            _("As on the disability certificate; pick one from the list."),
            width=12,
            aliases=("残疾类别", "残疾类型"),
        ),
        RegisterColumn(
            "disability_grade",
            pgettext_lazy("register column", "Disability grade"),
            _("1, 2, 3 or 4, with the category."),
            width=10,
            aliases=("残疾等级", "残疾级别"),
        ),
        RegisterColumn(
            "difficulty",
            pgettext_lazy("register column", "Family in difficulty"),
            _("The family's assistance status, if any; pick one from the list."),
            width=18,
            aliases=("困难类别", "困难类型", "救助类别"),
        ),
        RegisterColumn(
            "health_notes",
            pgettext_lazy("register column", "Health needs"),
            _(
                "Free text. For a child under 14, only after a guardian's consent is "
                "recorded: leave it empty here."
            ),
            width=30,
            aliases=("健康需求", "健康状况", "健康情况"),
        ),
    ),
)

# Columns registers often carry that Linli does not keep: skipped without a warning.
IGNORED_HEADERS = frozenset(normalise_header(h) for h in ("序号", "编号", "No.", "#"))


def register_header_index() -> dict[str, str]:
    """Normalised header (either language, an alias, or the key) → column key."""
    index = header_index(REGISTER)
    for column in REGISTER.columns:
        for alias in getattr(column, "aliases", ()):
            index.setdefault(normalise_header(alias), column.key)
    return index

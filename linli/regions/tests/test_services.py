import io

import pytest

from linli.core.errors import ImportRejected
from linli.regions.models import Region
from linli.regions.services import region_export_csv, region_import_csv

HEADER = "code,name,name_en,level,kind,population,households,lat,lon\n"
GOOD = (
    HEADER
    + "990000000000,示范省,Demo Province,province,,,,,\n"
    + "990100000000,示范市,Demo City,city,,,,,\n"
    + "990102000000,邻里区,Linli District,county,,300000,110000,30.6,114.1\n"
    + "990102001000,东湖街道,Donghu Subdistrict,street,,,,,\n"
    + "990102001001,东湖社区,Donghu Community,community,urban,3500,1300,30.61,114.12\n"
    + "990102001201,新桥村,Xinqiao Village,community,rural,900,280,30.62,114.13\n"
)

pytestmark = pytest.mark.django_db


def import_text(text: str):
    return region_import_csv(stream=io.StringIO(text))


def test_import_creates_the_tree_with_parents_from_codes():
    report = import_text(GOOD)
    assert (report.created, report.updated) == (6, 0)
    village = Region.objects.get(code="990102001201")
    assert village.parent_id == "990102001000"
    assert (village.level, village.kind, village.population, village.households) == (
        "community",
        "rural",
        900,
        280,
    )
    assert village.lat == pytest.approx(30.62)


def test_rows_may_come_before_their_parents():
    lines = GOOD.splitlines(keepends=True)
    import_text(lines[0] + "".join(reversed(lines[1:])))
    assert Region.objects.count() == 6


def test_import_again_updates_in_place():
    import_text(GOOD)
    report = import_text(GOOD.replace("3500,1300", "3600,1350"))
    assert (report.created, report.updated) == (0, 6)
    assert Region.objects.get(code="990102001001").population == 3600


def test_parent_may_already_be_in_the_database():
    import_text(GOOD)
    report = import_text(HEADER + "990102001002,西湖社区,,community,urban,100,40,,\n")
    assert report.created == 1


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("99010200100,短,,community,urban,,,,", "code", "exactly 12 digits"),
        ("990102009001,孤儿社区,,community,urban,,,,", "code", "990102009000 is neither"),
        (
            "990102001003,错级,,street,,,,,",
            "level",
            "is of level “Community / village”, not “Street / township”",
        ),
        ("990102001003,未知级,,hamlet,,,,,", "level", "Unknown level"),
        ("990102001003,,,community,urban,,,,", "name", "A name is required"),
        ("990102001003,无类,,community,,,,,", "kind", "urban / rural"),
        ("990102002000,有类街道,,street,urban,,,,", "kind", "Only communities and villages"),
        ("990102001003,人口,,community,urban,many,,,", "population", "Not a whole number"),
        ("990102001003,户数,,community,urban,,-5,,", "households", "Cannot be negative"),
        ("990102001003,纬度,,community,urban,,,91,", "lat", "between -90 and 90"),
        ("990102001003,经度,,community,urban,,,,abc", "lon", "Not a number"),
    ],
)
def test_a_bad_row_is_refused_with_row_field_and_reason_and_nothing_is_written(row, field, reason):
    with pytest.raises(ImportRejected) as refused:
        import_text(GOOD + row + "\n")
    problems = refused.value.rows
    assert [(p.row, p.field) for p in problems] == [(8, field)]
    assert reason in problems[0].message
    assert Region.objects.count() == 0


def test_every_bad_row_is_reported_at_once():
    bad = GOOD + "990102001003,,,community,urban,,,,\n" + "990102001001,重复,,community,urban,,,,\n"
    with pytest.raises(ImportRejected) as refused:
        import_text(bad)
    assert [(p.row, p.field) for p in refused.value.rows] == [(8, "name"), (9, "code")]
    assert "Repeats row 6" in refused.value.rows[1].message


def test_missing_columns_are_named():
    with pytest.raises(ImportRejected) as refused:
        import_text("code,name\n990000000000,示范省\n")
    assert {p.field for p in refused.value.rows} == {
        "name_en",
        "level",
        "kind",
        "population",
        "households",
        "lat",
        "lon",
    }


def test_export_writes_what_import_reads():
    import_text(GOOD)
    out = io.StringIO()
    count = region_export_csv(stream=out, regions=Region.objects.order_by("code"))
    assert count == 6
    for region in Region.objects.order_by("-code"):  # children sort after their parents
        region.delete()
    import_text(out.getvalue())
    assert Region.objects.count() == 6
    assert Region.objects.get(code="990102001201").name_en == "Xinqiao Village"

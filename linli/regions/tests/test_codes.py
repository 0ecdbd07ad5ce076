import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.regions import codes
from linli.regions.choices import RegionLevel


@pytest.mark.parametrize(
    ("code", "level", "prefix", "parent"),
    [
        ("990000000000", RegionLevel.PROVINCE, "99", None),
        ("990100000000", RegionLevel.CITY, "9901", "990000000000"),
        ("990102000000", RegionLevel.COUNTY, "990102", "990100000000"),
        ("990102001000", RegionLevel.STREET, "990102001", "990102000000"),
        ("990102001201", RegionLevel.COMMUNITY, "990102001201", "990102001000"),
    ],
)
def test_code_gives_level_prefix_and_parent(code, level, prefix, parent):
    assert codes.level_of(code) == level
    assert codes.prefix_of(code) == prefix
    assert codes.parent_of(code) == parent


def test_ancestors_run_from_the_parent_up_to_the_province():
    assert codes.ancestors_of("990102001201") == [
        "990102001000",
        "990102000000",
        "990100000000",
        "990000000000",
    ]
    assert codes.ancestors_of("990000000000") == []


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("99010200100", "exactly 12 digits"),
        ("9901020010011", "exactly 12 digits"),
        ("99010200100a", "exactly 12 digits"),
        ("000000000000", "cannot be 00"),
        ("990001000000", "zero part followed by a non-zero part"),
        ("990100000001", "zero part followed by a non-zero part"),
    ],
)
def test_malformed_codes_are_refused_with_the_reason(code, reason):
    with pytest.raises(codes.MalformedCode, match=reason):
        codes.level_of(code)
    assert not codes.is_valid(code)


@given(
    st.lists(st.integers(min_value=1, max_value=99), min_size=1, max_size=5).map(
        lambda parts: "".join(
            f"{part:0{width}d}" for part, width in zip(parts, (2, 2, 2, 3, 3), strict=False)
        ).ljust(12, "0")
    )
)
def test_every_region_lies_under_its_parent(code):
    parent = codes.parent_of(code)
    if parent is not None:
        assert code.startswith(codes.prefix_of(parent))
        assert codes.LEVELS_BY_DEPTH.index(codes.level_of(parent)) + 1 == (
            codes.LEVELS_BY_DEPTH.index(codes.level_of(code))
        )

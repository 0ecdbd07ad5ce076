"""The demo district: a fictional county under province code 99, laid out on a map.

Streets (街道) hold urban communities; towns and townships (镇, 乡) hold
villages and a town-seat community or two. Each street or town is a
rectangle tiled by its communities, so every region has a centroid and a
boundary that nest. Populations are drawn, then scaled so the district totals
about 300,000 people, as a real county-level district might.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from linli.core.registry import DemoContext, demo_step

from .choices import RegionKind, RegionLevel
from .models import Region

PROVINCE = "990000000000"
CITY = "990100000000"
DISTRICT = "990102000000"
# A place on no real map would be better; this one is only a lat/lon origin.
ORIGIN_LAT, ORIGIN_LON = 30.52, 114.05
TARGET_POPULATION = {"county": 300_000, "small": 30_000}

# Name stems: a direction or quality, then a landscape word; each with its pinyin.
_FIRST = [
    ("东", "Dong"),
    ("西", "Xi"),
    ("南", "Nan"),
    ("北", "Bei"),
    ("新", "Xin"),
    ("上", "Shang"),
    ("下", "Xia"),
    ("前", "Qian"),
    ("后", "Hou"),
    ("大", "Da"),
    ("小", "Xiao"),
    ("青", "Qing"),
    ("白", "Bai"),
    ("金", "Jin"),
    ("石", "Shi"),
    ("柳", "Liu"),
    ("桂", "Gui"),
    ("杏", "Xing"),
    ("松", "Song"),
    ("梅", "Mei"),
    ("兴", "Xing"),
    ("和", "He"),
    ("安", "An"),
    ("福", "Fu"),
]
_SECOND = [
    ("湖", "hu"),
    ("桥", "qiao"),
    ("园", "yuan"),
    ("庄", "zhuang"),
    ("河", "he"),
    ("山", "shan"),
    ("林", "lin"),
    ("塘", "tang"),
    ("湾", "wan"),
    ("坪", "ping"),
    ("港", "gang"),
    ("溪", "xi"),
    ("岭", "ling"),
    ("冲", "chong"),
    ("坝", "ba"),
    ("苑", "yuan"),
    ("门", "men"),
    ("田", "tian"),
]


@dataclass(frozen=True)
class Box:
    """A rectangle in kilometres east and north of the district's south-west corner."""

    x: float
    y: float
    w: float
    h: float

    def tile(self, n: int) -> list[Box]:
        """Cut into n cells, row by row, every row filled edge to edge."""
        rows = max(1, round(math.sqrt(n * self.h / self.w)))
        rows = min(rows, n)
        per_row = [n // rows + (1 if r < n % rows else 0) for r in range(rows)]
        cells = []
        row_h = self.h / rows
        for r, count in enumerate(per_row):
            cell_w = self.w / count
            cells += [
                Box(self.x + c * cell_w, self.y + r * row_h, cell_w, row_h) for c in range(count)
            ]
        return cells


def _to_lat_lon(x_km: float, y_km: float) -> tuple[float, float]:
    lat = ORIGIN_LAT + y_km / 111.32
    lon = ORIGIN_LON + x_km / (111.32 * math.cos(math.radians(ORIGIN_LAT)))
    return round(lat, 6), round(lon, 6)


def _polygon(box: Box) -> dict:
    corners = [
        (box.x, box.y),
        (box.x + box.w, box.y),
        (box.x + box.w, box.y + box.h),
        (box.x, box.y + box.h),
    ]
    ring = [[lon, lat] for lat, lon in (_to_lat_lon(x, y) for x, y in corners)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


class _Names:
    """Unique two-character names with pinyin, drawn without repetition."""

    def __init__(self, rng: random.Random):
        self.pool = [(a + b, pa + pb) for a, pa in _FIRST for b, pb in _SECOND]
        rng.shuffle(self.pool)

    def take(self) -> tuple[str, str]:
        return self.pool.pop()


@dataclass(frozen=True)
class _Unit:
    """A street or a town of the plan: how many urban communities and villages it has."""

    suffix: str
    suffix_en: str
    number: int
    communities: int
    villages: int
    box: Box


def _plan(scale: str, rng: random.Random) -> list[_Unit]:
    """Five streets in a central band, towns and townships above and below it."""
    if scale == "small":
        return [
            _Unit("街道", "Subdistrict", 1, 4, 0, Box(0, 6, 3, 3)),
            _Unit("街道", "Subdistrict", 2, 3, 0, Box(3, 6, 3, 3)),
            _Unit("镇", "Town", 101, 1, 6, Box(0, 0, 6, 6)),
        ]
    units = [
        _Unit("街道", "Subdistrict", n, rng.randint(11, 15), 0, Box((n - 1) * 2.4, 8, 2.4, 3))
        for n in range(1, 6)
    ]
    units += [
        _Unit(
            "镇",
            "Town",
            100 + n,
            rng.randint(1, 2),
            rng.randint(16, 20),
            Box((n - 1) * 4, 11, 4, 8),
        )
        for n in range(1, 4)
    ]
    units += [
        _Unit("乡", "Township", 200 + n, 0, rng.randint(16, 20), Box((n - 1) * 6, 0, 6, 8))
        for n in range(1, 3)
    ]
    return units


def _region(
    code: str, parent: str | None, name: str, name_en: str, level: str, box: Box, kind: str = ""
) -> Region:
    lat, lon = _to_lat_lon(box.x + box.w / 2, box.y + box.h / 2)
    return Region(
        code=code,
        parent_id=parent,
        name=name,
        name_en=name_en,
        level=level,
        kind=kind,
        lat=lat,
        lon=lon,
        boundary=_polygon(box),
    )


def _draw_population(kind: str, rng: random.Random) -> int:
    if kind == RegionKind.URBAN:
        return int(min(max(rng.gauss(3600, 900), 1500), 7000))
    return int(min(max(rng.gauss(900, 300), 300), 2000))


@demo_step(name="regions", order=10)
def build_demo_regions(context: DemoContext) -> None:
    """The district's streets, towns, urban communities and villages."""
    rng = context.rng
    names = _Names(rng)
    units = _plan(context.scale, rng)
    district_box = Box(
        0, 0, max(u.box.x + u.box.w for u in units), max(u.box.y + u.box.h for u in units)
    )
    regions = [
        _region(PROVINCE, None, "示范省", "Demo Province", RegionLevel.PROVINCE, district_box),
        _region(CITY, PROVINCE, "示范市", "Demo City", RegionLevel.CITY, district_box),
        _region(DISTRICT, CITY, "邻里区", "Linli District", RegionLevel.COUNTY, district_box),
    ]
    lowest: list[Region] = []
    with context.progress(units, label="regions") as bar:
        for unit in bar:
            name, pinyin = names.take()
            street_code = f"{DISTRICT[:6]}{unit.number:03d}000"
            regions.append(
                _region(
                    street_code,
                    DISTRICT,
                    name + unit.suffix,
                    f"{pinyin} {unit.suffix_en}",
                    RegionLevel.STREET,
                    unit.box,
                )
            )
            kinds = [RegionKind.URBAN] * unit.communities + [RegionKind.RURAL] * unit.villages
            for index, (kind, cell) in enumerate(
                zip(kinds, unit.box.tile(len(kinds)), strict=True)
            ):
                # Residents' committees are numbered 001-199, villagers' committees 200-399.
                number = (
                    index + 1 if kind == RegionKind.URBAN else 200 + index - unit.communities + 1
                )
                stem, stem_pinyin = names.take()
                suffix, suffix_en = (
                    ("社区", "Community") if kind == RegionKind.URBAN else ("村", "Village")
                )
                region = _region(
                    street_code[:9] + f"{number:03d}",
                    street_code,
                    stem + suffix,
                    f"{stem_pinyin} {suffix_en}",
                    RegionLevel.COMMUNITY,
                    cell,
                    kind,
                )
                region.population = _draw_population(kind, rng)
                lowest.append(region)
    _scale_population(lowest, TARGET_POPULATION[context.scale], rng)
    regions += lowest
    _roll_up(regions)
    Region.objects.bulk_create(regions, batch_size=500)
    context.echo(f"  {len(regions)} regions, population {sum(r.population or 0 for r in lowest):,}")


def _scale_population(lowest: list[Region], target: int, rng: random.Random) -> None:
    factor = target / sum(r.population or 0 for r in lowest)
    for region in lowest:
        region.population = round((region.population or 0) * factor)
        per_household = (
            rng.uniform(2.4, 2.9) if region.kind == RegionKind.URBAN else rng.uniform(2.9, 3.6)
        )
        region.households = round(region.population / per_household)


def _roll_up(regions: list[Region]) -> None:
    """A higher region's population and households are the sums of its communities'."""
    by_code = {r.code: r for r in regions}
    for region in regions:
        if region.level != RegionLevel.COMMUNITY:
            region.population = region.households = 0
    for region in regions:
        if region.level != RegionLevel.COMMUNITY:
            continue
        parent = by_code.get(region.parent_id or "")
        while parent is not None:
            parent.population = (parent.population or 0) + (region.population or 0)
            parent.households = (parent.households or 0) + (region.households or 0)
            parent = by_code.get(parent.parent_id or "")

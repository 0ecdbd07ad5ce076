"""Reading an OpenStreetMap extract (.osm.pbf, or .osm XML) into a walking :class:`Network`.

One pass with pyosmium collects the walkable ways with their node locations; the rest is
numpy: a node becomes a graph node where a way ends or where ways share it, and each way
is cut at those nodes into edges whose length is the sum of its haversine segments.
"""

from __future__ import annotations

import os
from array import array
from pathlib import Path

import numpy as np
import osmium

from .network import Network, NetworkError, haversine_m

# Ways people walk on. Motorways and trunk roads are left out (no pavement, often no
# pedestrian access by law in China); cycleways are in because Chinese cities' non-motorised
# lanes are shared with pedestrians, and construction/proposed roads are out as not yet there.
WALKABLE_HIGHWAYS = frozenset(
    {
        "footway",
        "path",
        "pedestrian",
        "steps",
        "living_street",
        "residential",
        "service",
        "unclassified",
        "road",
        "track",
        "cycleway",
        "corridor",
        "tertiary",
        "tertiary_link",
        "secondary",
        "secondary_link",
        "primary",
        "primary_link",
    }
)
_FOOT_NO = frozenset({"no", "private", "use_sidepath"})
_ACCESS_NO = frozenset({"no", "private"})
_FOOT_YES = frozenset({"yes", "designated", "permissive"})


def is_walkable(tags: osmium.osm.TagList) -> bool:
    """Whether a way with these tags is one a resident may walk along."""
    highway = tags.get("highway")
    if highway is None:
        return False
    foot = tags.get("foot")
    if foot in _FOOT_NO:
        return False
    if foot in _FOOT_YES:
        # An explicit foot=yes opens even a trunk road's sidewalk or a private estate path.
        return highway not in ("motorway", "motorway_link", "construction", "proposed")
    if tags.get("access") in _ACCESS_NO:
        return False
    return highway in WALKABLE_HIGHWAYS


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise NetworkError(f"{path}: no such file")
    with path.open("rb") as fh:
        head = fh.read(64)
    name = path.name.lower()
    if name.endswith(".pbf"):
        # A PBF file starts with a 4-byte header length and a BlobHeader whose type string is
        # "OSMHeader"; libosmium would otherwise fail deep inside with a zlib or protobuf error.
        if len(head) < 8 or b"OSMHeader" not in head[:32]:
            raise NetworkError(f"{path}: not an OpenStreetMap PBF file (no OSMHeader block)")
    elif name.endswith(".osm"):
        if b"<osm" not in head and not head.lstrip().startswith(b"<?xml"):
            raise NetworkError(f"{path}: not an OpenStreetMap XML file")
    else:
        raise NetworkError(f"{path}: expected a .osm.pbf (or .osm) file")


def from_osm(path: str | os.PathLike[str]) -> Network:
    """The walking network of an OSM extract. Raises NetworkError for anything unusable."""
    p = Path(path)
    _check_file(p)
    refs = array("q")
    lons = array("d")
    lats = array("d")
    way_of = array("q")  # which collected way each position belongs to
    n_ways = 0
    try:
        processor = (
            osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in processor:
            if not isinstance(way, osmium.osm.Way) or not is_walkable(way.tags):
                continue
            w_refs: list[int] = []
            w_lon: list[float] = []
            w_lat: list[float] = []
            for nd in way.nodes:
                loc = nd.location
                if not loc.valid():
                    # Extracts cut at a boundary keep ways whose far nodes are missing: keep
                    # the part inside by dropping the unknown nodes.
                    continue
                w_refs.append(nd.ref)
                w_lon.append(loc.lon)
                w_lat.append(loc.lat)
            if len(w_refs) < 2:
                continue
            refs.extend(w_refs)
            lons.extend(w_lon)
            lats.extend(w_lat)
            way_of.extend([n_ways] * len(w_refs))
            n_ways += 1
    except RuntimeError as exc:
        raise NetworkError(f"{p}: cannot be read as OpenStreetMap data ({exc})") from exc
    if n_ways == 0:
        raise NetworkError(f"{p}: no walkable ways in the file")
    return _build(
        np.frombuffer(refs, dtype=np.int64),
        np.frombuffer(lons, dtype=np.float64),
        np.frombuffer(lats, dtype=np.float64),
        np.frombuffer(way_of, dtype=np.int64),
    )


def _build(refs: np.ndarray, lon: np.ndarray, lat: np.ndarray, way: np.ndarray) -> Network:
    m = refs.size
    same_way = way[1:] == way[:-1]
    seg = np.where(same_way, haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:]), 0.0)
    cum = np.concatenate([[0.0], np.cumsum(seg)])

    first = np.ones(m, dtype=bool)
    first[1:] = ~same_way
    last = np.ones(m, dtype=bool)
    last[:-1] = ~same_way
    _, inverse, counts = np.unique(refs, return_inverse=True, return_counts=True)
    # A node is a graph node if it ends a way or is used more than once (shared by two ways,
    # or visited twice by one way, as a loop closing on itself).
    is_node = first | last | (counts[inverse] > 1)

    pos = np.flatnonzero(is_node)
    a, b = pos[:-1], pos[1:]
    along = way[a] == way[b]
    a, b = a[along], b[along]
    length = cum[b] - cum[a]

    graph_refs, node_of = np.unique(refs[pos], return_inverse=True)
    slot = np.empty(m, dtype=np.int64)
    slot[pos] = node_of
    first_pos = np.zeros(graph_refs.size, dtype=np.int64)
    first_pos[node_of[::-1]] = pos[::-1]  # any occurrence will do: same node, same location
    return Network.from_edges(
        lon=lon[first_pos],
        lat=lat[first_pos],
        edge_from=slot[a],
        edge_to=slot[b],
        edge_length=length,
        node_ids=graph_refs,
    )

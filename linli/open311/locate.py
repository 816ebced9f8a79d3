"""Where a partner's service request goes: a household, or a community found from the location.

A POST locates the request by `address_id` (a household the key's scope contains), by `lat` +
`long`, or by `address_string`. The community is the household's; else the key's own community;
else the community whose grid boundary (GeoJSON, WGS84) contains the point; else the only
community in the key's scope. Anything else is a 400 that says what to send instead.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from linli.open311.models import PartnerKey
from linli.orgs.models import Community, Grid, Household

MAX_ADDRESS = 200
_SIX_PLACES = Decimal("0.000001")


class LocationError(ValueError):
    """The request's location is missing, malformed or outside the key's scope (a 400)."""


@dataclass(frozen=True)
class Location:
    community: Community
    household: Household | None
    address: str
    lat: Decimal | None
    long: Decimal | None


def _coordinate(value: str, name: str, limit: int) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise LocationError(f"{name} 应为数字（WGS84 坐标）") from None
    if not number.is_finite() or not -limit <= number <= limit:
        raise LocationError(f"{name} 超出范围（-{limit} 到 {limit}）")
    return number.quantize(_SIX_PLACES, rounding=ROUND_HALF_UP)


def _in_ring(x: float, y: float, ring) -> bool:
    """Ray casting: whether (x, y) lies inside the closed ring of [x, y] points."""
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i][0], ring[i][1]
        x2, y2 = ring[i - 1][0], ring[i - 1][1]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _in_polygon(x: float, y: float, rings) -> bool:
    return bool(rings) and _in_ring(x, y, rings[0]) and not any(_in_ring(x, y, hole) for hole in rings[1:])


def contains(geometry, lat: float, long: float) -> bool:
    """Whether a GeoJSON Polygon, MultiPolygon or Feature (GeoJSON order: [long, lat]) holds the point."""
    if not isinstance(geometry, dict):
        return False
    if geometry.get("type") == "Feature":
        return contains(geometry.get("geometry"), lat, long)
    try:
        if geometry.get("type") == "Polygon":
            return _in_polygon(long, lat, geometry["coordinates"])
        if geometry.get("type") == "MultiPolygon":
            return any(_in_polygon(long, lat, polygon) for polygon in geometry["coordinates"])
    except (KeyError, IndexError, TypeError, ZeroDivisionError):
        return False  # a malformed boundary drawn by hand locates nothing
    return False


def community_at(communities, lat: Decimal, long: Decimal) -> Community | None:
    """The community of the first grid (by code) whose boundary contains the point."""
    grids = Grid.objects.filter(community__in=communities, boundary__isnull=False).select_related("community")
    for grid in grids.order_by("code"):
        if contains(grid.boundary, float(lat), float(long)):
            return grid.community
    return None


def locate(key: PartnerKey, data) -> Location:
    """The Location of a POST's arguments within the key's scope; LocationError says what is wrong."""
    address_ref = (data.get("address_id") or "").strip()
    address = (data.get("address_string") or "").strip()
    raw_lat, raw_long = (data.get("lat") or "").strip(), (data.get("long") or "").strip()
    if bool(raw_lat) != bool(raw_long):
        raise LocationError("lat 与 long 须同时提供")
    if not (address_ref or address or raw_lat):
        raise LocationError("缺少位置：请提供 lat 和 long、address_string 或 address_id 之一")
    if len(address) > MAX_ADDRESS:
        raise LocationError(f"address_string 不能超过{MAX_ADDRESS}字")
    lat = _coordinate(raw_lat, "lat", 90) if raw_lat else None
    long = _coordinate(raw_long, "long", 180) if raw_long else None
    if address_ref:
        household = None
        if address_ref.isdigit():
            household = key.households().select_related("building__grid__community").filter(pk=address_ref).first()
        if household is None:
            raise LocationError("address_id 无效，或不在本密钥可提交的范围内")
        # The household's own address is the precise one; an address_string beside it adds nothing.
        return Location(household.building.grid.community, household, "", lat, long)
    communities = key.communities()
    community = key.community
    if community is None and lat is not None:
        community = community_at(communities, lat, long)
    if community is None:
        only = list(communities.order_by("pk")[:2])
        community = only[0] if len(only) == 1 else None
    if community is None:
        raise LocationError(
            "无法确定诉求所在社区：坐标不在任何网格边界内。请提供 address_id（户编号），或使用限定社区的接入密钥"
        )
    return Location(community, None, address, lat, long)

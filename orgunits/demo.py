"""Demo org tree: a fictional district with the street of seed 000 (新城街道) and, for big sizes, more streets."""

from __future__ import annotations

import datetime as dt

from core.demo import DemoContext, demo_step, split_quota
from orgunits.models import Level, OrgUnit
from orgunits.services import create_unit

DISTRICT_CODE = "150599"
STREET_NAMES = [
    "新城街道",
    "东山街道",
    "西河街道",
    "南湖街道",
    "北苑街道",
    "朝阳街道",
    "永安街道",
    "和平街道",
    "建设街道",
    "团结街道",
    "兴隆街道",
    "振兴街道",
]
COMMUNITY_NAMES = [
    "龙兴社区",
    "泰丰社区",
    "辽河社区",
    "金都新城社区",
    "明仁社区",
    "永兴社区",
    "和谐社区",
    "民主社区",
    "胜利社区",
    "光明社区",
    "幸福社区",
]
GRIDS_PER_COMMUNITY = 8
AVERAGE_BUILDING_CAPACITY = 60
ESTABLISHED = dt.date(2010, 1, 1)


@demo_step("orgunits", order=10)
def build_tree(ctx: DemoContext) -> None:
    """The district, its streets (one per seed-000 street worth of people), communities, grids, buildings.

    Household places (sum of building capacity) are a quota: exact at any size.
    """
    streets_count = max(1, round(ctx.factor))
    communities_per_street = 11 if streets_count > 1 else max(2, min(11, ctx.scaled("communities")))
    capacity_total = ctx.scaled("capacity")
    n_buildings = max(streets_count * communities_per_street * 2, round(capacity_total / AVERAGE_BUILDING_CAPACITY))
    # Buildings differ in size; the capacities still add up to the quota exactly.
    capacities = split_quota(capacity_total, [ctx.rng.uniform(0.6, 1.4) for _ in range(n_buildings)])
    if min(capacities) < 1:
        raise ValueError("too few household places for the buildings")
    per_street = split_quota(n_buildings, [1] * streets_count)
    district = create_unit(
        name="示范区", level=Level.DISTRICT, parent=None, code=DISTRICT_CODE, established_on=ESTABLISHED
    )
    streets: list[OrgUnit] = []
    communities: list[OrgUnit] = []
    grids: list[OrgUnit] = []
    buildings_by_street: list[list[OrgUnit]] = []
    building_no = 0
    for s in range(streets_count):
        suffix = "" if s < len(STREET_NAMES) else str(s // len(STREET_NAMES) + 1)
        street = create_unit(
            name=STREET_NAMES[s % len(STREET_NAMES)] + suffix,
            level=Level.STREET,
            parent=district,
            code=f"{DISTRICT_CODE}{s + 1:03d}000",  # 12-digit statistical code
            established_on=ESTABLISHED,
        )
        streets.append(street)
        grids_per_community = max(1, min(GRIDS_PER_COMMUNITY, per_street[s] // communities_per_street))
        street_grids = []
        for c in range(communities_per_street):
            community = create_unit(
                name=COMMUNITY_NAMES[c], level=Level.COMMUNITY, parent=street, established_on=ESTABLISHED
            )
            communities.append(community)
            for g in range(grids_per_community):
                street_grids.append(
                    create_unit(name=f"第{g + 1}网格", level=Level.GRID, parent=community, established_on=ESTABLISHED)
                )
        grids += street_grids
        street_buildings = []
        for grid, count in zip(street_grids, split_quota(per_street[s], [1] * len(street_grids)), strict=True):
            for _ in range(count):
                building_no += 1
                street_buildings.append(
                    create_unit(
                        name=f"{building_no}号楼",
                        level=Level.BUILDING,
                        parent=grid,
                        capacity_households=capacities[building_no - 1],
                        established_on=ESTABLISHED,
                    )
                )
        buildings_by_street.append(street_buildings)
    buildings = [b for bs in buildings_by_street for b in bs]
    ctx.data.update(
        district=district,
        street=streets[0],
        streets=streets,
        communities=communities,
        grids=grids,
        buildings=buildings,
        buildings_by_street=buildings_by_street,
    )
    ctx.log(
        f"行政区划：{district.name}（{district.code}），{len(streets)} 个街道，{len(communities)} 个社区，"
        f"{len(grids)} 个网格，{len(buildings)} 栋楼，可容纳 {sum(capacities)} 户"
    )

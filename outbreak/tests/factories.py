"""Builders for the outbreak tests: an event of the district with risk areas and rules."""

from __future__ import annotations

import datetime as dt

from core.testing import World
from outbreak import services
from outbreak.models import Event


def event(world: World, *, started: dt.date | None = None) -> Event:
    started = started or dt.date.today() - dt.timedelta(days=20)
    alice = world.user("alice")
    e = services.create_event(
        unit=world.district,
        name="新冠肺炎疫情防控",
        disease="新型冠状病毒肺炎",
        started_on=started,
        report_deadline=dt.time(17, 0),
        by=alice,
    )
    services.add_risk_area(
        event=e, area="湖北省武汉市", level="high", valid_from=started - dt.timedelta(days=30), by=alice
    )
    services.add_risk_area(event=e, area="湖北省", level="medium", valid_from=started - dt.timedelta(days=30), by=alice)
    services.set_measure_rule(event=e, person_kind="arrival", risk_level="high", measure="home", days=14, by=alice)
    services.set_measure_rule(
        event=e, person_kind="arrival", risk_level="medium", measure="monitoring", days=7, by=alice
    )
    services.set_measure_rule(event=e, person_kind="close_contact", risk_level="", measure="central", days=14, by=alice)
    return e

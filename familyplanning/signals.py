from typing import Any

from django.dispatch import receiver

from orgunits.signals import units_merged


@receiver(units_merged, dispatch_uid="familyplanning_follow_merge")
def follow_merge(sender: Any, source: Any, target: Any, **kwargs: Any) -> None:
    from familyplanning.services import reassign_unit_records

    reassign_unit_records(source=source, target=target)

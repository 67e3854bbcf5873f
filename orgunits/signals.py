"""Signals other apps listen to, so that the org tree does not import every module that keeps records."""

from django.dispatch import Signal

# Sent inside merge_units' transaction after the registry's records moved: kwargs source, target, by, reason.
units_merged = Signal()

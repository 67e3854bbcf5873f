"""应检尽检 summary."""

"""应检尽检 indicators."""

import pytest

from vaccination.tests.factories import standard_data


@pytest.fixture(autouse=True)
def _standard_products_and_reasons(request):
    """Every database test starts with the products and reasons the data migration seeds: a test on a
    live server (transactional) flushes the tables, and the next test on that worker would find them empty."""
    names = set(request.fixturenames)
    if "transactional_db" in names or "live_server" in names:
        request.getfixturevalue("transactional_db")
    elif "db" in names:
        request.getfixturevalue("db")
    else:
        return
    standard_data()

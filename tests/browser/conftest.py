import pytest


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's server, started after (so stopped before) the test database."""
    return live_server

"""Browser tests use the `page` fixture from tests/browser_fixtures.py (registered in tests/conftest.py)."""

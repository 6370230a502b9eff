"""pytest plugin loaded before Django (``-p sms.testing`` in pyproject.toml).

The test database is created and migrated by the owner role; the tests themselves then
run as the application's role, which owns nothing and cannot bypass row-level security.
"""

import os

os.environ.setdefault("SMS_DB_OWNER", "1")
os.environ.setdefault("SMS_DEV", "1")
os.environ.setdefault("SMS_INSECURE_COOKIES", "1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("SMS_TEST_FAST_PASSWORD_HASHER", "1")
# Each test process has its own cache keys, so that one xdist worker emptying the cache
# between tests (tests/conftest.py) does not empty another's in the middle of a test.
os.environ.setdefault("SMS_CACHE_PREFIX", f"sms-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")

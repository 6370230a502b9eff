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

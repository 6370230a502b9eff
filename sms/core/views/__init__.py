"""Browser views of the shared kernel: sign-in, tenant choice, home, planned activities,
and the generic record pages every record kind reuses (see ``records.py``)."""

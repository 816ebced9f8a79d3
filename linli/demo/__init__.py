"""The demo town: deterministic, realistic data for a first start (`manage.py demo`)."""

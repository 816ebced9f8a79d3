"""The JSON API under /api/v1/ (django-ninja): the same access helpers and actions as the pages."""

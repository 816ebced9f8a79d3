"""The keys page for town admins, mounted at `open311/` in config/urls.py (beside `open311/v2`)."""

from django.urls import path

from linli.open311 import page_views

urlpatterns = [
    path("keys/", page_views.keys, name="open311_keys"),
    path("keys/<int:pk>/revoke/", page_views.key_revoke, name="open311_key_revoke"),
]

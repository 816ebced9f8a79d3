"""GeoReport v2 URLs, mounted at `open311/v2` (no slash) in config/urls.py.

Clients build `{endpoint}/{resource}.{format}` by concatenation, so a base written with a
trailing slash arrives as `/open311/v2//services.json`: every pattern takes one or more slashes.
"""

from django.urls import re_path

from linli.open311 import views

# One or more slashes. Written as a class: Django's check urls.W002 flags patterns that begin
# with "^/", which is right for routes under a slash-terminated include but not under this one.
SLASHES = r"^[/]+"
FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(SLASHES + r"discovery" + FMT, views.discovery, name="open311_discovery"),
    re_path(SLASHES + r"services" + FMT, views.services, name="open311_services"),
    re_path(SLASHES + r"services/(?P<service_code>[^/]+)" + FMT, views.service_definition, name="open311_service"),
    re_path(SLASHES + r"requests" + FMT, views.service_requests, name="open311_requests"),
    re_path(SLASHES + r"requests/(?P<service_request_id>[^/]+)" + FMT, views.service_request, name="open311_request"),
    re_path(SLASHES + r"tokens/(?P<token>[^/]+)" + FMT, views.token, name="open311_token"),
    re_path(SLASHES + r"(?P<rest>.*)$", views.not_found),
]

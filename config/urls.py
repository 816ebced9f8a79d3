from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("linli.api.urls")),
    path("open311/v2", include("linli.open311.urls")),
    path("open311/", include("linli.open311.page_urls")),
    path("", include("linli.accounts.urls")),
    path("", include("linli.people.urls")),
    path("", include("linli.orders.urls")),
    path("", include("linli.credits.urls")),
    path("", include("linli.activities.urls")),
    path("", include("linli.dispatch.urls")),
    path("", include("linli.reports.urls")),
    path("registers/", include("linli.people.register_urls")),
]

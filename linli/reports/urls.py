from django.urls import include, path

from linli.reports import views

urlpatterns = [
    path("", views.home, name="home"),
    path("communities/<int:pk>/", views.community_detail, name="community"),
    path("grids/<int:pk>/", views.grid_detail, name="grid"),
    # Dashboards (三率, trends, comparisons) and feedback (unit reports, red/black lists).
    path("", include("linli.reports.dashboard_urls")),
    path("", include("linli.reports.feedback_urls")),
]

from django.urls import path

from linli.reports import dashboard_views as views

urlpatterns = [
    path("towns/<int:pk>/dashboard/", views.town_dashboard, name="town_dashboard"),
    path("towns/<int:pk>/dashboard/communities.xlsx", views.town_dashboard_xlsx, name="town_dashboard_xlsx"),
    path("towns/<int:pk>/departments/", views.department_league, name="department_league"),
    path("communities/<int:pk>/dashboard/", views.community_dashboard, name="community_dashboard"),
    path("grids/<int:pk>/dashboard/", views.grid_dashboard, name="grid_dashboard"),
]

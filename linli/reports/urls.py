from django.urls import path

from linli.reports import views

urlpatterns = [
    path("", views.home, name="home"),
    path("communities/<int:pk>/", views.community_detail, name="community"),
    path("grids/<int:pk>/", views.grid_detail, name="grid"),
]

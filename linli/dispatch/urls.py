from django.urls import path

from linli.dispatch import views

urlpatterns = [
    path("orders/<int:pk>/suggestions/", views.order_suggestions, name="order_suggestions"),
    path("dispatch/", views.dispatch_home, name="dispatch_home"),
    path("dispatch/plan/", views.dispatch_plan, name="dispatch_plan"),
    path("dispatch/runs/<int:pk>/", views.dispatch_run, name="dispatch_run"),
    path("dispatch/runs/<int:pk>/confirm/", views.dispatch_confirm, name="dispatch_confirm"),
    path("dispatch/runs/<int:pk>/discard/", views.dispatch_discard, name="dispatch_discard"),
]

from django.urls import path

from linli.people import views

urlpatterns = [
    path("members/<int:pk>/", views.member_detail, name="member"),
    path("residents/<int:pk>/", views.resident_detail, name="resident"),
    path("communities/<int:pk>/registrations/", views.registration_queue, name="registration_queue"),
    path("registrations/request/", views.registration_request, name="registration_request"),
    path("registrations/<int:pk>/", views.registration_detail, name="registration"),
    path("registrations/<int:pk>/approve/", views.registration_approve, name="registration_approve"),
    path("registrations/<int:pk>/decline/", views.registration_decline, name="registration_decline"),
    path("registrations/<int:pk>/withdraw/", views.registration_withdraw, name="registration_withdraw"),
]

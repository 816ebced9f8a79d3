from django.urls import path

from linli.activities import views

urlpatterns = [
    # Members.
    path("activities/", views.activity_list, name="activities"),
    path("activities/mine/", views.my_shifts, name="my_shifts"),
    path("activities/<int:pk>/", views.activity_detail, name="activity"),
    path("shifts/<int:pk>/signup/", views.shift_sign_up, name="shift_sign_up"),
    path("shifts/<int:pk>/cancel-signup/", views.shift_cancel_sign_up, name="shift_cancel_sign_up"),
    path("checkin/", views.shift_scan, name="shift_scan"),
    path("calendar/regenerate/", views.calendar_regenerate, name="calendar_regenerate"),
    # No login: calendar apps poll this secret URL.
    path("calendar/<str:token>.ics", views.shift_calendar, name="shift_calendar"),
    # Staff.
    path("communities/<int:pk>/activities/", views.community_activities, name="community_activities"),
    path("communities/<int:pk>/activities/new/", views.activity_new, name="activity_new"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/publish/", views.activity_publish, name="activity_publish"),
    path("activities/<int:pk>/cancel/", views.activity_cancel, name="activity_cancel"),
    path("activities/<int:pk>/shifts/add/", views.shift_add, name="shift_add"),
    path("shifts/<int:pk>/capacity/", views.shift_capacity, name="shift_capacity"),
    path("shifts/<int:pk>/remove/", views.shift_remove, name="shift_remove"),
    path("shifts/<int:pk>/roster/", views.shift_roster, name="shift_roster"),
    path("shifts/<int:pk>/code/", views.shift_code, name="shift_code"),
    path("signups/<int:pk>/attendance/", views.signup_attendance, name="signup_attendance"),
]

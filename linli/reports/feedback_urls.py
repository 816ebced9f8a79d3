"""Feedback to units (信息反馈) and red/black lists (红黑榜); included at the site root."""

from django.urls import path

from linli.reports import feedback_views as views

urlpatterns = [
    # Unit admins (and town admins): the unit's members this year, its reports, reminders.
    path("units/<int:pk>/members/", views.unit_members, name="unit_members"),
    path("units/<int:pk>/remind/", views.unit_remind, name="unit_remind"),
    path("units/<int:pk>/reports/", views.unit_reports, name="unit_reports"),
    path("units/<int:pk>/reports/generate/", views.unit_report_generate, name="unit_report_generate"),
    path("unit-reports/<int:pk>/", views.unit_report_detail, name="unit_report"),
    path("unit-reports/<int:pk>/pdf/", views.unit_report_pdf, name="unit_report_pdf"),
    path("unit-reports/<int:pk>/xlsx/", views.unit_report_xlsx, name="unit_report_xlsx"),
    path("towns/<int:pk>/unit-reports/", views.town_unit_reports, name="town_unit_reports"),
    path("towns/<int:pk>/unit-reports/generate/", views.town_unit_reports_generate, name="town_unit_reports_generate"),
    # Red/black lists: town admins run the workflow; staff record inspections; companies appeal.
    path("towns/<int:pk>/lists/", views.town_lists, name="town_lists"),
    path("towns/<int:pk>/lists/propose/", views.town_lists_propose, name="town_lists_propose"),
    path("property-lists/<int:pk>/", views.property_list, name="property_list"),
    path("property-lists/<int:pk>/notice/", views.property_list_notice, name="property_list_notice"),
    path("property-lists/<int:pk>/publish/", views.property_list_publish, name="property_list_publish"),
    path("property-lists/<int:pk>/withdraw/", views.property_list_withdraw, name="property_list_withdraw"),
    path("list-entries/<int:pk>/decide/", views.list_entry_decide, name="list_entry_decide"),
    path("list-entries/<int:pk>/appeal/", views.list_entry_appeal, name="list_entry_appeal"),
    path("property/lists/", views.company_lists, name="company_lists"),
    path("inspections/", views.inspections, name="inspections"),
    path("inspections/new/", views.inspection_new, name="inspection_new"),
    # Public, no login: the published lists (companies and estates only).
    path("lists/", views.public_lists, name="public_lists"),
    path("lists/<str:code>/", views.public_town_lists, name="public_town_lists"),
]

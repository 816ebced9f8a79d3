"""Registers in and out, mounted at /registers/ (see linli.people.register_views)."""

from django.urls import path

from linli.people import register_views as views

app_name = "registers"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:kind>/template/", views.template, name="template"),
    path("<slug:kind>/upload/", views.upload, name="upload"),
    path("<slug:kind>/import/", views.import_file, name="import"),
    path("<slug:kind>/export/", views.export, name="export"),
]

from django.urls import path

from linli.credits import views

urlpatterns = [
    path("members/<int:pk>/record/", views.member_record, name="member_record"),
    path("members/<int:pk>/record.xlsx", views.member_record_xlsx, name="member_record_xlsx"),
    path("members/<int:pk>/certificates/issue/", views.certificate_issue, name="certificate_issue"),
    path("service-records/<int:pk>/correct/", views.correction_new, name="correction_new"),
    path("communities/<int:pk>/corrections/", views.correction_queue, name="correction_queue"),
    # Decisions: POST-only verbs.
    path("corrections/<int:pk>/approve/", views.correction_approve, name="correction_approve"),
    path("corrections/<int:pk>/decline/", views.correction_decline, name="correction_decline"),
    path("certificates/<int:pk>/pdf/", views.certificate_pdf, name="certificate_pdf"),
    # Public: anyone holding a certificate's code may check it.
    path("verify/", views.verify, name="verify"),
    path("verify/<str:code>/", views.verify, name="verify_code"),
]

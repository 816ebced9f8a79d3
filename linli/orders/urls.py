from django.urls import path

from linli.orders import views

urlpatterns = [
    path("orders/new/", views.order_new, name="order_new"),
    path("orders/new/duplicates/", views.order_duplicates, name="order_duplicates"),
    path("orders/new/residents/", views.order_new_residents, name="order_new_residents"),
    path("orders/mine/", views.my_orders, name="my_orders"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("orders/<int:pk>/status/", views.order_status, name="order_status"),
    path("orders/<int:pk>/photos/<int:photo_pk>/", views.order_photo, name="order_photo"),
    # Transitions: POST-only verbs.
    path("orders/<int:pk>/accept/", views.order_accept, name="order_accept"),
    path("orders/<int:pk>/reject/", views.order_reject, name="order_reject"),
    path("orders/<int:pk>/merge/", views.order_merge, name="order_merge"),
    path("orders/<int:pk>/dispatch/", views.order_dispatch, name="order_dispatch"),
    path("orders/<int:pk>/recall/", views.order_recall, name="order_recall"),
    path("orders/<int:pk>/escalate/", views.order_escalate, name="order_escalate"),
    path("orders/<int:pk>/reopen/", views.order_reopen, name="order_reopen"),
    path("orders/<int:pk>/claim/", views.order_claim, name="order_claim"),
    path("orders/<int:pk>/decline/", views.order_decline, name="order_decline"),
    path("orders/<int:pk>/start/", views.order_start, name="order_start"),
    path("orders/<int:pk>/resolve/", views.order_resolve, name="order_resolve"),
    path("orders/<int:pk>/cancel/", views.order_cancel, name="order_cancel"),
    path("orders/<int:pk>/rate/", views.order_rate, name="order_rate"),
    path("orders/<int:pk>/acknowledge/", views.order_acknowledge, name="order_acknowledge"),
    path("orders/<int:pk>/return/", views.order_return, name="order_return"),
    path("orders/<int:pk>/followup/", views.order_follow_up, name="order_follow_up"),
    # Lists per role.
    path("tasks/", views.tasks, name="tasks"),
    path("pool/", views.pool, name="pool"),
    path("communities/<int:pk>/orders/", views.community_queue, name="community_queue"),
    path("department/orders/", views.department_orders, name="department_orders"),
    path("followups/", views.follow_ups, name="follow_ups"),
]

from django.urls import path

from registry import import_views

app_name = "imports"
urlpatterns = [
    path("", import_views.batch_list, name="list"),
    path("template.xlsx", import_views.roster_template, name="template"),
    path("<int:pk>/", import_views.batch_detail, name="detail"),
    path("<int:pk>/confirm/", import_views.batch_confirm, name="confirm"),
    path("<int:pk>/reject/", import_views.batch_reject, name="reject"),
    path("<int:pk>/errors.xlsx", import_views.batch_errors, name="errors"),
]

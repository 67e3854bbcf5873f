from django.urls import URLPattern, path

from reports import views

app_name = "reports"
urlpatterns: list[URLPattern] = [
    path("summary/", views.summary, name="summary"),
    path("summary/download/", views.summary_download, name="summary_download"),
]

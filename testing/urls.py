from django.urls import URLPattern

from testing import table_views, views

app_name = "testing"
# Round plans, progress, results and routine testing (views); the sampling-table screen (table_views).
urlpatterns: list[URLPattern] = [*views.urlpatterns, *table_views.urlpatterns]

from django.urls import URLPattern

from testing import table_views, views
from testing.routine import views as routine_views

app_name = "testing"
# Round plans, progress and results (views); the sampling-table screen (table_views); routine testing
# of key groups (routine.views).
urlpatterns: list[URLPattern] = [*views.urlpatterns, *table_views.urlpatterns, *routine_views.urlpatterns]

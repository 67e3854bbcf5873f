from django.urls import URLPattern

from outbreak import checkpoint_views, views

app_name = "outbreak"
# Everything but the checkpoint screen (views); the checkpoint screen (checkpoint_views).
urlpatterns: list[URLPattern] = [*views.urlpatterns, *checkpoint_views.urlpatterns]

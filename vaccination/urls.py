from django.urls import URLPattern

from vaccination import views

app_name = "vaccination"
urlpatterns: list[URLPattern] = views.urlpatterns

from django.urls import URLPattern

app_name = "vaccination"
urlpatterns: list[URLPattern] = []

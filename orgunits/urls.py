from django.urls import path

from orgunits import views

app_name = "orgunits"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("<int:pk>/<str:action>/", views.act, name="act"),
]

from django.urls import URLPattern

from familyplanning import scheme_views, views

app_name = "familyplanning"
# Births, registrations, visits and the dashboard (views); schemes, beneficiaries and applications (scheme_views).
urlpatterns: list[URLPattern] = [*views.urlpatterns, *scheme_views.urlpatterns]

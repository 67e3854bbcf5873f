"""计生 pages: dashboard, births, birth-service registrations, holiday visits (placeholder, being written)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

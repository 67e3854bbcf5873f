"""计生 pages: schemes and standards, beneficiaries, annual applications (placeholder, being written)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

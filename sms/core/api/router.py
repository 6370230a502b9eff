from rest_framework.routers import DefaultRouter

# The one router of /api/v1/. Apps register their viewsets in their api/urls.py.
router = DefaultRouter()

from django.urls import include, path

from . import views

party_patterns = [
    path("", views.PartyListView.as_view(), name="list"),
    path("new/", views.PartyCreateView.as_view(), name="create"),
    path("<int:pk>/", views.PartyDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.PartyUpdateView.as_view(), name="update"),
    path("<int:pk>/contacts/", views.ContactAddView.as_view(), name="contact-add"),
    path("<int:pk>/contacts/<int:contact_id>/delete/", views.ContactDeleteView.as_view(), name="contact-delete"),
]

# Mounted under /t/<tenant-slug>/ by sms/urls.py.
urlpatterns = [path("parties/", include((party_patterns, "parties")))]

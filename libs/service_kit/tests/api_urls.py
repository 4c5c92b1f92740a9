"""API of the kit's test project, mounted at /api/kit/."""

from django.urls import path

from . import views

urlpatterns = [
    path("whoami/", views.WhoAmIView.as_view(), name="whoami"),
    path("notes/", views.NoteView.as_view(), name="notes"),
    path("numbers/", views.NumberListView.as_view(), name="numbers"),
    path("log/", views.LogView.as_view(), name="log"),
    path("scoped/", views.ScopedView.as_view(), name="scoped"),
    path("boom/", views.BoomView.as_view(), name="boom"),
    path("refusals/<str:kind>/", views.RefusalView.as_view(), name="refusal"),
    path("database-down/", views.DatabaseDownView.as_view(), name="database-down"),
]

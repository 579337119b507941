"""URL routes of the REST API."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from hub.api import privacy, views

urlpatterns = [
    path("sources/<str:source>/records/<path:source_key>", views.SourceRecordView.as_view(),
         name="source-record"),
    path("entities/<str:golden_id>", views.EntityView.as_view(), name="entity"),
    path("entities/<str:golden_id>/records", views.EntityRecordsView.as_view(),
         name="entity-records"),
    path("xref/<str:source>/<path:source_key>", views.XrefView.as_view(), name="xref"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("privacy-requests/", privacy.PrivacyRequestListView.as_view(),
         name="privacy-requests"),
    path("privacy-requests/subject-search", privacy.SubjectSearchView.as_view(),
         name="privacy-subject-search"),
    path("privacy-requests/exports/<str:token>", privacy.ExportDownloadView.as_view(),
         name="privacy-export"),
    path("privacy-requests/<int:request_id>", privacy.PrivacyRequestView.as_view(),
         name="privacy-request"),
    *[path(f"privacy-requests/<int:request_id>/{action}", view.as_view(),
           name=f"privacy-request-{action}") for action, view in privacy.ACTION_VIEWS.items()],
]

"""URL routes of the REST API."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from hub.api import views

urlpatterns = [
    path("sources/<str:source>/records/<path:source_key>", views.SourceRecordView.as_view(),
         name="source-record"),
    path("entities/<str:golden_id>", views.EntityView.as_view(), name="entity"),
    path("xref/<str:source>/<path:source_key>", views.XrefView.as_view(), name="xref"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

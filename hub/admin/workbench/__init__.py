"""The steward workbench on the hub's admin site: review queue, task page, entity page, dashboard.

The pages are custom admin views under ``/admin/workbench/``. They are added to the default
``admin.site`` (not a site of their own) so stewards keep one login, one header and the
registry's model pages next to the workbench; URL names live in the ``admin`` namespace
(``admin:workbench_queue`` ...).
"""

from django.contrib import admin
from django.urls import path

from hub.admin.workbench import dashboard, entity, queue, task


def workbench_urls(site: admin.AdminSite) -> list:
    """The workbench's URL patterns, each wrapped by the site's login and CSRF handling."""
    view = site.admin_view
    return [
        path("workbench/", view(queue.queue_view), name="workbench_queue"),
        path("workbench/dashboard/", view(dashboard.dashboard_view),
             name="workbench_dashboard"),
        path("workbench/tasks/<int:task_id>/", view(task.task_view), name="workbench_task"),
        path("workbench/tasks/<int:task_id>/claim/", view(queue.claim_view),
             name="workbench_task_claim"),
        path("workbench/tasks/<int:task_id>/release/", view(queue.release_view),
             name="workbench_task_release"),
        path("workbench/tasks/<int:task_id>/resolve/", view(task.resolve_view),
             name="workbench_task_resolve"),
        path("workbench/entities/", view(entity.entity_lookup_view),
             name="workbench_entity_lookup"),
        path("workbench/entities/<str:golden_id>/", view(entity.entity_view),
             name="workbench_entity"),
        path("workbench/entities/<str:golden_id>/source-records/",
             view(task.source_records_view), name="workbench_source_records"),
        path("workbench/entities/<str:golden_id>/merge/", view(entity.merge_view),
             name="workbench_entity_merge"),
        path("workbench/records/<int:record_id>/split/", view(entity.split_view),
             name="workbench_record_split"),
        path("workbench/events/<int:event_id>/undo/", view(entity.undo_view),
             name="workbench_undo"),
    ]


def _install(site: admin.AdminSite) -> None:
    # AdminSite builds its URL list in get_urls(); wrapping it on the instance puts the
    # workbench in front of the model pages without replacing admin.site by a subclass,
    # which every other admin module registers on.
    model_urls = site.get_urls

    def get_urls():
        return workbench_urls(site) + model_urls()

    site.get_urls = get_urls


_install(admin.site)

"""Housekeeping that must follow every way a figure can go.

A figure is deleted by the admin, by the importer (a figure its file no longer
has), or with its article; a queryset delete sends `post_delete` for each row,
so this is the one place that sees all of them. Its files go once the deletion
is committed.
"""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from . import images
from .models import Figure


@receiver(post_delete, sender=Figure, dispatch_uid="articles.figure_files")
def delete_figure_files(sender, instance: Figure, **kwargs) -> None:
    images.delete_files_on_commit(images.file_names(instance), instance.image.storage)

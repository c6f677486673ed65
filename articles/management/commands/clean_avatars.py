from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from articles import images
from articles.forms import avatar_file, is_avatar_file
from articles.models import Author


class Command(BaseCommand):
    help = (
        "Put every author's picture stored before uploads were processed through the "
        "checks an upload gets now: upright, square, small, nothing but pixels. "
        "Pictures already stored that way are left as they are."
    )

    def handle(self, *args, verbosity, **options):
        cleaned = kept = 0
        failed = []
        for author in Author.objects.exclude(avatar="").order_by("pk"):
            name = author.avatar.name
            if is_avatar_file(name):
                kept += 1
                continue
            try:
                with author.avatar.open("rb") as picture:
                    data = images.avatar(picture.read())
            except images.ImageRejected as error:
                failed.append(f"author {author.slug}: {name}: {error}")
                continue
            except OSError as error:
                failed.append(f"author {author.slug}: {name}: cannot read it: {error}")
                continue
            with transaction.atomic():
                author.avatar = avatar_file(data)
                author.save(update_fields=["avatar"])
                images.delete_files_on_commit([name], author.avatar.storage)
            cleaned += 1
            if verbosity >= 2:
                self.stdout.write(f"author {author.slug}: {name} → {author.avatar.name}")
        for line in failed:
            self.stderr.write(line)
        if verbosity >= 1:
            self.stdout.write(
                f"{cleaned} pictures cleaned, {kept} already clean, {len(failed)} failed"
            )
        if failed:
            raise CommandError(f"{len(failed)} pictures could not be cleaned", returncode=1)

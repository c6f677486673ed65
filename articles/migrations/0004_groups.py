"""The two groups of people who work in the admin.

Editor: every permission of the articles app (articles, figures, videos, tags,
sections, authors, publishing), none on users. Contributor: writes articles and
edits their own drafts (the admin keeps them to their own drafts), never
publishes.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTRIBUTOR = {
    "article": ["add", "change", "view"],
    "figure": ["add", "change", "delete", "view"],
    "video": ["add", "change", "delete", "view"],
    "tag": ["add", "view"],
    "section": ["view"],
    "author": ["view"],
}


def create_groups(apps, schema_editor):
    # Permissions are made after the last migration has run (post_migrate);
    # on a new database they do not exist yet, so make this app's now.
    app_config = apps.get_app_config("articles")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    articles = Permission.objects.filter(content_type__app_label="articles")
    editor, _ = Group.objects.get_or_create(name="Editor")
    editor.permissions.add(*articles)
    contributor, _ = Group.objects.get_or_create(name="Contributor")
    codenames = [f"{action}_{model}" for model, actions in CONTRIBUTOR.items() for action in actions]
    contributor.permissions.add(*articles.filter(codename__in=codenames))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Editor", "Contributor"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0003_admin"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]

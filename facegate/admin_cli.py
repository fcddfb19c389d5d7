"""`facegate admin ...`: accounts, applications, packs, usage and library settings from the command line.

Acts on the database that DATABASE_URL or the data dir (--data-dir, FACEGATE_DATA_DIR, else
./facegate-data) names — the one `facegate serve` uses — says which on stderr, and applies pending
migrations first. Run from another folder without naming a data dir, it would find no database there:
it refuses rather than silently start a second, empty one (--init creates it on purpose).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from facegate.apis import API_NAMES
from facegate.operating_points import OPERATING_POINT_NAMES
from facegate.config import SQLITE_NAME

DEFAULT_OWNER = "admin@localhost"


class CliError(Exception):
    pass


def _choose_database(args: argparse.Namespace) -> None:
    """Point FACEGATE_DATA_DIR at the chosen data dir; CliError when the default one has no database."""
    if args.data_dir:
        os.environ["FACEGATE_DATA_DIR"] = str(Path(args.data_dir).resolve())
    if os.environ.get("DATABASE_URL"):
        return
    named = bool(os.environ.get("FACEGATE_DATA_DIR"))
    sqlite = Path(os.environ.get("FACEGATE_DATA_DIR") or "facegate-data").resolve() / SQLITE_NAME
    if sqlite.exists():
        return
    if not named and not args.init:
        raise CliError(f"no facegate database at {sqlite}: run this in the folder where `facegate serve` runs, "
                       "or name its data dir with --data-dir DIR (or FACEGATE_DATA_DIR); "
                       "--init creates a new database here")
    print(f"facegate admin: creating a new database at {sqlite}", file=sys.stderr)


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "facegate.settings")
    import django
    django.setup()
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        from django.core.management import call_command
        call_command("migrate", verbosity=0, interactive=False)
    from django.conf import settings

    from facegate.serve import describe_database
    print(f"facegate admin: database {describe_database(settings.DATABASES['default'])}", file=sys.stderr)


def _out(args: argparse.Namespace, data: Any, text: str) -> None:
    if getattr(args, "json", False):
        pretty = getattr(args, "pretty", False)
        print(json.dumps(data, default=_json_default, ensure_ascii=False, indent=2 if pretty else None,
                         separators=None if pretty else (",", ":")))
    else:
        print(text)


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _user(email: str, create: bool = True):
    from django.contrib.auth import get_user_model
    User = get_user_model()
    user = User.objects.filter(username=email).first()
    if user is None and create:
        user = User(username=email, email=email)
        user.set_unusable_password()  # log in only after `create-user --password` or a reset
        user.save()
    if user is None:
        raise CliError(f"no user {email!r}")
    return user


def _app(app_key: str):
    from gateway.models import Application
    app = Application.objects.filter(app_key=app_key).first()
    if app is None:
        raise CliError(f"no application with AppKey {app_key!r}")
    return app


def _app_info(app) -> dict[str, Any]:
    return {"app_id": app.pk, "app_key": app.app_key, "name": app.name, "owner": app.owner.username,
            "status": app.status, "created_at": app.created_at,
            "service_codes": dict(app.service_codes.values_list("api", "code"))}


def cmd_create_app(args: argparse.Namespace) -> None:
    from gateway.services import create_application
    app, secret = create_application(_user(args.owner), args.name, args.description)
    data = {"app_id": app.pk, "app_key": app.app_key, "app_secret": secret,
            "service_codes": dict(app.service_codes.values_list("api", "code"))}
    _out(args, data, "\n".join(f"{k}: {v}" for k, v in data.items()) + "\n(the AppSecret is shown only now)")


def cmd_grant(args: argparse.Namespace) -> None:
    from billing.orders import grant_pack
    pack = grant_pack(_app(args.app), args.api, args.calls, args.days)
    data = {"pack_id": pack.pk, "app_key": args.app, "api": pack.api, "calls": pack.calls_total,
            "starts_at": pack.starts_at, "expires_at": pack.expires_at}
    _out(args, data, f"granted {pack.calls_total} {pack.api} calls to {args.app}, valid until {pack.expires_at:%Y-%m-%d}")


def cmd_usage(args: argparse.Namespace) -> None:
    from billing.quota import usage
    report = usage(_app(args.app))
    lines = [f"{api:<11} remaining {r['remaining']:>12}  today {r['used_today']:>8}  month {r['used_month']:>10}"
             for api, r in report.items()]
    _out(args, report, "\n".join(lines))


def cmd_create_user(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    User = get_user_model()
    if User.objects.filter(username=args.email).exists():
        raise CliError(f"user {args.email!r} exists")
    user = User(username=args.email, email=args.email, is_staff=args.admin, is_superuser=args.admin)
    # Without --password a strong one is generated and shown once, like an AppSecret: an account
    # nobody can sign in to would only send the user looking for a reset that does not exist.
    password = args.password or secrets.token_urlsafe(12)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    data: dict[str, Any] = {"user_id": user.pk, "email": user.email, "admin": user.is_superuser}
    text = f"created {'admin' if args.admin else 'user'} {user.email}"
    if not args.password:
        data["password"] = password
        text += f"\npassword: {password}  (shown once; sign in at /console/)"
    _out(args, data, text)


def cmd_apps(args: argparse.Namespace) -> None:
    from gateway.models import Application
    from gateway.services import rotate_secret, set_status
    if args.apps_command == "list":
        apps = [_app_info(a) for a in Application.objects.select_related("owner").order_by("created_at")]
        _out(args, apps, "\n".join(f"{a['app_key']}  {a['status']:<8}  {a['name']:<15}  {a['owner']}" for a in apps))
    elif args.apps_command in ("disable", "enable"):
        app = set_status(_app(args.app_key), args.apps_command == "enable")
        _out(args, {"app_key": app.app_key, "status": app.status}, f"{app.app_key}: {app.status}")
    elif args.apps_command == "rotate-secret":
        app = _app(args.app_key)
        secret = rotate_secret(app)
        _out(args, {"app_key": app.app_key, "app_secret": secret}, f"{app.app_key}: new AppSecret {secret}")
    elif args.apps_command == "delete":
        _delete_app(args)


def _delete_app(args: argparse.Namespace) -> None:
    """Delete an app for good, then try to remove its face library now (Celery beat retries)."""
    from gateway.library_admin import purge_now
    from gateway.services import delete_application
    app = delete_application(_app(args.app_key))
    removed, waiting = purge_now(app.pk)
    data = {"app_key": app.app_key, "status": app.status, "library_faces_removed": removed,
            "library_purge": "retrying" if waiting else "done"}
    text = f"{app.app_key}: deleted; face library " + (
        "not reachable now, removal retried every housekeeping period" if waiting else f"removed ({removed} faces)")
    _out(args, data, text)


def cmd_library_settings(args: argparse.Namespace) -> None:
    from gateway.library_admin import LibraryAdminError, set_library_settings
    from audit.models import AuditEvent
    from audit.services import record
    app = _app(args.app_key)
    changes = {key: value for key, value in (("operating_point", args.operating_point), ("face_limit", args.face_limit),
                                             ("store_photos", args.store_photos)) if value is not None}
    try:
        # The operator also sees the faces a model upgrade left behind (facegate library reembed).
        result = set_library_settings(app.pk, {**changes, "older_faces": True})
    except LibraryAdminError as exc:
        raise CliError(f"{exc} (is the face backend running? FACEGATE_BACKEND_URLS)") from None
    if changes:
        record(AuditEvent.Action.LIBRARY_SETTINGS, None, app, **changes)
    _out(args, {"app_key": app.app_key, **result},
         "\n".join(f"{key}: {value}" for key, value in {"app_key": app.app_key, **result}.items()))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facegate admin", description="accounts, apps, packs and usage")
    parser.add_argument("--data-dir", default=None, help="the server's data dir (default: FACEGATE_DATA_DIR or "
                                                          "./facegate-data)")
    parser.add_argument("--init", action="store_true", help="create the database when the data dir has none")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("create-app", help="create an application (prints its AppSecret once)")
    p.add_argument("--name", required=True, help="4-15 characters")
    p.add_argument("--description", default="")
    p.add_argument("--owner", default=DEFAULT_OWNER, help=f"owner's email; created if missing (default {DEFAULT_OWNER})")
    p.set_defaults(func=cmd_create_app)

    p = sub.add_parser("grant", help="grant a resource pack of any size and duration")
    p.add_argument("--app", required=True, help="AppKey")
    p.add_argument("--api", required=True, choices=API_NAMES)
    p.add_argument("--calls", required=True, type=int)
    p.add_argument("--days", type=int, default=365)
    p.set_defaults(func=cmd_grant)

    p = sub.add_parser("usage", help="remaining calls, used today / this month, packs")
    p.add_argument("--app", required=True, help="AppKey")
    p.set_defaults(func=cmd_usage)

    p = sub.add_parser("create-user", help="create an account")
    p.add_argument("--email", required=True)
    p.add_argument("--password", default="", help="default: generate one and print it once")
    p.add_argument("--admin", action="store_true", help="staff + superuser (Django admin, all apps)")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("apps", help="list, disable, enable, rotate-secret")
    apps_sub = p.add_subparsers(dest="apps_command", required=True)
    apps_sub.add_parser("list")
    for name in ("disable", "enable", "rotate-secret"):
        apps_sub.add_parser(name).add_argument("app_key")
    apps_sub.add_parser("delete", help="for good: its keys stop working and its face library is removed"
                        ).add_argument("app_key")
    p.set_defaults(func=cmd_apps)

    p = sub.add_parser("library-settings", help="an app's face library: operating point, face limit, photos "
                                                "(asks the running face backend; without options: shows them)")
    p.add_argument("app_key")
    p.add_argument("--operating-point", choices=OPERATING_POINT_NAMES, default=None,
                   help="false accept rate at which search answers a user (else unknown); default 1e-4")
    p.add_argument("--face-limit", type=int, default=None, help="faces the app may store")
    photos = p.add_mutually_exclusive_group()
    photos.add_argument("--store-photos", dest="store_photos", action="store_const", const=True, default=None,
                        help="keep enrolled photos beside their embeddings")
    photos.add_argument("--no-store-photos", dest="store_photos", action="store_const", const=False)
    p.set_defaults(func=cmd_library_settings)

    for command in [*(p for name, p in sub.choices.items() if name != "apps"), *apps_sub.choices.values()]:
        command.add_argument("--json", action="store_true", help="machine-readable output (one compact line)")
        command.add_argument("--pretty", action="store_true", help="indent the JSON output")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        _choose_database(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _setup_django()
    from django.core.exceptions import ValidationError
    try:
        args.func(args)
    except ValidationError as exc:
        print(f"error: {'; '.join(exc.messages)}", file=sys.stderr)
        return 1
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

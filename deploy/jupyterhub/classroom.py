"""Set up, start and remove the course's JupyterHub on one machine (run as root).

::

    classroom.py setup  --instructor teacher --students alice,bob [--students-file roster.txt]
                        [--class-dir /srv/cnn-course] [--exchange /srv/nbgrader/exchange]
                        [--course-id cnn-course] [--python-env /opt/cnn-course/venv]
                        [--data /srv/cnn-course/data] [--notebooks notebooks/]
    classroom.py add-students [--class-dir ...] carol dave
    classroom.py start  [--class-dir ...] [--ip 0.0.0.0] [--port 8000]
    classroom.py trial  (make hub: a trial class with one instructor and two students, on a free port)
    classroom.py remove [--class-dir ...] --yes

``setup`` creates what a class needs, and is safe to run again (it only adds):

* a system user for the instructor and each student (``useradd``; a new user gets a random
  password, written to ``<class-dir>/passwords.txt``, readable by root only); every member's home
  is made private (0700), so that students cannot read each other's work or the instructor's
  course folder;
* nbgrader's exchange: the root world-writable with the sticky bit (1777, as nbgrader requires),
  and the course's own folder in it created by the instructor with nbgrader's modes, so that no
  student can take the course's name first;
* each member's Jupyter settings, written as that user into ``~/.jupyter``: nbgrader's course id and
  exchange (``nbgrader_config.py``); nbgrader's extensions per role (students: Assignments and
  Validate; the instructor also Formgrader, Course List and Create Assignment), in the ``.d``
  folders of the Lab and server settings so that nothing of the user's own is overwritten; and a
  marked block in ``~/.profile`` that puts the course's environment first on the PATH of
  JupyterLab's terminals;
* ``<class-dir>/class.json``: what ``jupyterhub_config.py`` reads.

``start`` runs JupyterHub with ``jupyterhub_config.py`` in the foreground (Ctrl-C stops it, and the
users' servers with it).
"""

from __future__ import annotations

import argparse
import grp
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import traceback
from pathlib import Path

from shared_env import build as shared_env_build
from shared_env import runnable_by_everyone

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CONFIG = HERE / "jupyterhub_config.py"
PROXY = HERE / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
MARKER = "# Written by deploy/jupyterhub/classroom.py"

DEFAULT_CLASS_DIR = "/srv/cnn-course"
DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"
DEFAULT_COURSE_ID = "cnn-course"
TRIAL_CLASS_DIR = "/srv/cnn-course-trial/hub"
TRIAL_EXCHANGE = "/srv/cnn-course-trial/exchange"
TRIAL_SHARED_ENV = "/srv/cnn-course-trial/venv"
TRIAL_INSTRUCTOR = "cnn-teacher"
TRIAL_STUDENTS = ["cnn-student1", "cnn-student2"]

# Login names: what useradd accepts and nbgrader can use (its exchange splits file names on "+").
USERNAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")

# nbgrader's Lab extensions (plugin ids) and server extensions, and who gets them.
LAB_PLUGINS = {
    "@jupyter/nbgrader:assignment-list": "everyone",
    "@jupyter/nbgrader:validate-assignment": "everyone",
    "@jupyter/nbgrader:formgrader": "instructor",
    "@jupyter/nbgrader:course-list": "instructor",
    "@jupyter/nbgrader:create-assignment": "instructor",
}
SERVER_EXTENSIONS = {
    "nbgrader.server_extensions.assignment_list": "everyone",
    "nbgrader.server_extensions.validate_assignment": "everyone",
    "nbgrader.server_extensions.formgrader": "instructor",
    "nbgrader.server_extensions.course_list": "instructor",
}


class SetupError(Exception):
    """Something the administrator must fix; the message says what."""


# -- small helpers --------------------------------------------------------------------------------------


def require_root() -> None:
    if os.geteuid() != 0:
        raise SetupError(
            "this needs root: it creates system users and JupyterHub starts each user's server as that "
            "user (run it with sudo, or as root)"
        )


def check_username(name: str, argument: str) -> str:
    if not USERNAME.match(name):
        raise SetupError(
            f"{argument}: {name!r} is not a usable login name (lower-case letters, digits, '_' and '-', "
            "starting with a letter or '_', at most 32 characters)"
        )
    return name


def parse_students(names: list[str], roster: str | None) -> list[str]:
    """``--students a,b --students c`` and a roster file (one name a line, ``#`` comments)."""
    found = [n.strip() for item in names for n in item.split(",") if n.strip()]
    if roster:
        path = Path(roster)
        if not path.is_file():
            raise SetupError(f"--students-file: no file at {path}")
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                found.append(line)
    return [check_username(n, "--students") for n in dict.fromkeys(found)]


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def run_as(name: str, what: str, function, *args) -> None:
    """Call ``function(*args)`` in a child process that runs as user ``name``: root never writes into a
    user's home itself, where a planted link would redirect the write. ``what`` names the work for
    the error message."""
    user = pwd.getpwnam(name)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: drop to the user, do the work, leave without running any cleanup
        status = 1
        try:
            os.initgroups(name, user.pw_gid)
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            os.environ.update(HOME=user.pw_dir, USER=name, LOGNAME=name)
            os.chdir(user.pw_dir)
            os.umask(0o022)
            function(*args)
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise SetupError(f"could not {what} as {name} (see the error above)")


def write_private(path: Path, text: str) -> None:
    """Write a file that only root may read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- users ----------------------------------------------------------------------------------------------


def create_user(name: str) -> str:
    """A new system user with a private home and a random password; returns the password."""
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", name], check=True)
    password = secrets.token_urlsafe(12)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
    return password


def make_home_private(name: str) -> None:
    home = Path(pwd.getpwnam(name).pw_dir)
    info = os.lstat(home)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise SetupError(f"{name}'s home {home} is not a plain folder; fix it before adding {name} to the class")
    if info.st_uid != pwd.getpwnam(name).pw_uid:
        raise SetupError(f"{name}'s home {home} belongs to another user; fix it before adding {name} to the class")
    os.chmod(home, 0o700)


def check_environment_usable(python_env: Path, name: str = "nobody") -> None:
    """User ``name`` can start Python from the course's environment and import what a server needs."""
    python = python_env / "bin" / "python"
    try:
        user = pwd.getpwnam(name)
    except KeyError:
        print(f"  (no user {name} to try the environment {python_env} as; not checked)")
        return
    try:
        result = subprocess.run(
            [str(python), "-c", "import jupyterhub, jupyterlab, nbgrader, cnnlib"],
            user=user.pw_uid, group=user.pw_gid, extra_groups=[], cwd="/", capture_output=True, text=True,
            env={"PATH": "/usr/bin:/bin", "HOME": "/"},
        )
        problem = result.stderr.strip()[-500:] if result.returncode else None
    except PermissionError as exc:
        problem = str(exc)
    if problem:
        raise SetupError(
            f"other users cannot use the Python environment {python_env}: {problem}\n"
            "Every folder above it and above its interpreter must be open to all users (a pyenv Python or a clone "
            "under /root is not). Install the course into an environment of its own, e.g. /opt/cnn-course/venv "
            "(README: Running a class on JupyterHub), or for a trial add --shared-env DIR, which makes a small "
            "environment on the system's Python that uses this one's packages."
        )


def solutions_warning(python_env: Path) -> str | None:
    """A warning when students can read the course's notebooks with their solutions: the environment is
    an editable install of a clone that everyone can read (fine for a trial, not for a class)."""
    notebooks = REPO / "notebooks"
    if not notebooks.is_dir() or not str(python_env.resolve()).startswith(str(REPO)):
        return None
    if os.stat(notebooks).st_mode & stat.S_IROTH:
        return (
            f"WARNING: students can read {notebooks}, the course's notebooks with their solutions, because the "
            f"hub runs the environment {python_env} inside that clone. For a real class install the course into an "
            "environment of its own (README: Running a class on JupyterHub)."
        )
    return None


# -- what every member gets in ~/.jupyter -----------------------------------------------------------------


def jupyter_settings(role: str, course_id: str, exchange: str) -> dict[str, str]:
    """``{path relative to home: text}`` for a member of the class (role ``instructor`` or ``student``)."""

    def enabled(who: str) -> bool:
        return who == "everyone" or role == "instructor"

    nbgrader = [
        f"{MARKER} for the course {course_id!r}; `classroom.py setup` rewrites it.",
        "c = get_config()  # noqa: F821",
    ]
    if role == "instructor":
        nbgrader += [
            "import os",
            "",
            "# The course folder that `cnncourse` creates and fills; formgrader shows its gradebook.",
            "course = os.path.expanduser('~/course')",
            "if os.path.isfile(os.path.join(course, 'nbgrader_config.py')):",
            "    load_subconfig(os.path.join(course, 'nbgrader_config.py'))  # noqa: F821",
            "c.CourseDirectory.root = course",
        ]
    nbgrader += [f"c.CourseDirectory.course_id = {course_id!r}", f"c.Exchange.root = {exchange!r}", ""]
    lab = {"disabledExtensions": {plugin: not enabled(who) for plugin, who in LAB_PLUGINS.items()}}
    server = {"ServerApp": {"jpserver_extensions": {ext: enabled(who) for ext, who in SERVER_EXTENSIONS.items()}}}
    return {
        ".jupyter/nbgrader_config.py": "\n".join(nbgrader),
        ".jupyter/labconfig/page_config.d/cnn-course.json": json.dumps(lab, indent=1) + "\n",
        ".jupyter/jupyter_server_config.d/cnn-course.json": json.dumps(server, indent=1) + "\n",
        # no pop-ups about JupyterLab news and updates in class (only when the user has no setting)
        ".jupyter/lab/user-settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            json.dumps({"fetchNews": "false", "checkForUpdates": False}) + "\n",
    }


def write_jupyter_settings(files: dict[str, str]) -> None:
    """Write ``{path relative to home: text}``, as the user; keep an nbgrader_config.py or a Lab
    setting that the user wrote."""
    home = Path.home()
    for relative, text in files.items():
        path = home / relative
        if path.exists():
            current = path.read_text(errors="replace")
            if current == text:
                continue
            keep = relative.endswith(".jupyterlab-settings") or (relative.endswith("nbgrader_config.py") and MARKER not in current)
            if keep:
                if relative.endswith("nbgrader_config.py"):
                    print(f"  {path}: kept (not written by this script); make sure it sets the course id and the exchange")
                continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)


PROFILE_BEGIN = "# >>> cnn-course >>>"
PROFILE_END = "# <<< cnn-course <<<"


def profile_block(python_env: str) -> str:
    """Lines for ``~/.profile``: JupyterLab's terminals are login shells, and a login resets PATH
    (Debian's /etc/profile), so the course's commands (cnncourse, python, jupyter) need putting
    back in front."""
    bindir = str(Path(python_env) / "bin")
    return (
        f"{PROFILE_BEGIN}\n"
        "# written by deploy/jupyterhub/classroom.py: the course's Python environment first\n"
        f'case ":$PATH:" in *":{bindir}:"*) ;; *) PATH="{bindir}:$PATH" ;; esac\n'
        f"{PROFILE_END}\n"
    )


def write_profile(block: str) -> None:
    """Put ``block`` into ``~/.profile`` (replacing an earlier one), as the user."""
    path = Path.home() / ".profile"
    text = path.read_text() if path.exists() else ""
    if PROFILE_BEGIN in text and PROFILE_END in text:
        head, rest = text.split(PROFILE_BEGIN, 1)
        text = head + rest.split(PROFILE_END, 1)[1].lstrip("\n")
    text = text + ("" if not text or text.endswith("\n") else "\n") + block
    tmp = path.with_name(path.name + ".cnn-course.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def copy_notebooks(files: dict[str, bytes]) -> None:
    """Put ``{name: contents}`` into ``~/notebooks``, as the user; an existing notebook is kept."""
    target = Path.home() / "notebooks"
    target.mkdir(exist_ok=True)
    for name, data in files.items():
        if not (target / name).exists():
            (target / name).write_bytes(data)


# -- the exchange -------------------------------------------------------------------------------------------


def prepare_exchange_root(root: Path) -> bool:
    """The exchange's root: owned by root, world-writable with the sticky bit (nbgrader requires o+rwx; the
    sticky bit stops a student from renaming or deleting the course's folder). True when it was created."""
    if root.is_symlink():
        raise SetupError(f"--exchange: {root} is a symbolic link; give the real folder")
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    for parent in root.parents:  # every user must be able to reach it
        if parent.exists() and not os.stat(parent).st_mode & stat.S_IXOTH:
            raise SetupError(f"--exchange: {root} is inside {parent}, which other users cannot enter; choose another place")
    os.chown(root, 0, 0)
    os.chmod(root, 0o1777)
    return created


def make_course_folders(root: str, course_id: str) -> None:
    """The course's folders in the exchange, made by the instructor (nbgrader checks that the
    instructor owns them)."""
    # nbgrader's own modes (nbgrader/exchange/default/release_assignment.py): the course and outbound
    # readable by all; inbound writable but not listable by students (setgid: the instructor's group);
    # feedback enterable only (students open their own page by its hashed name)
    course = Path(root) / course_id
    for path, mode in ((course, 0o755), (course / "outbound", 0o755), (course / "inbound", 0o2733), (course / "feedback", 0o711)):
        if not path.exists():
            path.mkdir()
            os.chmod(path, mode)
        elif os.stat(path).st_uid != os.getuid():
            raise PermissionError(f"{path} exists and belongs to another user; remove it (as root) and run setup again")


# -- commands ------------------------------------------------------------------------------------------------


def load_class(class_dir: Path) -> dict:
    path = class_dir / "class.json"
    if not path.is_file():
        raise SetupError(f"--class-dir: no class at {class_dir} (run `classroom.py setup` first)")
    return json.loads(path.read_text())


def setup_class(class_dir: Path, instructor: str, students: list[str], exchange: Path, course_id: str,
                python_env: Path, data: str | None = None, notebooks: Path | None = None,
                shared_env: Path | None = None) -> dict:
    """Create or extend the class; returns its settings (what ``class.json`` holds)."""
    require_root()
    check_username(instructor, "--instructor")
    if not re.match(r"^[A-Za-z0-9_-]+$", course_id):
        raise SetupError(f"--course-id: {course_id!r} must be letters, digits, '_' and '-' only")
    if instructor in students:
        raise SetupError(f"--students: {instructor} is the instructor and cannot also be a student")
    if not (python_env / "bin" / "jupyterhub-singleuser").is_file():
        raise SetupError(f"--python-env: {python_env} has no bin/jupyterhub-singleuser; install the course there with `pip install '.[hub]'`")
    if data and not Path(data).is_dir():
        raise SetupError(f"--data: no folder at {data}")
    settings = {"course_id": course_id, "exchange": str(exchange), "instructor": instructor, "students": [],
                "python_env": str(shared_env or python_env), "data": data, "created_users": [],
                "built_env": shared_env is not None, "created_exchange": False}
    if (class_dir / "class.json").is_file():
        old = load_class(class_dir)
        for key in ("course_id", "exchange", "instructor"):
            if old[key] != settings[key]:
                raise SetupError(f"{class_dir} is already a class with {key} {old[key]!r}; use another --class-dir or `remove` it first")
        for key in ("students", "created_users", "created_exchange"):
            settings[key] = old[key]
        settings["data"] = data or old.get("data")
    if shared_env is not None:
        try:
            shared_env_build(python_env, shared_env)
        except RuntimeError as exc:
            raise SetupError(f"--shared-env: {exc}") from exc
        print(f"  {shared_env}: an environment on the system's Python with the packages of {python_env}")
        python_env = shared_env
    check_environment_usable(python_env)

    class_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(class_dir, 0o700)  # the hub's database, cookie secret and the passwords: root only

    def save(passwords: dict[str, str]) -> None:  # after every change, so that `remove` can undo a half setup
        if passwords:
            path = class_dir / "passwords.txt"
            lines = path.read_text().splitlines() if path.is_file() else []
            lines = [line for line in lines if line.split(" ", 1)[0] not in passwords]
            write_private(path, "\n".join(lines + [f"{name} {password}" for name, password in passwords.items()]) + "\n")
        write_private(class_dir / "class.json", json.dumps(settings, indent=1) + "\n")

    for name in [instructor, *students]:
        if not user_exists(name):
            password = create_user(name)
            settings["created_users"].append(name)
            save({name: password})
            print(f"  created the user {name}")
        make_home_private(name)
    settings["students"] += [name for name in students if name not in settings["students"]]
    if prepare_exchange_root(exchange):
        settings["created_exchange"] = True
    save({})

    run_as(instructor, "create the course's folders in the exchange", make_course_folders, str(exchange), course_id)
    for name in [instructor, *settings["students"]]:
        role = "instructor" if name == instructor else "student"
        run_as(name, "write the Jupyter settings", write_jupyter_settings, jupyter_settings(role, course_id, str(exchange)))
        run_as(name, "add the course's commands to ~/.profile", write_profile, profile_block(str(python_env)))
    if notebooks is not None:
        files = {p.name: p.read_bytes() for p in sorted(Path(notebooks).glob("[0-9][0-9]_*.ipynb"))}
        if not files:
            raise SetupError(f"--notebooks: no course notebooks (NN_name.ipynb) in {notebooks}")
        run_as(instructor, "copy the course notebooks", copy_notebooks, files)
    return settings


def cmd_setup(args) -> int:
    students = parse_students(args.students or [], args.students_file)
    settings = setup_class(Path(args.class_dir), args.instructor, students, Path(args.exchange), args.course_id,
                           Path(args.python_env), args.data, Path(args.notebooks) if args.notebooks else None,
                           Path(args.shared_env) if args.shared_env else None)
    print(f"class {settings['course_id']}: instructor {settings['instructor']}, {len(settings['students'])} student(s); "
          f"exchange {settings['exchange']}; settings in {args.class_dir}/class.json")
    if (Path(args.class_dir) / "passwords.txt").is_file():
        print(f"passwords of the users created here: {args.class_dir}/passwords.txt (root only; hand them out, users change them with `passwd`)")
    warning = solutions_warning(Path(args.python_env))
    if warning:
        print(warning)
    return 0


def cmd_add_students(args) -> int:
    class_dir = Path(args.class_dir)
    old = load_class(class_dir)
    students = parse_students(args.names, args.students_file)
    setup_class(class_dir, old["instructor"], students, Path(old["exchange"]), old["course_id"], Path(old["python_env"]), old.get("data"))
    print(f"added {', '.join(students) or 'nobody'}; restart the hub so that they may log in")
    return 0


def hub_command(class_dir: Path, ip: str, port: int, api_port: int, proxy_api_port: int) -> tuple[list[str], dict]:
    """The command line and environment that start JupyterHub for the class."""
    if not PROXY.is_file():
        raise SetupError(f"configurable-http-proxy is not installed: run `bash {HERE / 'install-proxy.sh'}` (or `make hub-proxy`)")
    load_class(class_dir)
    env = dict(os.environ)
    env.update(CNN_HUB_CLASS_DIR=str(class_dir), CNN_HUB_IP=ip, CNN_HUB_PORT=str(port),
               CNN_HUB_API_PORT=str(api_port), CNN_HUB_PROXY_API_PORT=str(proxy_api_port))
    return [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], env


def start(class_dir: Path, ip: str, port: int, api_port: int, proxy_api_port: int) -> int:
    """Become JupyterHub (exec): Ctrl-C or SIGTERM reach the hub itself, which then stops the users'
    servers and the proxy."""
    require_root()
    command, env = hub_command(class_dir, ip, port or free_port(), api_port or free_port(), proxy_api_port or free_port())
    host = "127.0.0.1" if ip in ("", "0.0.0.0") else ip
    print(f"JupyterHub for {class_dir}: http://{host}:{env['CNN_HUB_PORT']}/  (Ctrl-C stops it)", flush=True)
    os.chdir(class_dir)
    os.execve(command[0], command, env)


def cmd_start(args) -> int:
    return start(Path(args.class_dir), args.ip, args.port, args.api_port, args.proxy_api_port)


def cmd_trial(args) -> int:
    class_dir = Path(TRIAL_CLASS_DIR)
    shared = None if runnable_by_everyone(Path(sys.prefix) / "bin" / "python") else Path(TRIAL_SHARED_ENV)
    setup_class(class_dir, TRIAL_INSTRUCTOR, TRIAL_STUDENTS, Path(TRIAL_EXCHANGE), DEFAULT_COURSE_ID,
                Path(sys.prefix), os.environ.get("CNNLIB_DATA"), REPO / "notebooks", shared)
    passwords = dict(line.split(" ", 1) for line in (class_dir / "passwords.txt").read_text().splitlines() if line)
    print(f"\nA trial class in {class_dir}. Log in as (user password):")
    for name in [TRIAL_INSTRUCTOR, *TRIAL_STUDENTS]:
        print(f"  {name:14s} {passwords.get(name, '(your own password)')}" + ("   the instructor" if name == TRIAL_INSTRUCTOR else ""))
    print(f"As {TRIAL_INSTRUCTOR}, open a Terminal in JupyterLab and release notebook 03 to the students:\n"
          "  cnncourse release --exchange notebooks/03_output_size_arithmetic.ipynb\n"
          "then, after a student has submitted it from the Assignments tab (Nbgrader menu):\n"
          "  cnncourse collect && cnncourse grade && cnncourse feedback --release\n"
          f"Remove the trial's users and files afterwards with `make hub-clean`.")
    warning = solutions_warning(Path(sys.prefix))
    if warning:
        print(warning)
    print()
    return start(class_dir, "127.0.0.1", args.port, 0, 0)


def remove_class(class_dir: Path) -> list[str]:
    """Delete the users that setup created (with their homes), the course's exchange folder and the class folder."""
    require_root()
    settings = load_class(class_dir)
    problems = []
    for name in settings["created_users"]:
        if user_exists(name):
            result = subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
            if result.returncode not in (0, 12):  # 12: the mail spool was not there
                problems.append(f"userdel {name}: {result.stderr.strip()}")
            if user_exists(name) or result.returncode not in (0, 12):
                continue
        try:  # useradd --user-group made a group of the same name
            grp.getgrnam(name)
            subprocess.run(["groupdel", name], capture_output=True)
        except KeyError:
            pass
    course = Path(settings["exchange"]) / settings["course_id"]
    shutil.rmtree(course, ignore_errors=True)
    if course.exists():
        problems.append(f"could not remove {course}")
    elif settings.get("created_exchange"):
        try:  # the exchange's root too, when setup made it and no other course uses it
            Path(settings["exchange"]).rmdir()
        except OSError:
            pass
    if settings.get("built_env"):  # the --shared-env that setup built
        shutil.rmtree(settings["python_env"], ignore_errors=True)
    shutil.rmtree(class_dir, ignore_errors=True)
    return problems


def cmd_remove(args) -> int:
    class_dir = Path(args.class_dir)
    settings = load_class(class_dir)
    if not args.yes:
        print(f"this deletes the users {', '.join(settings['created_users']) or '(none)'} with their home folders (their work), "
              f"{Path(settings['exchange']) / settings['course_id']} and {class_dir}; run again with --yes to do it")
        return 1
    problems = remove_class(class_dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"removed the class in {class_dir}" + (" (with problems, see above)" if problems else ""))
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="classroom.py", description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def class_dir(p):
        p.add_argument("--class-dir", default=DEFAULT_CLASS_DIR, help=f"the class's folder (default {DEFAULT_CLASS_DIR})")

    p = sub.add_parser("setup", help="create or extend a class: users, exchange, everyone's Jupyter settings")
    class_dir(p)
    p.add_argument("--instructor", required=True, help="the instructor's login name (created if missing)")
    p.add_argument("--students", action="append", help="students' login names, comma-separated (repeatable; created if missing)")
    p.add_argument("--students-file", help="a roster: one login name a line")
    p.add_argument("--exchange", default=DEFAULT_EXCHANGE, help=f"nbgrader's exchange folder (default {DEFAULT_EXCHANGE})")
    p.add_argument("--course-id", default=DEFAULT_COURSE_ID, help=f"nbgrader's course id (default {DEFAULT_COURSE_ID})")
    p.add_argument("--python-env", default=sys.prefix, help="the Python environment the users' servers run (default: this one)")
    p.add_argument("--data", help="a folder with the data sets (CNNLIB_DATA for everyone)")
    p.add_argument("--notebooks", help="copy the course notebooks from this folder into the instructor's ~/notebooks")
    p.add_argument("--shared-env", help="for a trial whose --python-env only root can run: build this folder, an environment "
                   "on the system's Python that uses --python-env's packages, and run the users' servers from it")
    p.set_defaults(func=cmd_setup)

    p = sub.add_parser("add-students", help="add students to a class (restart the hub afterwards)")
    class_dir(p)
    p.add_argument("names", nargs="*", help="login names")
    p.add_argument("--students-file", help="a roster: one login name a line")
    p.set_defaults(func=cmd_add_students)

    p = sub.add_parser("start", help="run the class's JupyterHub in the foreground")
    class_dir(p)
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=8000, help="public port (default 8000; 0: a free one)")
    p.add_argument("--api-port", type=int, default=8081, help="the hub's internal API port (default 8081; 0: a free one)")
    p.add_argument("--proxy-api-port", type=int, default=8001, help="the proxy's internal API port (default 8001; 0: a free one)")
    p.set_defaults(func=cmd_start)

    p = sub.add_parser("trial", help=f"a trial class in {TRIAL_CLASS_DIR} ({TRIAL_INSTRUCTOR}, {', '.join(TRIAL_STUDENTS)}), started on a free port")
    p.add_argument("--port", type=int, default=0, help="public port (default: a free one)")
    p.set_defaults(func=cmd_trial)

    p = sub.add_parser("remove", help="delete the users setup created (and their homes), the course's exchange folder and the class folder")
    class_dir(p)
    p.add_argument("--yes", action="store_true", help="really delete")
    p.set_defaults(func=cmd_remove)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SetupError as exc:
        print(f"classroom.py {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

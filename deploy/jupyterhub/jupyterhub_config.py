# JupyterHub's configuration for the course on one machine: local system users, each running their
# own JupyterLab (LocalProcessSpawner) from the course's Python environment, nbgrader's exchange for
# releasing, submitting, collecting and feedback.
#
# Everything that differs between classes is in the class folder that `classroom.py setup` writes
# (default /srv/cnn-course; `CNN_HUB_CLASS_DIR` points here at another one):
#
#   class.json                 course id, exchange, instructor, students, Python environment, data
#   jupyterhub.sqlite, jupyterhub_cookie_secret, jupyterhub-proxy.pid    the hub's own state
#   jupyterhub_config_local.py  optional: your own settings, loaded last (TLS, another
#                               authenticator, resource limits); see README "Running a class on
#                               JupyterHub"
#
# `classroom.py start` runs `jupyterhub -f <this file>` as root (LocalProcessSpawner starts each
# user's server as that user) and sets the ports through the environment:
#   CNN_HUB_IP (default 127.0.0.1), CNN_HUB_PORT (8000), CNN_HUB_API_PORT (8081),
#   CNN_HUB_PROXY_API_PORT (8001)
import json
import os
from pathlib import Path

c = get_config()  # noqa: F821

HERE = Path(__file__).resolve().parent
CLASS_DIR = Path(os.environ.get("CNN_HUB_CLASS_DIR", "/srv/cnn-course"))
settings_path = CLASS_DIR / "class.json"
if not settings_path.is_file():
    raise SystemExit(f"no class at {CLASS_DIR}: run `classroom.py setup --class-dir {CLASS_DIR} ...` first (see README)")
settings = json.loads(settings_path.read_text())
python_bin = Path(settings["python_env"]) / "bin"

# -- network: the public port (the proxy), the hub's API and the proxy's API ---------------------------
ip = os.environ.get("CNN_HUB_IP", "127.0.0.1")
c.JupyterHub.bind_url = f"http://{ip}:{os.environ.get('CNN_HUB_PORT', '8000')}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{os.environ.get('CNN_HUB_API_PORT', '8081')}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('CNN_HUB_PROXY_API_PORT', '8001')}"
# configurable-http-proxy, pinned in proxy/package.json and installed by install-proxy.sh
c.ConfigurableHTTPProxy.command = [str(HERE / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(CLASS_DIR / "jupyterhub-proxy.pid")

# -- the hub's own state lives in the class folder ------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{CLASS_DIR / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(CLASS_DIR / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(CLASS_DIR / "jupyterhub.pid")

# -- who may log in: the class's system users, with their system passwords (PAM) -------------------------
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(settings["students"]) | {settings["instructor"]}
# The instructor sees the class in the hub's admin page and may start and stop a student's server,
# but cannot open it (JupyterHub's admin role could: its `access:servers` reads every home). To let
# the instructor in, add that scope in jupyterhub_config_local.py.
c.JupyterHub.load_roles = [
    {
        "name": "instructor",
        "description": "lists the class's users and starts or stops their servers",
        "scopes": ["admin-ui", "list:users", "read:users", "admin:servers"],
        "users": [settings["instructor"]],
    }
]

# -- each user's own JupyterLab, started as that user in their home folder -------------------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(python_bin / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120  # a busy machine takes a while to import JupyterLab for many users
c.Spawner.http_timeout = 120
environment = {
    "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin",
    # `cnncourse release --exchange`, `collect` and `feedback --release` in the instructor's terminal
    "CNNCOURSE_EXCHANGE": settings["exchange"],
    "CNNCOURSE_COURSE_ID": settings["course_id"],
}
if settings.get("data"):
    environment["CNNLIB_DATA"] = settings["data"]  # MNIST and CIFAR-10 for the notebooks that use them
c.Spawner.environment = environment

# -- site-specific settings, kept out of this file --------------------------------------------------------
local = CLASS_DIR / "jupyterhub_config_local.py"
if local.is_file():
    load_subconfig(str(local))  # noqa: F821

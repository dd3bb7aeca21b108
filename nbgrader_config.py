# nbgrader's configuration for the course, read by formgrader and nbgrader's other JupyterLab
# extensions when JupyterLab is started from this folder (`make lab`).
#
# The course folder is ./course (or $CNNCOURSE_DIR), the folder that `cnncourse release` creates
# and `cnncourse grade` fills; formgrader shows the gradebook there. When that folder has its own
# nbgrader_config.py (written by `cnncourse` on first use, with the gradebook URL given by `--db`),
# it is loaded too, so both tools see the same gradebook.
import os

c = get_config()  # noqa: F821

_here = os.path.dirname(os.path.abspath(__file__))
_course = os.path.abspath(os.path.join(_here, os.environ.get("CNNCOURSE_DIR", "course")))

if os.path.isfile(os.path.join(_course, "nbgrader_config.py")):
    load_subconfig(os.path.join(_course, "nbgrader_config.py"))  # noqa: F821

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.root = _course
if "db_url" not in c.CourseDirectory:
    c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_course, "gradebook.db")
# The student version's stub, as `cnncourse release` writes it.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# nbgrader's exchange (release/collect through JupyterLab's Assignments tab), kept inside the course
# folder instead of the system-wide /srv/nbgrader/exchange.
c.Exchange.root = os.path.join(_course, ".cnncourse", "exchange")
if os.path.isdir(_course):
    try:
        os.makedirs(c.Exchange.root, exist_ok=True)
    except OSError:
        pass  # formgrader then says that release and collect through the exchange are unavailable

#!/usr/bin/env bash
# Install the Debian packages that the tests and the grader use, when they are missing:
#   chromium            the real-browser test of the course in JupyterLab (tests/browser)
#   postgresql          the autograder's PostgreSQL gradebook test
#   bubblewrap          the grader's outer sandbox (no network, read-only file system, course
#                       folder hidden); without it the grader uses its in-process layers only
#   nodejs, npm         JupyterHub's proxy for the JupyterHub test (tests/hub), installed from npm
#                       by deploy/jupyterhub/install-proxy.sh (it needs Node.js 20 or newer)
# Only as root on a Debian/Ubuntu machine; elsewhere print what is missing and go on
# (those tests then skip with a reason). A second run installs nothing.
set -u
missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${missing[*]} from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || echo "system-deps: could not install ${missing[*]}; the tests that need them will skip"
else
  echo "system-deps: ${missing[*]} not installed (needs root and apt); the tests that need them will skip"
fi
exit 0

#!/usr/bin/env bash
# Installs the Debian packages named, with apt-get (as root, or through sudo): the one place the
# project's scripts (test.sh, deploy/cluster.sh, loadtests/run.sh, loadtests/bench-ranking.sh)
# install what they need and this machine lacks. Each works out its own list; with none, this
# does nothing. apt-get's output goes to stderr, so a caller's stdout stays its own.
#   deploy/install-packages.sh <package>...
set -uo pipefail
[ $# -gt 0 ] || exit 0
echo "Installing $* (apt-get) ..." >&2
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2 \
  || { echo "could not install $*" >&2; exit 1; }

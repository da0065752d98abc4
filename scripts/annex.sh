#!/usr/bin/env bash
# Makes sure git-annex (Debian's package) is installed, for the end-to-end git-annex tests, and
# prints the `git-annex` executable as the last line of stdout (see apt-tool.sh).
#
#   bash scripts/annex.sh
exec bash "$(dirname "${BASH_SOURCE[0]}")/apt-tool.sh" git-annex git-annex

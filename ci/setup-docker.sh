#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs Debian's docker.io if missing and starts dockerd if it is not running, for the Testcontainers tests.
# Idempotent. Needs root; without it (or where dockerd cannot start) the container tests skip with the reason.
set -uo pipefail

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io) >/tmp/docker-install.log 2>&1 \
      || echo "docker: installing docker.io failed (see /tmp/docker-install.log)"
  else
    echo "docker: dockerd missing and not root; container tests will skip"
    exit 0
  fi
fi

if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v dockerd >/dev/null 2>&1; then
    nohup dockerd >/tmp/dockerd.log 2>&1 &
    for _ in $(seq 1 60); do
      docker info >/dev/null 2>&1 && break
      sleep 0.5
    done
  fi
fi

if docker info >/dev/null 2>&1; then
  echo "docker: engine $(docker info --format '{{.ServerVersion}}' 2>/dev/null) running"
else
  echo "docker: engine not running (see /tmp/dockerd.log); container tests will skip"
fi

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Prepares this machine for the whole test suite (`mvn verify`): what /dev/kvm runs need (ci/setup-kvm-host.sh:
# hugepages, the /dev/kvm check) and the Docker engine for the container tests (ci/setup-docker.sh, which
# installs it where it is missing). Idempotent.
set -euo pipefail
"$(dirname "$0")/setup-kvm-host.sh"
"$(dirname "$0")/setup-docker.sh"

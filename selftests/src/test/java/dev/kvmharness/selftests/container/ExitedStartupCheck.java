// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests.container;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import org.testcontainers.containers.startupcheck.StartupCheckStrategy;

/**
 * A one-shot container has "started" once it has exited, whatever its exit code: a selftest's 4 (skip) and
 * 254 (failure) are results to assert on, not startup failures.
 */
final class ExitedStartupCheck extends StartupCheckStrategy {
    @Override
    public StartupStatus checkStartupState(DockerClient dockerClient, String containerId) {
        InspectContainerResponse.ContainerState state = getCurrentState(dockerClient, containerId);
        return Boolean.TRUE.equals(state.getRunning()) ? StartupStatus.NOT_YET_KNOWN : StartupStatus.SUCCESSFUL;
    }
}

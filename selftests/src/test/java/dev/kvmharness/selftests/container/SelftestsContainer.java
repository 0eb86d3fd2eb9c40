// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests.container;

import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Device;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import com.github.dockerjava.api.exception.NotFoundException;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.utility.DockerImageName;

/**
 * selftests.jar in a FROM-scratch container (ci/container), started by Testcontainers with /dev/kvm passed in
 * as a device, the way a privileged CI runner would run it. {@code --privileged} is not needed: the device,
 * plus CAP_SYS_PTRACE and an unconfined seccomp profile for userfaultfd, are enough.
 */
final class SelftestsContainer {
    private static final String IMAGE = "kvm-selftests-it:latest";
    private static String image;

    record Result(long exitCode, String out, String err) {
    }

    private SelftestsContainer() {
    }

    /** The image's name, built once per JVM from the packaged jar; the build context is deleted afterwards. */
    static synchronized String image() throws IOException, InterruptedException {
        if (image == null) {
            Path ctx = Files.createTempDirectory("kvm-selftests-image");
            Process p = new ProcessBuilder("../ci/container/build-context.sh", ctx.toString(), "target/selftests.jar")
                    .redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IllegalStateException("ci/container/build-context.sh failed:\n" + log);
            }
            // Replace the previous run's image rather than leave it dangling.
            try {
                DockerClientFactory.instance().client().removeImageCmd(IMAGE).withForce(true).exec();
            } catch (NotFoundException e) {
                // first build on this machine
            }
            try {
                image = new ImageFromDockerfile(IMAGE, false).withFileFromPath(".", ctx).get();
            } finally {
                try (var files = Files.walk(ctx)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        }
        return image;
    }

    /** Runs the image with {@code args}; {@code withKvm} passes /dev/kvm in. Returns once the container exited. */
    static Result run(boolean withKvm, String... args) throws IOException, InterruptedException {
        try (GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(image()))) {
            c.withCommand(args)
                    .withCreateContainerCmdModifier(cmd -> {
                        if (withKvm) {
                            cmd.getHostConfig().withDevices(Device.parse("/dev/kvm"))
                                    .withCapAdd(Capability.SYS_PTRACE)
                                    .withSecurityOpts(List.of("seccomp=unconfined"));
                        }
                    })
                    .withStartupCheckStrategy(new ExitedStartupCheck().withTimeout(Duration.ofMinutes(3)));
            c.start();
            long exit = c.getDockerClient().inspectContainerCmd(c.getContainerId()).exec().getState().getExitCodeLong();
            return new Result(exit, c.getLogs(OutputFrame.OutputType.STDOUT), c.getLogs(OutputFrame.OutputType.STDERR));
        }
    }
}

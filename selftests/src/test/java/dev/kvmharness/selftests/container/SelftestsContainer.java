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
 * selftests.jar in a FROM-scratch container (ci/container), started by Testcontainers the way a locked-down CI
 * runner would: /dev/kvm as the only device, no network, a read-only root with a tmpfs /tmp, a non-root user
 * in /dev/kvm's group and no capabilities; only userfaultfd runs need more ({@link Access#KVM_USERFAULTFD}).
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

    /**
     * How the container is given KVM. Every mode runs with no network, a read-only root filesystem with a tmpfs
     * /tmp, and every capability dropped but what the mode names.
     */
    enum Access {
        /** No /dev/kvm: the simulator, or a skip on --backend kvm. Non-root. */
        NONE,
        /** /dev/kvm as the only device, as a non-root user in the device's group: enough for every test without -u. */
        KVM,
        /**
         * /dev/kvm for userfaultfd runs (-u) where vm.unprivileged_userfaultfd is 0: the userfaultfd syscall then
         * needs CAP_SYS_PTRACE, and Docker hands added capabilities only to root (no ambient capabilities for
         * other users), so uid 0 with CAP_SYS_PTRACE alone, and seccomp unconfined for the syscall.
         */
        KVM_USERFAULTFD
    }

    /** The unprivileged user the container runs as (nobody). */
    static final String USER = "65534";

    /** Runs the image with {@code args}; {@code withKvm} passes /dev/kvm in. Returns once the container exited. */
    static Result run(boolean withKvm, String... args) throws IOException, InterruptedException {
        return run(withKvm ? Access.KVM_USERFAULTFD : Access.NONE, args);
    }

    static Result run(Access access, String... args) throws IOException, InterruptedException {
        try (GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(image()))) {
            c.withCommand(args)
                    .withCreateContainerCmdModifier(cmd -> {
                        var host = cmd.getHostConfig().withNetworkMode("none").withReadonlyRootfs(true)
                                .withTmpFs(java.util.Map.of("/tmp", "rw,nosuid,nodev,size=256m"))
                                .withCapDrop(Capability.ALL);
                        switch (access) {
                            case NONE -> cmd.withUser(USER + ":" + USER);
                            case KVM -> {
                                host.withDevices(Device.parse("/dev/kvm"));
                                cmd.withUser(kvmUser());
                            }
                            case KVM_USERFAULTFD -> {
                                host.withDevices(Device.parse("/dev/kvm")).withCapAdd(Capability.SYS_PTRACE)
                                        .withSecurityOpts(List.of("seccomp=unconfined"));
                                cmd.withUser("0:0");
                            }
                        }
                    })
                    .withStartupCheckStrategy(new ExitedStartupCheck().withTimeout(Duration.ofMinutes(3)));
            c.start();
            long exit = c.getDockerClient().inspectContainerCmd(c.getContainerId()).exec().getState().getExitCodeLong();
            return new Result(exit, c.getLogs(OutputFrame.OutputType.STDOUT), c.getLogs(OutputFrame.OutputType.STDERR));
        }
    }

    /**
     * Who the container runs as to open the host's /dev/kvm with no capabilities: nobody in the device's group,
     * as on a distribution that makes it root:kvm 0660. Where the group has no access (a host whose /dev/kvm is
     * root:root 0600), only its owner can open it, so the container runs as that uid, still with every
     * capability dropped; ci/matrix.py decides the same way.
     */
    static String kvmUser() {
        try {
            Path kvm = Path.of("/dev/kvm");
            Object gid = Files.getAttribute(kvm, "unix:gid");
            int mode = (Integer) Files.getAttribute(kvm, "unix:mode");
            boolean groupRw = (mode & 0060) == 0060;
            return (groupRw ? USER : Files.getAttribute(kvm, "unix:uid").toString()) + ":" + gid;
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalStateException("cannot read /dev/kvm's owner and mode", e);
        }
    }
}

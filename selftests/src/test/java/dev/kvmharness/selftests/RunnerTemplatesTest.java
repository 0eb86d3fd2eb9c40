// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The runner templates under ci/runners parse, and say what the README promises: a self-hosted KVM runner
 * running the main job sharded and the tests; an indexed Job whose pods split the suite with --shard
 * indexed/N for N completions, with /dev/kvm from the device plugin, a read-only root, a tmpfs /tmp, a
 * non-root user and no capabilities. And the options they pass are ones the CLI accepts.
 */
class RunnerTemplatesTest {
    private static final Path DIR = Path.of("..", "ci", "runners");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static JsonNode read(String name) throws IOException {
        return YAML.readTree(DIR.resolve(name).toFile());
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void theGithubWorkflowRunsOnAKvmRunnerShardedAndRunsTheTests() throws IOException {
        JsonNode jobs = read("github-actions-kvm.yml").path("jobs");
        JsonNode selftests = jobs.path("selftests");
        assertThat(texts(selftests.path("runs-on"))).contains("self-hosted", "kvm");
        assertThat(texts(selftests.path("strategy").path("matrix").path("shard"))).containsExactly("1", "2");
        assertThat(texts(selftests.path("strategy").path("matrix").path("backend"))).containsExactly("sim", "kvm");
        assertThat(selftests.path("steps").findValuesAsText("run"))
                .contains("ci/selftests.sh --backend ${{ matrix.backend }} --shard ${{ matrix.shard }}/2");
        assertThat(jobs.path("tests").path("steps").findValuesAsText("run")).contains("ci/setup-host.sh && mvn -B verify");
    }

    @Test
    void theIndexedJobSplitsTheSuiteAcrossItsPodsWithOnlyKvm() throws IOException {
        JsonNode job = read("k8s-indexed-job.yaml");
        assertThat(job.path("kind").asText()).isEqualTo("Job");
        JsonNode spec = job.path("spec");
        assertThat(spec.path("completionMode").asText()).isEqualTo("Indexed");
        int n = spec.path("completions").asInt();
        assertThat(spec.path("parallelism").asInt()).isEqualTo(n);
        JsonNode pod = spec.path("template").path("spec");
        assertThat(pod.path("restartPolicy").asText()).isEqualTo("Never");
        assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).isTrue();
        JsonNode c = pod.path("containers").get(0);
        List<String> args = texts(c.path("args"));
        assertThat(args).containsSequence("--shard", "indexed/" + n).containsSequence("--backend", "kvm");
        assertThat(c.path("resources").path("limits").path("devices.kubevirt.io/kvm").asText()).isEqualTo("1");
        JsonNode sc = c.path("securityContext");
        assertThat(sc.path("readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(sc.path("allowPrivilegeEscalation").asBoolean()).isFalse();
        assertThat(texts(sc.path("capabilities").path("drop"))).containsExactly("ALL");
        assertThat(sc.path("capabilities").path("add").isMissingNode()).as("no capability added").isTrue();
        assertThat(c.path("volumeMounts").findValuesAsText("mountPath")).contains("/tmp");
        // what the pod passes, the runner accepts: pod 0 of n is shard 1/n
        assertThat(Shard.parse("indexed/" + n, "0")).isEqualTo(new Shard(1, n));
        assertThat(Main.commandLine().parseArgs(args.toArray(String[]::new)).errors()).isEmpty();
    }
}
